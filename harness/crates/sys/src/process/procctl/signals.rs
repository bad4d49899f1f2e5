//! Unix signal sending shared by the Linux and macOS process-control files:
//! stop, kill, kill a group, ask to terminate.

/// Send `sig` to `pid` (negative: a process group). ESRCH (already gone) and
/// EPERM (not ours any more) are not errors for a kill path.
fn send(pid: i64, sig: libc::c_int) {
    if pid == 0 || pid == -1 || pid.unsigned_abs() > i32::MAX as u64 {
        return; // 0 / -1 would mean "our own group" / "every process"
    }
    // SAFETY: plain syscall on a pid we own or owned.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

pub fn stop(pid: u32) {
    send(pid as i64, libc::SIGSTOP);
}

pub fn kill(pid: u32) {
    send(pid as i64, libc::SIGKILL);
}

pub fn kill_group(pgid: u32) {
    send(-(pgid as i64), libc::SIGKILL);
}

/// Ask `pid` to end (SIGTERM): how netrepro tells a supervisor to sweep.
pub fn terminate(pid: u32) {
    send(pid as i64, libc::SIGTERM);
}

/// Freeze `pid` for a scenario's `pause` (SIGSTOP cannot be caught or
/// ignored, signal(7)); undone by [`resume`].
pub fn suspend(pid: u32) {
    send(pid as i64, libc::SIGSTOP);
}

/// Let a frozen `pid` run again (SIGCONT).
pub fn resume(pid: u32) {
    send(pid as i64, libc::SIGCONT);
}
