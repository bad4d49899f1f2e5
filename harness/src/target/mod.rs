//! The server under test as a child process: spawn, wait for readiness,
//! collect its JSON error log, sample its resources, detect exit, and kill it
//! (with its whole process group / Job object) on drop. No child outlives a run.

use crate::observe::{ExitInfo, ResourceSample, ServerEvent};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to start a server process.
#[derive(Debug, Clone)]
pub struct TargetCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// RLIMIT_NOFILE applied in the child before exec (Unix; ignored elsewhere).
    pub max_fds: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("could not start `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("server exited before it was ready ({exit}); stderr: {stderr}")]
    ExitedEarly { exit: String, stderr: String },
    #[error("server printed no `LISTENING <addr>` line within {0:?}")]
    NotReady(Duration),
    #[error("server printed an unreadable readiness line: {0:?}")]
    BadReadyLine(String),
}

pub struct RunningTarget {}

impl RunningTarget {
    pub async fn spawn(_cmd: &TargetCommand, _ready_timeout: Duration) -> Result<RunningTarget, TargetError> {
        todo!()
    }
    pub fn addr(&self) -> SocketAddr {
        todo!()
    }
    pub fn pid(&self) -> u32 {
        todo!()
    }
    /// Exit status if the process has exited (non-blocking).
    pub fn try_exit(&mut self) -> Option<ExitInfo> {
        todo!()
    }
    /// Wait up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, _timeout: Duration) -> Option<ExitInfo> {
        todo!()
    }
    /// Error events parsed from stderr so far.
    pub fn events(&self) -> Vec<ServerEvent> {
        todo!()
    }
    /// Stderr lines that were not events (for diagnostics).
    pub fn stderr_lines(&self) -> Vec<String> {
        todo!()
    }
    pub fn sample(&self, _label: &str) -> ResourceSample {
        todo!()
    }
    /// Wait (bounded) until stderr reached EOF so the last events are in.
    pub async fn settle_logs(&self, _timeout: Duration) {
        todo!()
    }
    /// Kill the process (group) and reap it; returns how it ended.
    pub async fn kill(&mut self) -> Option<ExitInfo> {
        todo!()
    }
}

/// Kill every target process still running (Ctrl-C handler).
pub fn kill_all() {}
