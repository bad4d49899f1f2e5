//! Linux: everything from /proc.
//!
//! Tree: the live descendants found by the kill path's walk
//! (`procctl::descendants`: a /proc scan by parent pid). Per process: `/proc/PID/stat` (state, utime, stime, num_threads) and
//! the links in `/proc/PID/fd`. Socket inodes are matched against the root's
//! network namespace's tables tcp, udp, unix, tcp6, udp6, read in that order
//! and only until every socket inode is found: each is the whole
//! namespace's table, so an IPv4 TCP server costs one table, not five
//! (issue 16.2). TCP and UDP come from a `sock_diag` netlink dump when the
//! target shares this thread's namespace (one hash walk, no TIME_WAIT rows:
//! a sixth of the kernel time of `/proc/PID/net/tcp`, see `sock_diag`),
//! else from `/proc/PID/net/*`.

use super::{
    classify_link, parse_proc_net_tcp, parse_proc_net_unix, sock_diag, socket_inode, Root, TcpRow,
    MAX_TREE,
};
use crate::process::procctl;
use crate::process::sample::{FdKind, ResourceSample};
use std::collections::HashSet;

pub fn sample(root: &Root) -> ResourceSample {
    let Some(root_stat) = stat(root.pid).filter(|s| !s.exited) else {
        // A zombie's fd table is empty: that is not "0 fds", it is unknown.
        return ResourceSample::default();
    };
    if std::fs::read_dir(format!("/proc/{}/fd", root.pid)).is_err() {
        // Gone (or not ours to read): nothing is known.
        return ResourceSample::default();
    }
    let pids = tree(root.pid, root.supervisor);
    let tick_ms = 1000.0 / clock_ticks_per_sec();

    let mut out = ResourceSample::default();
    let mut fds = 0u64;
    let mut threads = 0u64;
    let mut cpu_ticks = 0u64;
    let mut runnable_ns = Some(0u64);
    let mut live = Vec::with_capacity(pids.len());
    let mut tcp_inodes = HashSet::new();
    let mut udp_inodes = HashSet::new();
    // Socket inodes of every descriptor (one per descriptor, duplicates
    // included), classified once the tables are read.
    let mut sockets = Vec::new();
    for pid in pids {
        let st = if pid == root.pid {
            Some(root_stat)
        } else {
            stat(pid)
        };
        let Some(st) = st.filter(|s| !s.exited) else {
            continue; // a child that exited between the walk and now
        };
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        live.push(pid);
        runnable_ns = match (runnable_ns, runnable(pid)) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        threads += st.threads;
        cpu_ticks += st.cpu_ticks;
        for entry in dir.flatten() {
            fds += 1;
            match std::fs::read_link(entry.path()) {
                Ok(target) => match target.to_str().map(|l| (l, socket_inode(l))) {
                    Some((_, Some(ino))) => sockets.push(ino),
                    Some((link, None)) => {
                        *out.fds_by_type.entry(classify_link(link)).or_default() += 1
                    }
                    None => *out.fds_by_type.entry(FdKind::File).or_default() += 1,
                },
                // Closed between the listing and the read: still counted once.
                Err(_) => *out.fds_by_type.entry(FdKind::Other).or_default() += 1,
            }
        }
    }
    let net = NetView::read(root.pid, &sockets);
    for ino in sockets {
        let kind = classify(ino, &net, &mut tcp_inodes, &mut udp_inodes);
        *out.fds_by_type.entry(kind).or_default() += 1;
    }
    out.fds = Some(fds);
    out.threads = Some(threads);
    out.processes = Some(live.len() as u64);
    out.cpu_ms = Some((cpu_ticks as f64 * tick_ms) as u64);
    out.runnable_ms = runnable_ns.map(|n| n / 1_000_000);
    if net.known {
        out.tcp_sockets = Some(tcp_inodes.len() as u64);
        out.udp_sockets = Some(udp_inodes.len() as u64);
        out.close_wait = Some(super::count_close_wait(&net.tcp, &tcp_inodes));
    }
    out.sockets = out
        .fds_by_type
        .iter()
        .filter(|(k, _)| matches!(k, FdKind::Tcp | FdKind::Udp | FdKind::Unix | FdKind::Socket))
        .map(|(_, n)| *n)
        .reduce(|a, b| a + b)
        .or(Some(0));
    out.pids = live;
    out
}

