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

    let mut out = ResourceSample::default();
    let mut fds = 0u64;
    let mut cpu = Cpu::with_capacity(pids.len());
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
        cpu.add(pid, st);
        for entry in dir.flatten() {
            fds += 1;
            match std::fs::read_link(entry.path()) {
                Ok(target) => match target.to_str().map(|l| (l, socket_inode(l))) {
                    Some((_, Some(ino))) => sockets.push((ino, SockProto::of(&entry.path()))),
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
    for (ino, _) in sockets {
        let kind = classify(ino, &net, &mut tcp_inodes, &mut udp_inodes);
        *out.fds_by_type.entry(kind).or_default() += 1;
    }
    out.fds = Some(fds);
    cpu.fill(&mut out);
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
    out
}

/// Only what a measurement of CPU use needs (the busy check): the tree, its
/// threads, CPU and run-queue time. No descriptors and no socket tables:
/// those are most of a full [`sample`]'s cost (the `/proc/PID/fd` links and
/// a sock_diag dump, which walks the whole TCP hash), and the busy check
/// reads none of them.
pub fn sample_cpu(root: &Root) -> ResourceSample {
    if stat(root.pid).filter(|s| !s.exited).is_none() {
        return ResourceSample::default();
    }
    let pids = tree(root.pid, root.supervisor);
    let mut cpu = Cpu::with_capacity(pids.len());
    for pid in pids {
        if let Some(st) = stat(pid).filter(|s| !s.exited) {
            cpu.add(pid, st);
        }
    }
    let mut out = ResourceSample::default();
    cpu.fill(&mut out);
    out
}

/// Threads, CPU and run-queue time of the live processes of a tree.
struct Cpu {
    live: Vec<u32>,
    threads: u64,
    cpu_ticks: u64,
    /// `None` once one process's schedstat could not be read.
    runnable_ns: Option<u64>,
}

impl Cpu {
    fn with_capacity(n: usize) -> Cpu {
        Cpu {
            live: Vec::with_capacity(n),
            threads: 0,
            cpu_ticks: 0,
            runnable_ns: Some(0),
        }
    }

    fn add(&mut self, pid: u32, st: Stat) {
        self.live.push(pid);
        self.runnable_ns = match (self.runnable_ns, runnable(pid)) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.threads += st.threads;
        self.cpu_ticks += st.cpu_ticks;
    }

    fn fill(self, out: &mut ResourceSample) {
        let tick_ms = 1000.0 / clock_ticks_per_sec();
        out.threads = Some(self.threads);
        out.processes = Some(self.live.len() as u64);
        out.cpu_ms = Some((self.cpu_ticks as f64 * tick_ms) as u64);
        out.runnable_ms = self.runnable_ns.map(|n| n / 1_000_000);
        out.pids = self.live;
    }
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

/// The protocol a socket was created with, as the kernel names it: the
/// `system.sockprotoname` attribute of `/proc/PID/fd/N` (the name of the
/// socket's sockfs entry: "TCP", "TCPv6", "UDP", "UDPv6", "UNIX",
/// "UNIX-STREAM", "NETLINK", ...). It says which table a socket can be in,
/// so a sample reads only those: an IPv4 TCP server with the AF_UNIX pair
/// of its runtime cost a TCP dump, a UDP dump and the host's whole
/// `/proc/net/unix` per sample, and now costs the TCP dump (issue 16's
/// per-result overhead). Whether a TCP or UDP socket counts as one is
/// still decided by the table (a TCP socket no hash holds, e.g. reset,
/// is a plain socket, as before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SockProto {
    Tcp,
    Udp,
    Unix,
    /// In none of the tables read (netlink, raw, packet, ...).
    Other,
}

impl SockProto {
    /// `None` when the kernel does not say (then every table is searched).
    fn of(fd_link: &std::path::Path) -> Option<SockProto> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(fd_link.as_os_str().as_bytes()).ok()?;
        let mut buf = [0u8; 64];
        // SAFETY: NUL-terminated path and name; the kernel writes at most
        // `buf.len()` bytes into `buf`.
        let n = unsafe {
            libc::getxattr(
                path.as_ptr(),
                c"system.sockprotoname".as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        let name = buf.get(..usize::try_from(n).ok()?)?;
        Some(Self::named(name.strip_suffix(&[0]).unwrap_or(name)))
    }

    fn named(name: &[u8]) -> SockProto {
        match name {
            b"TCP" | b"TCPv6" => SockProto::Tcp,
            b"UDP" | b"UDPv6" => SockProto::Udp,
            n if n.starts_with(b"UNIX") => SockProto::Unix,
            _ => SockProto::Other,
        }
    }

    /// Can a socket of this protocol (`None`: unknown) be in `table`?
    fn may_be_in(proto: Option<SockProto>, table: Table) -> bool {
        match proto {
            None => true,
            Some(SockProto::Tcp) => matches!(table, Table::Tcp | Table::Tcp6),
            Some(SockProto::Udp) => matches!(table, Table::Udp | Table::Udp6),
            Some(SockProto::Unix | SockProto::Other) => false,
        }
    }
}

impl NetView {
    /// The rows of `/proc/PID/net/*` that name one of `sockets` (inode and
    /// protocol), reading the tables in the order of [`TABLES`] and only
    /// those a socket not found yet can be in (a socket is in exactly one
    /// table; a Unix one is known by its protocol alone). `known` says
    /// whether the TCP table could be read at all; it is always read.
    fn read(pid: u32, sockets: &[(u64, Option<SockProto>)]) -> NetView {
        let read = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).ok();
        let mut view = NetView {
            known: false,
            tcp: Vec::new(),
            tcp_inodes: HashSet::new(),
            udp_inodes: HashSet::new(),
            unix_inodes: HashSet::new(),
        };
        let mut left: std::collections::HashMap<u64, Option<SockProto>> =
            std::collections::HashMap::new();
        for &(ino, proto) in sockets {
            match proto {
                Some(SockProto::Unix) => {
                    view.unix_inodes.insert(ino);
                }
                Some(SockProto::Other) => {}
                _ => {
                    left.insert(ino, proto);
                }
            }
        }
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
            // Skipped once socket types are known and no socket left can be
            // in it (so done once every socket is found).
            if view.known && !left.values().any(|&p| SockProto::may_be_in(p, table)) {
                continue;
            }
            match table {
                Table::Tcp | Table::Tcp6 => {
                    let Some(rows) = rows(table) else { continue };
                    view.known = true;
                    for r in rows.into_iter().filter(|r| left.remove(&r.inode).is_some()) {
                        view.tcp_inodes.insert(r.inode);
                        view.tcp.push(r);
                    }
                }
                Table::Udp | Table::Udp6 => {
                    for r in rows(table).unwrap_or_default() {
                        if left.remove(&r.inode).is_some() {
                            view.udp_inodes.insert(r.inode);
                        }
                    }
                }
                Table::Unix => {
                    let Some(text) = read(table.file()) else {
                        continue;
                    };
                    for ino in parse_proc_net_unix(&text) {
                        if left.remove(&ino).is_some() {
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
        if let Some(text) = procctl::read_small(&t.path().join("schedstat")) {
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
    parse_stat(&procctl::read_small(format!("/proc/{pid}/stat").as_ref())?)
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

    #[test]
    fn the_protocol_of_a_socket_says_which_tables_to_read() {
        use std::os::fd::AsRawFd;
        let fd_path = |fd: i32| std::path::PathBuf::from(format!("/proc/self/fd/{fd}"));
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (unix, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let of = |fd: i32| SockProto::of(&fd_path(fd));
        assert_eq!(of(tcp.as_raw_fd()), Some(SockProto::Tcp));
        assert_eq!(of(udp.as_raw_fd()), Some(SockProto::Udp));
        assert_eq!(of(unix.as_raw_fd()), Some(SockProto::Unix));
        // Not a socket: the kernel does not say.
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(of(file.as_raw_fd()), None);
        assert_eq!(SockProto::named(b"TCPv6"), SockProto::Tcp);
        assert_eq!(SockProto::named(b"UNIX-STREAM"), SockProto::Unix);
        assert_eq!(SockProto::named(b"NETLINK"), SockProto::Other);
        assert!(SockProto::may_be_in(None, Table::Unix));
        assert!(SockProto::may_be_in(Some(SockProto::Tcp), Table::Tcp6));
        assert!(!SockProto::may_be_in(Some(SockProto::Tcp), Table::Udp));
        assert!(!SockProto::may_be_in(Some(SockProto::Unix), Table::Unix));
        // Classified as by the tables: each kind once.
        let sockets = [
            (inode(&fd_path(tcp.as_raw_fd())), of(tcp.as_raw_fd())),
            (inode(&fd_path(udp.as_raw_fd())), of(udp.as_raw_fd())),
            (inode(&fd_path(unix.as_raw_fd())), of(unix.as_raw_fd())),
        ];
        let view = NetView::read(std::process::id(), &sockets);
        assert!(view.known);
        assert!(view.tcp_inodes.contains(&sockets[0].0));
        assert!(view.udp_inodes.contains(&sockets[1].0));
        assert!(view.unix_inodes.contains(&sockets[2].0));
    }

    fn inode(link: &std::path::Path) -> u64 {
        socket_inode(std::fs::read_link(link).unwrap().to_str().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_cpu_sample_has_the_tree_and_its_times_and_nothing_else() {
        let mut child = tokio::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let root = Root {
            pid,
            child: &child,
            supervisor: None,
            job: None,
        };
        let cpu = sample_cpu(&root);
        let full = sample(&root);
        let _ = child.kill().await;
        assert_eq!(cpu.pids, vec![pid]);
        assert_eq!((cpu.processes, cpu.threads), (Some(1), Some(1)));
        assert_eq!((full.processes, full.threads), (Some(1), Some(1)));
        assert!(cpu.cpu_ms.is_some() && cpu.runnable_ms.is_some(), "{cpu:?}");
        // What it leaves out: descriptors and sockets are unknown, not 0.
        assert_eq!((cpu.fds, cpu.tcp_sockets, cpu.sockets), (None, None, None));
        assert!(full.fds.is_some());
        // Gone (reaped): nothing is known.
        let root = Root {
            pid,
            child: &child,
            supervisor: None,
            job: None,
        };
        assert_eq!(sample_cpu(&root).pids, Vec::<u32>::new());
    }
}
