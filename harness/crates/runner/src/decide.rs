//! Where the verdict is decided, from the evidence the stages gathered
//! ([`Evidence`]): `crashed` when the process exited (at any stage, or the
//! attached server no longer listens); `hung` when a `probe` step went
//! unserved while the scenario's clients were open; for an end-of-run probe
//! that was not served, silent (`hung`: the probe timed out) or turning new
//! clients away (`rejecting`: the probe was refused, reset, closed or
//! answered wrongly before its timeout); otherwise `leaked` when resources
//! did not come back, `busy` when the process kept burning CPU, else
//! `survived`.
//!
//! [`decided`] says when the evidence so far already decides, so the
//! runner does not settle or measure a server that is gone or unserved. A
//! dying process (e.g. a JVM whose accept thread died while other threads
//! finish) gets a bounded grace to exit first ([`grace`]), so a crash is not
//! reported as a hang.

use crate::probe::{self, ProbeResult};
use crate::settle;
use netrepro_observe::{ExitInfo, StepOutcome};
use netrepro_scenario::{Proto, Verdict};
use std::time::Duration;

/// What the stages observed, in the order they observe it. Fields of a
/// stage that did not run stay at their default.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub proto: Proto,
    /// The server is someone else's process (`--target-addr`).
    pub attached: bool,
    /// The process's exit, seen at any stage.
    pub exit: Option<ExitInfo>,
    /// A `probe` step was not served while the scenario's clients were open.
    pub step_unserved: bool,
    /// The end-of-run probe, after the clients closed.
    pub probe: Option<ProbeResult>,
    /// How the wait for resources to come back ended.
    pub settled: Option<settle::Outcome>,
    /// The process tree kept a core busy after the scenario ended.
    pub busy: Option<bool>,
}

impl Evidence {
    /// Nothing observed yet about a server of `proto`.
    pub fn new(proto: Proto, attached: bool) -> Evidence {
        Evidence {
            proto,
            attached,
            exit: None,
            step_unserved: false,
            probe: None,
            settled: None,
            busy: None,
        }
    }
}

/// The verdict the evidence already decides, if any: a server that is gone
/// or did not serve is not settled or measured further.
pub fn decided(e: &Evidence) -> Option<Verdict> {
    if e.exit.is_some() {
        return Some(Verdict::Crashed);
    }
    if e.step_unserved {
        // Judged with the clients still open, as the step asked; a second
        // probe after they closed would only hide it.
        return Some(Verdict::Hung);
    }
    e.probe
        .as_ref()
        .filter(|p| !p.served)
        .map(|p| unserved(e.proto, e.attached, None, p))
}

/// The verdict.
pub fn verdict(e: &Evidence) -> Verdict {
    if let Some(v) = decided(e) {
        v
    } else if e.settled.is_some_and(settle::Outcome::leaked) {
        Verdict::Leaked
    } else if e.busy == Some(true) {
        Verdict::Busy
    } else {
        Verdict::Survived
    }
}

/// How long an unserved server may take to exit, counted from the start of
/// the probe: a probe that failed at once waits as long as one that timed
/// out, so "refused, then dies" and "silent, then dies" get the same chance.
pub fn grace(probe_timeout: Duration, exit_grace: Duration, probe: &ProbeResult) -> Duration {
    (probe_timeout + exit_grace).saturating_sub(Duration::from_millis(probe.elapsed_ms))
}