/// The type of the socket with inode `ino`; TCP and UDP inodes are collected.
fn classify(ino: u64, net: &NetView, tcp: &mut HashSet<u64>, udp: &mut HashSet<u64>) -> FdKind {
    if net.tcp_inodes.contains(&ino) {
        tcp.insert(ino);
        FdKind::Tcp
    } else if net.udp_inodes.contains(&ino) {
        udp.insert(ino);
        FdKind::Udp
    } else if net.unix_inodes.contains(&ino) {
        FdKind::Unix
    } else {
        FdKind::Socket
    }
}

/// The socket tables of the root's network namespace.
struct NetView {
    known: bool,
    tcp: Vec<TcpRow>,
    tcp_inodes: HashSet<u64>,
    udp_inodes: HashSet<u64>,
    unix_inodes: HashSet<u64>,
}

impl NetView {
    /// The rows of `/proc/PID/net/*` that name one of `sockets`, reading the
    /// tables in the order of [`TABLES`] and stopping once every inode is
    /// found (a socket is in exactly one table). `known` says whether the
    /// TCP table could be read at all.
    fn read(pid: u32, sockets: &[u64]) -> NetView {
        let read = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).ok();
        let mut left: HashSet<u64> = sockets.iter().copied().collect();
        let mut view = NetView {
            known: false,
            tcp: Vec::new(),
            tcp_inodes: HashSet::new(),
            udp_inodes: HashSet::new(),
            unix_inodes: HashSet::new(),
        };
        // A netlink dump sees this thread's namespace: used when that is
        // the target's (always, but for a target started elsewhere).
        let diag = sock_diag::same_netns(pid);
        let rows = |table: Table| -> Option<Vec<TcpRow>> {
            if let Some((proto, v6)) = table.diag().filter(|_| diag) {
                if let Ok(rows) = sock_diag::dump(proto, v6) {
                    return Some(rows);
                }
            }
            read(table.file()).map(|text| parse_proc_net_tcp(&text))
        };
        for table in TABLES {
            // Done once every socket is found and socket types are known.
            if left.is_empty() && view.known {
                break;
            }
            match table {
                Table::Tcp | Table::Tcp6 => {
                    let Some(rows) = rows(table) else { continue };
                    view.known = true;
                    for r in rows.into_iter().filter(|r| left.remove(&r.inode)) {
                        view.tcp_inodes.insert(r.inode);
                        view.tcp.push(r);
                    }
                }
                Table::Udp | Table::Udp6 => {
                    for r in rows(table).unwrap_or_default() {
                        if left.remove(&r.inode) {
                            view.udp_inodes.insert(r.inode);
                        }
                    }
                }
                Table::Unix => {
                    let Some(text) = read(table.file()) else {
                        continue;
                    };
                    for ino in parse_proc_net_unix(&text) {
                        if left.remove(&ino) {
                            view.unix_inodes.insert(ino);
                        }
                    }
                }
            }
        }
        view
    }
}

/// The socket tables of `/proc/PID/net`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Tcp,
    Udp,
    Unix,
    Tcp6,
    Udp6,
}

/// Read order: the families servers under test use most come first. A TCP
/// table is always read (it says whether socket types are known at all).
const TABLES: [Table; 5] = [
    Table::Tcp,
    Table::Udp,
    Table::Unix,
    Table::Tcp6,
    Table::Udp6,
];

impl Table {
    /// The netlink dump that lists this table's sockets (not Unix ones).
    fn diag(self) -> Option<(sock_diag::Proto, bool)> {
        match self {
            Table::Tcp => Some((sock_diag::Proto::Tcp, false)),
            Table::Tcp6 => Some((sock_diag::Proto::Tcp, true)),
            Table::Udp => Some((sock_diag::Proto::Udp, false)),
            Table::Udp6 => Some((sock_diag::Proto::Udp, true)),
            Table::Unix => None,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Table::Tcp => "tcp",
            Table::Udp => "udp",
            Table::Unix => "unix",
            Table::Tcp6 => "tcp6",
            Table::Udp6 => "udp6",
        }
    }
}

/// On-CPU plus run-queue wait time (ns) of every thread of `pid`: the first
/// two fields of `/proc/PID/task/TID/schedstat` (kernel
/// Documentation/scheduler/sched-stats.rst; needs CONFIG_SCHED_INFO).
/// `None` if the files are missing.
fn runnable(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0u64;
    let mut any = false;
    for t in tasks.flatten() {
        // A thread that ended since the listing: its time is gone anyway.
        if let Ok(text) = std::fs::read_to_string(t.path().join("schedstat")) {
            let mut f = text.split_whitespace().map(|v| v.parse::<u64>().ok());
            if let (Some(Some(run)), Some(Some(wait))) = (f.next(), f.next()) {
                total += run + wait;
                any = true;
            }
        }
    }
    any.then_some(total)
}

