//! Linux process control: descendants from a scan of `/proc/*/stat` (the
//! parent pid is field 4, proc(5)), the child-subreaper flag
//! (`PR_SET_CHILD_SUBREAPER`, prctl(2): orphaned descendants are reparented
//! to the nearest subreaper ancestor instead of init, so they stay findable),
//! and waiting for children with pidfds (pidfd_open(2), Linux 5.3).

pub use super::signals::{kill, kill_group, resume, stop, suspend, terminate};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Linux has what `netrepro __supervise` needs (subreaper, parent-death signal).
pub const SUPERVISOR_AVAILABLE: bool = true;

/// Make this process a child subreaper. False if the kernel refused.
pub fn become_subreaper() -> bool {
    // SAFETY: plain prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) == 0 }
}

/// Live (not zombie, not dead) descendants of `root`, breadth-first.
/// From each tree member's `/proc/PID/task/TID/children` (proc(5); a child
/// is listed under the thread that forked it) when the kernel has them
/// (CONFIG_PROC_CHILDREN): a few reads per member of the tree. Otherwise
/// from a scan of every process's `stat`: ~280 reads on a quiet host, and
/// resource samples need this several times per result (a hardened run of
/// the 22 TCP scenarios opened /proc/N/stat 13,170 times, most of its
/// system time; issue 16.2). Both are a snapshot of a moving tree; a
/// process forked or exited during the read may be missed either way.
pub fn descendants(root: u32, max: usize) -> Vec<u32> {
    if children_files() {
        super::walk(root, max, live_children)
    } else {
        descendants_by_scan(root, max)
    }
}

/// Whether this kernel has `/proc/PID/task/TID/children` (checked once).
fn children_files() -> bool {
    static HAVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAVE.get_or_init(|| {
        let me = std::process::id();
        std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists()
    })
}

/// The live children of `pid`, from its threads' `children` files; none
/// when it is gone (nothing to walk or kill below it).
fn live_children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        let Some(list) = read_small(&t.path().join("children")) else {
            continue;
        };
        for c in list
            .split_whitespace()
            .filter_map(|w| w.parse::<u32>().ok())
        {
            // A zombie or dead child is listed until it is reaped.
            let live = read_small(format!("/proc/{c}/stat").as_ref())
                .and_then(|st| parse_stat(&st))
                .is_some_and(|(state, _)| !matches!(state, 'Z' | 'X' | 'x'));
            if live && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// [`descendants`] from a scan of `/proc/*/stat` (the parent pid is field 4).
fn descendants_by_scan(root: u32, max: usize) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        // Gone between readdir and read: fine, it needs no killing.
        let Some(stat) = read_small(format!("/proc/{pid}/stat").as_ref()) else {
            continue;
        };
        if let Some((state, ppid)) = parse_stat(&stat) {
            if !matches!(state, 'Z' | 'X' | 'x') {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    super::walk(root, max, |p| children.get(&p).cloned().unwrap_or_default())
}

/// `pid (comm) S ppid ...` -> (state, ppid). The command name may contain
/// spaces and ')', so fields are counted after the last ')'.
fn parse_stat(text: &str) -> Option<(char, u32)> {
    let (_, rest) = text.rsplit_once(')')?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Wait until each of `pids` (children of ours, not yet reaped, so the pids
/// cannot have been reused) has exited, or `timeout` passes. A pidfd becomes
/// readable when its process exits, reaped or not: an event, not a poll
/// loop. True if all exited in time.
pub fn wait_exited(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut fds: Vec<libc::pollfd> = Vec::new();
    for &p in pids {
        // SAFETY: plain syscall; the fd is closed below.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, p as libc::pid_t, 0) };
        if fd >= 0 {
            fds.push(libc::pollfd {
                fd: fd as libc::c_int,
                events: libc::POLLIN,
                revents: 0,
            });
        } // ESRCH: already gone.
    }
    let mut all = true;
    let mut pending: Vec<libc::pollfd> = fds.clone();
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            all = false;
            break;
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: `pending` is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(pending.as_mut_ptr(), pending.len() as libc::nfds_t, ms) };
        if n < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            all = false;
            break;
        }
        pending.retain(|p| p.revents == 0);
    }
    for p in fds {
        // SAFETY: we opened these fds above and close each once.
        unsafe { libc::close(p.fd) };
    }
    all
}

/// Wait until every thread of each of `pids` is stopped (state `T`, or
/// gone), or `timeout` passes; true if all stopped in time. SIGSTOP stops a
/// process asynchronously: one thread takes the signal and then stops its
/// siblings, so until it has run, another thread can still serve a datagram
/// (seen: a `pause` that let the server answer a client before it closed,
/// 1-2 of 60 runs at 32 jobs). The kernel sends no event for the stop of a
/// process that is not our child (under the supervisor it is not), so the
/// states are checked, every [`STOP_POLL`] at most, bounded by `timeout`.
pub fn wait_stopped(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if pids.iter().all(|&p| all_threads_stopped(p)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(STOP_POLL);
    }
}

/// How often [`wait_stopped`] looks: a stop takes microseconds when the
/// signalled thread gets a CPU, milliseconds on a loaded machine.
const STOP_POLL: Duration = Duration::from_micros(200);

/// Every thread of `pid` is stopped, traced, dead or gone.
fn all_threads_stopped(pid: u32) -> bool {
    thread_states(pid).map_or(true, |states| {
        states
            .iter()
            .all(|s| matches!(s, None | Some('T' | 't' | 'Z' | 'X' | 'x')))
    })
}

/// The state letter of each thread of `pid` whose
/// `/proc/PID/task/TID/stat` could still be read (a thread that ended
/// since the listing is left out; `None` for a line without a state);
/// `None` when the process is gone.
pub(crate) fn thread_states(pid: u32) -> Option<Vec<Option<char>>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        tasks
            .flatten()
            .filter_map(|t| read_small(&t.path().join("stat")))
            .map(|text| state_of(&text))
            .collect(),
    )
}

