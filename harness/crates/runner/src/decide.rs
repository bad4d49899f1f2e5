//! The verdict of a server that did not serve the probe: gone (`crashed`),
//! silent (`hung`: the probe timed out) or turning new clients away
//! (`rejecting`: the probe was refused, reset, closed or answered wrongly
//! before its timeout). A dying process (e.g. a JVM whose accept thread
//! died while other threads finish) gets a bounded grace to exit first, so
//! a crash is not reported as a hang.

use super::probe::{self, ProbeResult};
use netrepro_observe::{ExitInfo, StepOutcome};
use netrepro_scenario::{Proto, Verdict};
use std::time::Duration;

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
    use netrepro_sys::errors::{ErrorClass, ObservedError};

    fn probe(outcome: StepOutcome, elapsed_ms: u64) -> ProbeResult {
        ProbeResult {
            served: false,
            outcome,
            elapsed_ms,
        }
    }

    fn failed(class: ErrorClass) -> StepOutcome {
        StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: None,
                name: "X".into(),
                class,
            },
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