/// The verdict for a probe that was not served. `exit` is the process's
/// exit after the grace (always `None` for an attached target, which is
/// not our process: there a refused probe is the only sign it is gone).
pub fn unserved(
    proto: Proto,
    attached: bool,
    exit: Option<&ExitInfo>,
    probe: &ProbeResult,
) -> Verdict {
    if exit.is_some() || (attached && probe::nobody_listening(proto, &probe.outcome)) {
        Verdict::Crashed
    } else if matches!(probe.outcome, StepOutcome::Timeout { .. }) {
        Verdict::Hung
    } else {
        Verdict::Rejecting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tests::failed;
    use netrepro_sys::errors::ErrorClass;

    fn probe(outcome: StepOutcome, elapsed_ms: u64) -> ProbeResult {
        ProbeResult {
            served: false,
            outcome,
            elapsed_ms,
        }
    }

    #[test]
    fn timeout_is_hung_and_a_fast_failure_is_rejecting_while_alive() {
        let timeout = probe(
            StepOutcome::Timeout {
                bytes: 0,
                after_ms: 2000,
            },
            2000,
        );
        assert_eq!(unserved(Proto::Tcp, false, None, &timeout), Verdict::Hung);
        assert_eq!(unserved(Proto::Tcp, true, None, &timeout), Verdict::Hung);
        for o in [
            failed(ErrorClass::Reset),
            failed(ErrorClass::Refused),
            StepOutcome::Eof { bytes: 0 },
            StepOutcome::Ok { bytes: 0 },
        ] {
            assert_eq!(
                unserved(Proto::Tcp, false, None, &probe(o.clone(), 3)),
                Verdict::Rejecting,
                "{o:?}"
            );
        }
        // Attached: refused means nobody listens any more.
        let refused = probe(failed(ErrorClass::Refused), 1);
        assert_eq!(unserved(Proto::Tcp, true, None, &refused), Verdict::Crashed);
        let reset = probe(failed(ErrorClass::Reset), 1);
        assert_eq!(unserved(Proto::Tcp, true, None, &reset), Verdict::Rejecting);
        let exit = ExitInfo {
            code: Some(1),
            signal: None,
        };
        assert_eq!(
            unserved(Proto::Tcp, false, Some(&exit), &reset),
            Verdict::Crashed
        );
        assert_eq!(
            unserved(Proto::Tcp, false, Some(&exit), &timeout),
            Verdict::Crashed
        );
    }

    #[test]
    fn the_verdict_follows_the_stages_in_order() {
        let served = ProbeResult {
            served: true,
            outcome: StepOutcome::Ok { bytes: 5 },
            elapsed_ms: 1,
        };
        let alive = || {
            let mut e = Evidence::new(Proto::Tcp, false);
            e.probe = Some(served.clone());
            e
        };
        // Served and nothing else known: not decided yet, survived.
        assert_eq!(decided(&alive()), None);
        assert_eq!(verdict(&alive()), Verdict::Survived);
        let mut e = alive();
        e.settled = Some(settle::Outcome::Settled);
        e.busy = Some(false);
        assert_eq!(verdict(&e), Verdict::Survived);
        e.busy = Some(true);
        assert_eq!(verdict(&e), Verdict::Busy);
        // A leak outranks busy; an exit outranks everything.
        e.settled = Some(settle::Outcome::Stable);
        assert_eq!(verdict(&e), Verdict::Leaked);
        e.settled = Some(settle::Outcome::TimedOut);
        assert_eq!(verdict(&e), Verdict::Leaked);
        e.exit = Some(ExitInfo {
            code: None,
            signal: Some(9),
        });
        assert_eq!(decided(&e), Some(Verdict::Crashed));
        assert_eq!(verdict(&e), Verdict::Crashed);
        // An unserved probe step is hung, whatever came after.
        let mut e = Evidence::new(Proto::Udp, false);
        e.step_unserved = true;
        assert_eq!(decided(&e), Some(Verdict::Hung));
        // An unserved end-of-run probe decides as `unserved` does.
        let mut e = Evidence::new(Proto::Tcp, true);
        e.probe = Some(probe(failed(ErrorClass::Refused), 1));
        assert_eq!(decided(&e), Some(Verdict::Crashed));
        e.attached = false;
        assert_eq!(decided(&e), Some(Verdict::Rejecting));
    }

    #[test]
    fn grace_is_counted_from_the_probe_start() {
        let (t, g) = (Duration::from_millis(2000), Duration::from_millis(500));
        let fast = probe(StepOutcome::Eof { bytes: 0 }, 10);
        assert_eq!(grace(t, g, &fast), Duration::from_millis(2490));
        let slow = probe(
            StepOutcome::Timeout {
                bytes: 0,
                after_ms: 2000,
            },
            2000,
        );
        assert_eq!(grace(t, g, &slow), g);
        let over = probe(StepOutcome::Eof { bytes: 0 }, 9000);
        assert_eq!(grace(t, g, &over), Duration::ZERO);
    }
}