/// The text of a small `/proc` file (`stat`, `schedstat`): open, then
/// plain reads into a buffer sized for it until EOF, without the size
/// query (statx), the position query (lseek) and the 32-, 64-, 128-byte
/// reads `fs::read_to_string` does for a file that reports size 0 (every
/// `/proc` file). Tree walks read one `stat` per process on the machine,
/// several times per result: 4 system calls per file instead of 9 (issue
/// 16's per-result overhead, counted with strace). `None` if it cannot be
/// read or is larger than [`PROC_READ_MAX`].
pub(crate) fn read_small(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; PROC_READ_CAPACITY];
    let mut len = 0;
    loop {
        if len == buf.len() {
            if len >= PROC_READ_MAX {
                return None;
            }
            buf.resize(len * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).ok()
}

/// Room for a whole `/proc/PID/stat` line (52 numbers and a command name
/// of at most 64 bytes) in the first read; a longer file is still read
/// whole, in more reads.
const PROC_READ_CAPACITY: usize = 1024;
/// Largest file [`read_small`] reads (bounds its loop).
const PROC_READ_MAX: usize = 1 << 20;

/// The state letter of a `/proc/.../stat` line (the field after the last ')').
fn state_of(text: &str) -> Option<char> {
    text.rsplit_once(')')?.1.trim_start().chars().next()
}

#[cfg(test)]
mod tests {
    use super::{descendants_by_scan, parse_stat, read_small, state_of};

    #[test]
    fn small_proc_files_are_read_whole() {
        let me = std::process::id();
        let stat = read_small(format!("/proc/{me}/stat").as_ref()).unwrap();
        assert!(stat.starts_with(&format!("{me} (")), "{stat}");
        assert!(stat.ends_with('\n'));
        // Longer than the first read's room: still whole.
        let maps = read_small("/proc/self/maps".as_ref()).unwrap();
        assert!(maps.len() > super::PROC_READ_CAPACITY, "{}", maps.len());
        assert_eq!(maps, std::fs::read_to_string("/proc/self/maps").unwrap());
        assert_eq!(read_small("/proc/0/stat".as_ref()), None);
    }

    #[test]
    fn the_state_letter_follows_the_last_paren() {
        assert_eq!(state_of("42 (a) b) R 7 42"), Some('R'));
        assert_eq!(state_of("42 (x) S 1"), Some('S'));
        assert_eq!(state_of("42 (x)"), None);
    }

    /// The children files and the scan find the same tree: a shell with
    /// two children of its own below this test process, and not a child
    /// that exited and was not reaped (a zombie).
    #[test]
    fn children_files_and_the_scan_find_the_same_live_tree() {
        use std::process::Command;
        use std::time::{Duration, Instant};
        assert!(super::children_files(), "this kernel has no children files");
        let me = std::process::id();
        let mut zombie = Command::new("true").spawn().unwrap();
        let mut sh = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .unwrap();
        let sorted = |mut v: Vec<u32>| {
            v.sort_unstable();
            v
        };
        // Until the shell has forked both sleeps (bounded, polling /proc).
        let limit = Instant::now() + Duration::from_secs(10);
        let zombie_state = || {
            read_small(format!("/proc/{}/stat", zombie.id()).as_ref())
                .and_then(|st| parse_stat(&st))
                .map(|(state, _)| state)
        };
        while descendants_by_scan(me, 64).len() < 3 || zombie_state() != Some('Z') {
            assert!(Instant::now() < limit, "the shell never forked");
            std::thread::sleep(Duration::from_millis(10));
        }
        let fast = sorted(super::descendants(me, 64));
        let scan = sorted(descendants_by_scan(me, 64));
        for &p in &scan {
            // SAFETY: plain kill(2) of the processes this test started.
            unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
        }
        let _ = sh.wait();
        let _ = zombie.wait();
        assert_eq!(fast, scan);
        assert_eq!(fast.len(), 3, "{fast:?}");
        assert!(fast.contains(&sh.id()) && !fast.contains(&zombie.id()));
    }

    #[test]
    fn stat_fields_after_the_last_paren() {
        assert_eq!(parse_stat("12 (a b) c) S 7 12 12 0"), Some(('S', 7)));
        assert_eq!(parse_stat("12 (x) Z 1 0"), Some(('Z', 1)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
