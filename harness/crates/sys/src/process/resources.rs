//! Resource sampling of the target's whole process tree (the started
//! process and every descendant: fork-per-connection children, `sh -c`
//! wrappers, preforked workers): descriptors by type, TCP/UDP sockets,
//! CLOSE_WAIT, threads, processes and CPU time. The OS-specific part lives
//! behind the `os` seam: each platform file provides
//! `fn sample(root: &Root) -> ResourceSample` (label and time are filled in
//! by the caller). Linux reads /proc, macOS libproc, Windows the Job object
//! and the IP helper tables.

use crate::process::sample::ResourceSample;
use std::collections::HashSet;

/// At most this many processes are walked per sample: a fork bomb must not
/// make one sample unbounded.
pub const MAX_TREE: usize = 4096;

/// What the sampler is told about the started process.
pub struct Root<'a> {
    pub pid: u32,
    #[cfg_attr(not(windows), allow(dead_code))]
    pub child: &'a tokio::process::Child,
    /// Linux, supervised targets: the supervisor's pid. Descendants whose
    /// parent exited were adopted by it (child subreaper), so the tree is
    /// the target plus every other descendant of the supervisor.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub supervisor: Option<u32>,
    /// Windows: the raw handle value of the target's Job object, if any.
    #[cfg_attr(not(windows), allow(dead_code))]
    pub job: Option<usize>,
}

// Used by the Windows sampler; compiled everywhere so its tests run everywhere.
#[cfg_attr(not(windows), allow(dead_code))]
pub mod tcp_table;

#[cfg(target_os = "linux")]
#[path = "resources/linux.rs"]
mod os;

#[cfg(target_os = "linux")]
#[path = "resources/sock_diag.rs"]
mod sock_diag;

#[cfg(target_os = "macos")]
#[path = "resources/macos.rs"]
mod os;

#[cfg(windows)]
#[path = "resources/windows.rs"]
mod os;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[path = "resources/other.rs"]
mod os;

/// Sample the tree rooted at `root` (label and `t_ms` left for the caller).
/// The pids in the Windows Job whose handle value is `job` (the tree a
/// scenario's `pause` suspends).
#[cfg(windows)]
pub fn job_pids(job: usize) -> Option<Vec<u32>> {
    os::job_pids(job)
}

pub fn sample(root: &Root) -> ResourceSample {
    os::sample(root)
}

/// Only the tree's threads, CPU and run-queue time (and its pids), for a
/// measurement of CPU use: on Linux a fraction of a full [`sample`]'s cost
/// (no descriptors, no socket tables); elsewhere the full sample.
#[cfg(target_os = "linux")]
pub fn sample_cpu(root: &Root) -> ResourceSample {
    os::sample_cpu(root)
}

/// See the Linux version: elsewhere the full sample.
#[cfg(not(target_os = "linux"))]
pub fn sample_cpu(root: &Root) -> ResourceSample {
    os::sample(root)
}

/// Is a thread of `pids` runnable right now (running, or waiting for a
/// CPU)? Linux: state `R` in `/proc/PID/task/TID/stat`. `None` where the
/// platform does not tell or no thread could be read. The busy check needs
/// it because schedstat adds a thread's run-queue wait only once the thread
/// is picked to run: a spinning server that waits for a CPU through a whole
/// measurement window shows no time used in it.
#[cfg(target_os = "linux")]
pub fn runnable_now(pids: &[u32]) -> Option<bool> {
    os::runnable_now(pids)
}

/// See the Linux version: elsewhere the state is not read.
#[cfg(not(target_os = "linux"))]
pub fn runnable_now(_pids: &[u32]) -> Option<bool> {
    None
}

/// Is every thread of `pids` asleep, waiting for an event (state `S`: blocked
/// in a read, accept, poll or sleep), none running, exiting or a zombie?
/// Linux: `/proc/PID/task/TID/stat`. `None` where the platform does not
/// tell or no thread could be read. After a probe that timed out, such a
/// server is waiting, not dying: it needs no grace to finish an exit.
#[cfg(target_os = "linux")]
pub fn all_asleep(pids: &[u32]) -> Option<bool> {
    os::all_asleep(pids)
}

/// See the Linux version: elsewhere the state is not read.
#[cfg(not(target_os = "linux"))]
pub fn all_asleep(_pids: &[u32]) -> Option<bool> {
    None
}

/// TCP state code of CLOSE_WAIT in `/proc/net/tcp` (`TCP_CLOSE_WAIT`).
pub const TCP_CLOSE_WAIT: u8 = 0x08;
/// TCP state code of TIME_WAIT (`TCP_TIME_WAIT`): a row without a socket.
pub const TCP_TIME_WAIT: u8 = 0x06;

/// One socket row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRow {
    /// The `st` column (hex in the file).
    pub state: u8,
    /// The `inode` column.
    pub inode: u64,
}

