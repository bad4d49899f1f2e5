//! After the steps: does the server still serve a new client? The order
//! (docs/how-it-works.md): the scenario's own sockets are closed first,
//! then the probe, then the leak check. A server that serves one connection
//! at a time is only judged on serving others while a client is open when
//! the scenario says so (a `probe` step): then that step's result is the
//! finding and no second probe is made. A server that did not serve gets a
//! bounded grace to exit ([`decide::grace`]), so a crash is not a hang;
//! after a probe that timed out, a server whose every thread is asleep
//! waiting for an event is not in the middle of an exit and gets none
//! ([`grace_after_timeout`]): every hung result paid it (issue 16).

use crate::client::Session;
use crate::decide::{self, Evidence};
use crate::live::Live;
use crate::probe::{self, ProbeSpec};
use netrepro_observe::StepOutcome;
use netrepro_scenario::Scenario;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The result note for a `probe` step that was not served.
pub const STEP_UNSERVED_NOTE: &str =
    "a probe step was not served while the scenario's clients were open";

/// Close the session's sockets and probe the server (unless a `probe` step
/// already went unserved or the process is gone), waiting up to `limit` for
/// the probe and `exit_grace` for a dying process.
pub async fn probe_after_steps(
    sc: &Scenario,
    target: &mut Live,
    session: &mut Session,
    spec: &ProbeSpec,
    upstream: Option<Arc<TcpListener>>,
    limit: Duration,
    exit_grace: Duration,
) -> Evidence {
    let mut ev = Evidence::new(sc.target.proto, target.attached());
    ev.exit = target.try_exit();
    ev.step_unserved = ev.exit.is_none() && session.probe_unserved();
    if ev.step_unserved {
        ev.exit = target
            .wait_exit(grace_after_timeout(target, exit_grace))
            .await;
    }
    session.release();
    if !ev.step_unserved && ev.exit.is_none() {
        let p = probe::probe_with(
            spec,
            sc.target.proto,
            sc.target.mode,
            target.addr(),
            upstream,
            limit,
        )
        .await;
        if !p.served {
            let grace = decide::grace(limit, exit_grace, &p);
            let grace = if matches!(p.outcome, StepOutcome::Timeout { .. }) {
                grace_after_timeout(target, grace)
            } else {
                grace
            };
            ev.exit = target.wait_exit(grace).await;
        }
        ev.probe = Some(p);
    }
    ev
}

/// The exit grace after a probe that timed out: `grace`, or none when the
/// process tree is evidently waiting rather than exiting (every thread
/// asleep in the kernel; Linux). A process that dies while it is silent had
/// the probe's whole limit to do so; the grace is for an exit under way
/// when the limit ran out (a thread running, a zombie thread left by a
/// main thread that ended, as in examples/targets/dying_echo.py), and
/// where the states cannot be read it is always given.
fn grace_after_timeout(target: &Live, grace: Duration) -> Duration {
    if target.all_asleep() == Some(true) {
        Duration::ZERO
    } else {
        grace
    }
}
