//! What the OS tells about the server's process tree: its resource usage at
//! one moment and how it ended. Filled by the per-OS samplers in
//! [`super::resources`] and [`super::group`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Resource usage of the server's process tree (the started process and
/// every descendant) at one moment. Counters are `None` where the platform
/// (or the moment) cannot tell; see docs/how-it-works.md, "what netrepro can and
/// cannot see" table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceSample {
    /// `baseline` (after readiness), `after` (steps done), `settled` (after the settle wait).
    pub label: String,
    /// Open file descriptors (Unix) or handles (Windows), summed over the tree.
    /// Information only: the leak decision uses the socket, thread and
    /// process counters when they are known.
    pub fds: Option<u64>,
    /// TCP sockets of the tree in CLOSE_WAIT.
    pub close_wait: Option<u64>,
    pub t_ms: u64,
    /// Distinct TCP sockets (any state, listening included) held by the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_sockets: Option<u64>,
    /// Distinct UDP sockets held by the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_sockets: Option<u64>,
    /// Socket descriptors of any kind (macOS, where TCP cannot be told from
    /// other sockets without `socket_fdinfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<u64>,
    /// Threads summed over the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Live processes in the tree (1 = only the started process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// CPU time (user + system) the tree has used so far, in milliseconds.
    /// Only processes alive at the sample count (a reaped child's time is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<u64>,
    /// CPU time plus time spent runnable but waiting for a CPU, summed over
    /// the tree's threads, in milliseconds (Linux `/proc/PID/task/TID/schedstat`).
    /// A process that wants to run all the time gains about the wall time
    /// whatever the machine's load; `cpu_ms` alone gains only its share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runnable_ms: Option<u64>,
    /// Descriptors by type, summed over the tree (information, not a verdict).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fds_by_type: BTreeMap<FdKind, u64>,
    /// The pids that were sampled: the started process first, then its
    /// descendants in the order they were found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
}

/// The type of an open descriptor, as far as the OS tells it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FdKind {
    Tcp,
    Udp,
    /// AF_UNIX socket (the JVM opens one at its first socket close).
    Unix,
    /// A socket of another family, or one whose family the OS does not tell.
    Socket,
    /// A pipe (Go's `io.Copy` keeps a pool of splice pipes).
    Pipe,
    /// A path in the file system (regular file, device, directory).
    File,
    /// Linux anon inode: eventfd, epoll, timerfd, signalfd, ...
    AnonInode,
    /// macOS kqueue.
    Kqueue,
    Other,
}

impl FdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FdKind::Tcp => "tcp",
            FdKind::Udp => "udp",
            FdKind::Unix => "unix",
            FdKind::Socket => "socket",
            FdKind::Pipe => "pipe",
            FdKind::File => "file",
            FdKind::AnonInode => "anon_inode",
            FdKind::Kqueue => "kqueue",
            FdKind::Other => "other",
        }
    }
}

/// How a server process ended, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExitInfo {
    pub code: Option<i32>,
    /// Unix signal number.
    pub signal: Option<i32>,
}
