//! Why a server under test did not become a ready target.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("server exited before it was ready ({exit}); stderr: {stderr}")]
    ExitedEarly { exit: String, stderr: String },
    #[error("server printed no `LISTENING <addr>` line within {0:?}")]
    NotReady(Duration),
    #[error("server printed an unreadable readiness line: {0:?}")]
    BadReadyLine(String),
    #[error(
        "server printed no `LISTENING <addr>` line and {addr} did not {how} within {waited:?}"
    )]
    NeverListened {
        addr: SocketAddr,
        how: &'static str,
        waited: Duration,
    },
}
