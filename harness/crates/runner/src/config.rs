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
    /// After a failed probe: how long to wait for the process to finish dying
    /// (counted from the probe's start on top of `probe_timeout`; see
    /// `decide::grace`).
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
            // The probe's own limit is the window in which a silent server
            // may die; this is for an exit already under way when it ends
            // (the kernel's teardown and our reap: milliseconds). It is paid
            // by every unserved server, so every hung result: 500 ms made
            // them 0.3 s slower than they need (issue 16). A server that
            // dies later than probe timeout + this is `hung`: the boundary
            // moves from 2.5 s to 2.2 s after the probe's start
            // (tests/probe_verdict.rs: one that dies 1.5 s in is crashed).
            exit_grace: Duration::from_millis(200),
            settle_timeout: Duration::from_millis(1500),
            platform: Platform::current(),
            cell_backstop: None,
        }
    }
}
