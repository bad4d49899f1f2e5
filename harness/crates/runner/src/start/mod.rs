//! Where the server under test is started: a built-in server
//! ([`builtin`]: `netrepro serve`), the user's `--target-cmd` program
//! ([`command`]), or nothing at all for a `--target-addr` server that is
//! already running. In forward mode the harness first binds the upstream
//! listener it plays the upstream server on. Before anything connects, the
//! address the server became ready on is checked: loopback only (an
//! announced address) and the scenario's family. Servers start a few at a
//! time ([`STARTS_PER_CPU`]), in the order the runs were started in.

pub mod builtin;
pub mod command;

use crate::config::RunConfig;
use crate::external::{self, ExternalKind, NotLoopback};
use crate::family::{self, FamilyMismatch};
use crate::live::Live;
use crate::plan::Plan;
use crate::subject::TargetError;
use command::CommandError;
use netrepro_scenario::{Mode, Scenario, ServerOptions};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Servers of this process starting (spawned, not yet ready) at once, per
/// CPU. A start is CPU work (exec, dynamic linking, a runtime, an
/// interpreter or a JVM), so 64 runs starting together on 2 cores each got
/// their server ready only after 150-560 ms, the longest runs (started
/// first) as late as the shortest; through this gate the first runs' servers
/// are ready first and the catalog's wall time is its slowest result's own
/// (issue 16). Waiting for a turn is bounded by the ready timeout, after
/// which a start goes ahead anyway, so starts that never become ready
/// cannot hold the others back past their own bound.
pub const STARTS_PER_CPU: usize = 4;

fn starting() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cpus.saturating_mul(STARTS_PER_CPU).max(1))
    })
}

/// A ready server, and the upstream listener in forward mode.
pub struct Started {
    pub target: Live,
    pub upstream: Option<Arc<TcpListener>>,
}

/// Why no ready server could be had. Whose fault it is decides how the
/// result reports it: see [`StartError::blame`].
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The harness's own upstream listener could not be bound.
    #[error("cannot bind the upstream listener: {0}")]
    Upstream(#[source] std::io::Error),
    /// A built-in server did not start or become ready.
    #[error("server did not start: {0}")]
    Builtin(#[source] TargetError),
    /// A `--target-cmd` program did not start or become ready.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A `--target-cmd` program announced a non-loopback address.
    #[error(transparent)]
    Announced(NotLoopback),
    /// The server became ready on an address of the other family.
    #[error(transparent)]
    Family(#[from] FamilyMismatch),
}

/// Whose side a start failure is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The harness's own resources: a harness error, never a verdict.
    Harness,
    /// The user's input (exit code 2): a setup error marked as input.
    Input,
    /// The server or its setup: a setup error.
    Setup,
}

impl StartError {
    pub fn blame(&self) -> Blame {
        match self {
            StartError::Upstream(_) => Blame::Harness,
            StartError::Announced(_) => Blame::Input,
            StartError::Builtin(_) | StartError::Command(_) | StartError::Family(_) => Blame::Setup,
        }
    }
}

/// Start the scenario's server as `plan` says, listening on `bind`'s family
/// with the server `options` that apply here. On error nothing is left
/// running.
pub async fn start(
    sc: &Scenario,
    plan: &Plan<'_>,
    bind: IpAddr,
    options: &ServerOptions,
    cfg: &RunConfig,
) -> Result<Started, StartError> {
    // Held until the server is ready (or failed); see STARTS_PER_CPU.
    let _turn = tokio::time::timeout(cfg.ready_timeout, starting().acquire())
        .await
        .ok()
        .and_then(Result::ok);
    let upstream = if sc.target.mode == Mode::Forward {
        let l = TcpListener::bind(SocketAddr::new(bind, 0))
            .await
            .map_err(StartError::Upstream)?;
        Some(Arc::new(l))
    } else {
        None
    };
    let up_addr = upstream.as_ref().and_then(|l| l.local_addr().ok());
    let mut target = match plan.ext.map(|x| &x.kind) {
        None => builtin::spawn(
            &cfg.server_program,
            sc,
            plan.imp,
            bind,
            up_addr,
            options,
            cfg.ready_timeout,
        )
        .await
        .map(|t| Live::Process(Box::new(t)))
        .map_err(StartError::Builtin)?,
        Some(ExternalKind::Cmd(c)) => command::spawn(
            c,
            sc,
            bind,
            &plan.probe,
            upstream.as_deref(),
            cfg.ready_timeout,
        )
        .await
        .map(|t| Live::Process(Box::new(t)))?,
        Some(ExternalKind::Addr(a)) => Live::Attached(*a),
    };
    if let Some(Err(e)) = plan
        .ext
        .map(|x| external::check_announced(target.addr(), x))
    {
        target.kill().await; // before anything connected to it
        return Err(StartError::Announced(e));
    }
    if let Err(e) = family::check_ready(bind, target.addr()) {
        target.kill().await;
        return Err(e.into());
    }
    Ok(Started { target, upstream })
}
