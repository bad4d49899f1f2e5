//! After the steps: does the server still serve a new client? The order
//! (docs/how-it-works.md): the scenario's own sockets are closed first,
//! then the probe, then the leak check. A server that serves one connection
//! at a time is only judged on serving others while a client is open when
//! the scenario says so (a `probe` step): then that step's result is the
//! finding and no second probe is made. A server that did not serve gets a
//! bounded grace to exit ([`decide::grace`]), so a crash is not a hang.

use crate::client::Session;
use crate::decide::{self, Evidence};
use crate::live::Live;
use crate::probe::{self, ProbeSpec};
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
        ev.exit = target.wait_exit(exit_grace).await;
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
            ev.exit = target.wait_exit(decide::grace(limit, exit_grace, &p)).await;
        }
        ev.probe = Some(p);
    }
    ev
}
