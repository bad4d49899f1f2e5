//! The runner's bounds and the program that provides the built-in servers:
//! one [`RunConfig`] for every run of a `netrepro run`.

use netrepro_scenario::Platform;
use std::path::PathBuf;
use std::time::Duration;

/// Bounds and the server binary used by the runner.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The netrepro binary that provides `serve` (normally the current exe).
    pub server_program: PathBuf,
    /// How long a server may take to print `LISTENING`.
    pub ready_timeout: Duration,
    /// How long the liveness probe may take (plus the scenario's reply delay).
    pub probe_timeout: Duration,
    /// After a failed probe: how long to wait for the process to finish dying.
    pub exit_grace: Duration,
    /// How long resources may take to come back after the clients closed.
    pub settle_timeout: Duration,
    /// The platform whose expectations apply (normally this host).
    pub platform: Platform,
    /// Overrides the per-run backstop (`backstop::limit`); tests only.
    pub cell_backstop: Option<Duration>,
}

impl RunConfig {
    pub fn new(server_program: PathBuf) -> RunConfig {
        RunConfig {
            server_program,
            ready_timeout: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
            exit_grace: Duration::from_millis(500),
            settle_timeout: Duration::from_millis(1500),
            platform: Platform::current(),
            cell_backstop: None,
        }
    }
}
