//! Process control the kill path needs, behind one seam: list a process's
//! live descendants, stop / kill / terminate one process, and wait for our
//! own children to exit, suspend / resume one process (a scenario's
//! `pause` / `resume`). Every OS file provides the same functions with the
//! same signatures (Linux: /proc; macOS: libproc `proc_listchildpids`;
//! elsewhere, Windows included, where a Job object does the work: nothing).

#[cfg(unix)]
mod signals;

#[cfg(target_os = "linux")]
#[path = "procctl/linux.rs"]
mod os;

#[cfg(target_os = "macos")]
#[path = "procctl/macos.rs"]
mod os;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
#[path = "procctl/other.rs"]
mod os;

#[cfg(windows)]
#[path = "procctl/suspend_nt.rs"]
mod suspend_nt;

/// Linux: per-thread states, for the resource sampler's run-queue check,
/// and the reader of small `/proc` files it shares with the kill path.
#[cfg(target_os = "linux")]
pub(crate) use os::{read_small, thread_states};

#[allow(unused_imports)] // not every OS uses every function
pub use os::{
    become_subreaper, descendants, kill, kill_group, resume, stop, suspend, terminate, wait_exited,
    wait_stopped, SUPERVISOR_AVAILABLE,
};

/// Breadth-first walk from `root` through `children`, root excluded, each pid
/// once, at most `max` pids (a fork bomb cannot make the walk unbounded).
#[allow(dead_code)] // unused where `descendants` has nothing to walk
pub fn walk(root: u32, max: usize, mut children: impl FnMut(u32) -> Vec<u32>) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut seen = std::collections::HashSet::from([root]);
    let mut next = 0;
    let mut frontier = vec![root];
    while next < frontier.len() && out.len() < max {
        for c in children(frontier[next]) {
            if out.len() < max && seen.insert(c) {
                out.push(c);
                frontier.push(c);
            }
        }
        next += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::walk;

    #[test]
    fn walk_visits_each_descendant_once_and_stops_at_max() {
        // 1 -> 2, 3; 2 -> 4; 4 -> 1 (a cycle from a stale table must not loop)
        let children = |p: u32| match p {
            1 => vec![2, 3],
            2 => vec![4],
            4 => vec![1],
            _ => vec![],
        };
        assert_eq!(walk(1, 100, children), vec![2, 3, 4]);
        assert_eq!(walk(1, 2, children), vec![2, 3]);
        assert_eq!(walk(3, 100, children), Vec::<u32>::new());
    }
}
