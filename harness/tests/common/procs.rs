//! Whether a process is alive, by pid (Linux /proc): the tests that check
//! no process outlives a run.

/// Alive = /proc/<pid> exists and is not a zombie (a zombie has exited; it
/// only waits for its parent to collect the status).
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}
