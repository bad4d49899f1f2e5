//! The started server under test as the later stages see it, whoever runs
//! it: a child process (built-in server or `--target-cmd`) with exit status,
//! resources and logs, or a `--target-addr` server that is someone else's
//! process and only has an address.

use crate::subject::{Pauser, RunningTarget};
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, TargetOutput};
use std::net::SocketAddr;
use std::time::Duration;

/// How long the stderr reader may take to deliver the last lines of a
/// killed server.
const LOG_SETTLE: Duration = Duration::from_millis(500);

/// What the runner needs from the scenario's server, whoever runs it.
pub enum Live {
    /// A child process (built-in server or `--target-cmd`).
    Process(Box<RunningTarget>),
    /// `--target-addr`: someone else's process.
    Attached(SocketAddr),
}

/// What is left of a server once it was stopped.
pub struct Stopped {
    /// How the kill ended it (`None`: attached, already gone, or not reaped).
    pub killed: Option<ExitInfo>,
    pub events: Vec<ServerEvent>,
    /// What the process wrote; `None` for someone else's process.
    pub output: Option<TargetOutput>,
}

impl Live {
    /// What freezes the target's process tree for `pause` steps; `None`
    /// for `--target-addr` (not our process: nothing to freeze).
    pub fn pauser(&self) -> Option<Pauser> {
        match self {
            Live::Process(t) => Some(t.pauser()),
            Live::Attached(_) => None,
        }
    }
    /// The server's pid; `None` for `--target-addr`.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Live::Process(t) => Some(t.pid()),
            Live::Attached(_) => None,
        }
    }
    pub fn addr(&self) -> SocketAddr {
        match self {
            Live::Process(t) => t.addr(),
            Live::Attached(a) => *a,
        }
    }
    pub fn sample(&self, label: &str) -> ResourceSample {
        match self {
            Live::Process(t) => t.sample(label),
            Live::Attached(_) => unknown(label),
        }
    }
    /// Only CPU and run-queue time, threads and pids (see
    /// `RunningTarget::sample_cpu`).
    pub fn sample_cpu(&self, label: &str) -> ResourceSample {
        match self {
            Live::Process(t) => t.sample_cpu(label),
            Live::Attached(_) => unknown(label),
        }
    }
    /// Every thread of the tree asleep waiting for an event (Linux; `None`
    /// elsewhere, for `--target-addr`, or when it cannot be read): see
    /// `netrepro_sys::process::resources::all_asleep`.
    pub fn all_asleep(&self) -> Option<bool> {
        match self {
            Live::Process(t) => {
                netrepro_sys::process::resources::all_asleep(&t.sample_cpu("asleep").pids)
            }
            Live::Attached(_) => None,
        }
    }
    pub fn try_exit(&mut self) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.try_exit(),
            Live::Attached(_) => None,
        }
    }
    pub async fn wait_exit(&mut self, d: Duration) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.wait_exit(d).await,
            Live::Attached(_) => None,
        }
    }
    pub async fn kill(&mut self) -> Option<ExitInfo> {
        match self {
            Live::Process(t) => t.kill().await,
            Live::Attached(_) => None,
        }
    }
    pub async fn settle_logs(&self, d: Duration) {
        if let Live::Process(t) = self {
            t.settle_logs(d).await;
        }
    }
    pub fn events(&self) -> Vec<ServerEvent> {
        match self {
            Live::Process(t) => t.events(),
            Live::Attached(_) => Vec::new(),
        }
    }
    /// What the process wrote; `None` for someone else's process.
    pub fn output(&self) -> Option<TargetOutput> {
        match self {
            Live::Process(t) => Some(t.output()),
            Live::Attached(_) => None,
        }
    }
    pub fn attached(&self) -> bool {
        matches!(self, Live::Attached(_))
    }

    /// Kill the server with its whole tree, then collect what it reported
    /// (its last stderr lines arrive after the kill).
    pub async fn stop(&mut self) -> Stopped {
        let killed = self.kill().await;
        self.settle_logs(LOG_SETTLE).await;
        Stopped {
            killed,
            events: self.events(),
            output: self.output(),
        }
    }
}

/// Someone else's process: nothing is known.
fn unknown(label: &str) -> ResourceSample {
    ResourceSample {
        label: label.to_string(),
        ..Default::default()
    }
}