/// Any thread of `pids` in state `R` (see `resources::runnable_now`).
pub fn runnable_now(pids: &[u32]) -> Option<bool> {
    let mut seen = false;
    for &pid in pids {
        let Some(states) = procctl::thread_states(pid) else {
            continue;
        };
        seen |= !states.is_empty();
        if states.contains(&Some('R')) {
            return Some(true);
        }
    }
    seen.then_some(false)
}

/// Every thread of `pids` in state `S` (see `resources::all_asleep`).
pub fn all_asleep(pids: &[u32]) -> Option<bool> {
    let mut seen = false;
    for &pid in pids {
        let states = procctl::thread_states(pid)?;
        seen |= !states.is_empty();
        if states.iter().any(|s| *s != Some('S')) {
            return Some(false);
        }
    }
    seen.then_some(true)
}

#[derive(Debug, Clone, Copy)]
struct Stat {
    exited: bool,
    cpu_ticks: u64,
    threads: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `pid (comm) S ppid ...`: fields after the last ')' (comm may contain
/// ')'); state is field 3, utime 14, stime 15, num_threads 20 (proc(5)).
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let state = f.first()?.chars().next()?;
    Some(Stat {
        exited: matches!(state, 'Z' | 'X' | 'x'),
        cpu_ticks: field(14)? + field(15)?,
        threads: field(20)?,
    })
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// The root and its live descendants, root first, at most `MAX_TREE`.
/// The target and its descendants; under a supervisor, also the orphans it
/// adopted (every descendant of the supervisor but the target, which is
/// listed first).
fn tree(root: u32, supervisor: Option<u32>) -> Vec<u32> {
    let mut pids = vec![root];
    let from = supervisor.unwrap_or(root);
    let rest = crate::process::procctl::descendants(from, MAX_TREE);
    pids.extend(rest.into_iter().filter(|&p| p != root).take(MAX_TREE - 1));
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_comm_with_parens() {
        let s = parse_stat("42 (a) b) S 7 42 42 0 -1 4194560 100 0 0 0 15 6 0 0 20 0 3 0 100 1000 200 18446744073709551615").unwrap();
        assert!(!s.exited);
        assert_eq!((s.cpu_ticks, s.threads), (21, 3));
        let z = parse_stat("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0").unwrap();
        assert!(z.exited);
        assert!(parse_stat("9 (x) S").is_none());
    }

    #[test]
    fn runnable_is_state_r_of_any_thread() {
        // This thread is running while it reads its own stat.
        assert_eq!(runnable_now(&[std::process::id()]), Some(true));
        // A sleeping child is not runnable; nothing readable is unknown.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let sleeping = (0..200).any(|_| {
            std::thread::yield_now();
            runnable_now(&[pid]) == Some(false)
        });
        let _ = child.kill();
        let _ = child.wait();
        assert!(sleeping, "sleep(1) never seen sleeping");
        assert_eq!(runnable_now(&[u32::MAX]), None);
    }

    #[test]
    fn all_asleep_is_every_thread_in_state_s() {
        // This thread is running while it reads its own stat.
        assert_eq!(all_asleep(&[std::process::id()]), Some(false));
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        // Bounded: a fresh child is asleep within its first scheduling.
        let asleep = (0..200).any(|_| {
            std::thread::yield_now();
            all_asleep(&[pid]) == Some(true)
        });
        // Killed and not yet reaped: a zombie is not asleep.
        let _ = child.kill();
        let zombie = (0..200).any(|_| {
            std::thread::yield_now();
            all_asleep(&[pid]) == Some(false)
        });
        let _ = child.wait();
        assert!(asleep, "sleep(1) never seen asleep");
        assert!(zombie, "the killed child never seen as not asleep");
        // Reaped: a process of the tree gone makes the answer unknown.
        assert_eq!(all_asleep(&[pid, std::process::id()]), None);
        assert_eq!(all_asleep(&[u32::MAX]), None);
    }

    #[test]
    fn samples_this_test_process_and_a_child() {
        let me = std::process::id();
        let st = stat(me).unwrap();
        assert!(st.threads >= 1);
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let t = tree(me, None);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(t[0], me);
        assert!(t.contains(&child.id()), "{t:?}");
    }
}