/// Parse the text of `/proc/net/tcp` / `/proc/net/tcp6`. The header line and
/// malformed rows are skipped. Columns: `sl local rem st tx:rx tr:when
/// retrnsmt uid timeout inode ...`; `st` is the 4th and `inode` the 10th
/// whitespace-separated field.
///
/// Only rows of a socket (inode not 0) are returned: every consumer matches
/// rows by inode, and a busy host's table is mostly TIME_WAIT rows, which
/// belong to no socket (the kernel prints inode 0). Those are dropped at
/// their `st` column and fields are split only up to `inode`: thousands of
/// TIME_WAIT rows (a test suite's own connections, for 60 s each) made
/// this parse most of a run's CPU time (issue 16.2, measured with perf).
pub fn parse_proc_net_tcp(text: &str) -> Vec<TcpRow> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            if !f.next()?.ends_with(':') {
                return None;
            }
            // local, rem, st
            let state = u8::from_str_radix(f.nth(2)?, 16).ok()?;
            if state == TCP_TIME_WAIT {
                return None;
            }
            // tx:rx, tr:when, retrnsmt, uid, timeout, inode
            let inode = f.nth(5)?.parse().ok()?;
            (inode != 0).then_some(TcpRow { state, inode })
        })
        .collect()
}

/// Number of rows in CLOSE_WAIT whose inode is one of `inodes` (inode 0
/// means "no socket" in the file and never matches).
pub fn count_close_wait(rows: &[TcpRow], inodes: &HashSet<u64>) -> u64 {
    rows.iter()
        .filter(|r| r.state == TCP_CLOSE_WAIT && r.inode != 0 && inodes.contains(&r.inode))
        .count() as u64
}

/// `socket:[12345]` (a `/proc/PID/fd/N` link target) -> 12345.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Inodes of the sockets listed in `/proc/net/unix` (columns `Num RefCount
/// Protocol Flags Type St Inode Path`; the header and bad rows are skipped).
pub fn parse_proc_net_unix(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 7 || !f[0].ends_with(':') {
                return None;
            }
            f[6].parse().ok().filter(|i| *i != 0)
        })
        .collect()
}

/// The type of a non-socket `/proc/PID/fd/N` link target.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn classify_link(link: &str) -> crate::process::sample::FdKind {
    use crate::process::sample::FdKind;
    if link.starts_with("pipe:[") {
        FdKind::Pipe
    } else if link.starts_with("anon_inode:") {
        FdKind::AnonInode
    } else if link.starts_with("socket:[") {
        FdKind::Socket
    } else if link.starts_with('/') {
        FdKind::File
    } else {
        FdKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_socket_inodes() {
        let t = "Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 31337 /run/x.sock
0000000000000000: 00000003 00000000 00000000 0001 03 4242
junk
";
        assert_eq!(parse_proc_net_unix(t), vec![31337, 4242]);
    }

    #[test]
    fn link_kinds() {
        use crate::process::sample::FdKind;
        assert_eq!(classify_link("pipe:[12]"), FdKind::Pipe);
        assert_eq!(classify_link("anon_inode:[eventpoll]"), FdKind::AnonInode);
        assert_eq!(classify_link("/dev/null"), FdKind::File);
        assert_eq!(classify_link("socket:[1]"), FdKind::Socket);
        assert_eq!(classify_link("net:[4026531840]"), FdKind::Other);
    }

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 08 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C350 0100007F:1F90 07 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F91 0100007F:C351 08 00000000:00000000 00:00000000 00000000  1000        0 7777 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:C352 0100007F:1F90 06 00000000:00000000 03:00001723 00000000     0        0 0 3 0000000000000000
   5: 0100007F:1F92 0100007F:C353 08 00000000:00000000
";

    const TCP6: &str = "\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:D431 08 00000000:00000000 00:00000000 00000000  1000        0 9001 1 0000000000000000 20 4 0 10 -1
garbage line
";

    #[test]
    fn parses_state_and_inode() {
        // Rows without a socket (inode 0, TIME_WAIT) and cut rows are left out.
        let rows = parse_proc_net_tcp(TCP);
        assert_eq!(
            rows,
            vec![
                TcpRow {
                    state: 0x0A,
                    inode: 4242
                },
                TcpRow {
                    state: 0x08,
                    inode: 5555
                },
                TcpRow {
                    state: 0x08,
                    inode: 7777
                },
            ]
        );
        assert_eq!(
            parse_proc_net_tcp(TCP6),
            vec![TcpRow {
                state: 0x08,
                inode: 9001
            }]
        );
        assert!(parse_proc_net_tcp("").is_empty());
    }

    #[test]
    fn counts_only_own_close_wait_sockets() {
        let mut rows = parse_proc_net_tcp(TCP);
        rows.extend(parse_proc_net_tcp(TCP6));
        let own: HashSet<u64> = [4242, 5555, 9001, 0].into_iter().collect();
        // 4242 listens, 7777 is someone else's, 0 never matches.
        assert_eq!(count_close_wait(&rows, &own), 2);
        assert_eq!(count_close_wait(&rows, &HashSet::new()), 0);
    }

    #[test]
    fn socket_link_targets() {
        assert_eq!(socket_inode("socket:[5555]"), Some(5555));
        assert_eq!(socket_inode("pipe:[5555]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }
}
