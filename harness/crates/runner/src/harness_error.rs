//! Errors on the harness's own side (issue 11.8): never a verdict about the
//! server. A result they touch gets status `error`, no verdict, and the
//! reason in `harness_error`.
//!
//! Two checks:
//! - Up front, [`over_budget`]: a scenario whose sockets cannot fit under
//!   the harness's own descriptor limit is not run at all. The harness
//!   holds at most one socket per client group member at a time (two while
//!   a member reconnects: the new socket opens before the old one closes)
//!   and keeps every upstream connection it accepted (forward mode) until
//!   the end; [`RESERVED_FDS`] covers the rest. With `--jobs N` several
//!   scenarios share the limit, which this per-scenario check cannot see;
//!   the second check catches what it misses.
//! - After the run, [`in_outcomes`]: any step or probe of the harness's own
//!   sockets that failed with a resource-exhaustion error (EMFILE, ENFILE,
//!   ENOBUFS, WSAEMFILE, WSAENOBUFS: class `resource-exhausted`, compared by
//!   class, never by text) means the harness ran out, not the server: a
//!   probe that could not even open its socket says nothing about whether
//!   the server would have answered.

use netrepro_observe::{StepOutcome, StepRecord};
use netrepro_report::{ResultRecord, Status};
use netrepro_scenario::{ActorKind, Op, Scenario};
use netrepro_sys::errors::ErrorClass;

use crate::probe::ProbeResult;

/// Descriptors the harness needs besides the scenario's sockets: the async
/// runtime (epoll, its wake-up fd), stdio, the target's stdout/stderr pipes
/// and supervisor handshake, the listener checks, the probe, the report
/// file, and slack for the other jobs' bookkeeping.
pub const RESERVED_FDS: u64 = 64;

/// The most sockets the harness holds at once for `sc` (see module doc).
pub fn fds_needed(sc: &Scenario) -> u64 {
    let mut clients = 0u64;
    for a in sc.actors.iter().filter(|a| a.kind == ActorKind::Client) {
        let connects: u64 = sc
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.actor == a.name && matches!(s.op, Op::Connect { .. }))
            .map(|(i, _)| sc.times_of(i))
            .sum();
        let per_member = if connects > 1 { 2 } else { 1 };
        clients += u64::from(a.count) * per_member;
    }
    let accepted: u64 = sc
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.op == Op::Accept)
        .map(|(i, s)| {
            let members = sc.actor(&s.actor).map_or(1, |a| u64::from(a.count));
            members * sc.times_of(i)
        })
        .sum();
    clients + accepted + RESERVED_FDS
}

/// Why `sc` cannot run under the harness's limit `available` (its soft
/// RLIMIT_NOFILE; `None`: no limit), or `None` if it fits.
pub fn over_budget(sc: &Scenario, available: Option<u64>) -> Option<String> {
    let have = available?;
    let need = fds_needed(sc);
    (need > have).then(|| {
        format!(
            "the scenario needs up to {need} file descriptors in the harness \
             ({} for its sockets + {RESERVED_FDS} reserved) and the harness may \
             open only {have} (RLIMIT_NOFILE); raise `ulimit -n` (its hard limit \
             allows raising the soft one) or use fewer group members",
            need - RESERVED_FDS
        )
    })
}

/// The first harness-side resource exhaustion among the steps and the
/// probe, described for the report.
pub fn in_outcomes(steps: &[StepRecord], probe: Option<&ProbeResult>) -> Option<String> {
    let own = |o: &StepOutcome| match o {
        StepOutcome::Error { error, .. } if error.class == ErrorClass::ResourceExhausted => {
            Some(error.clone())
        }
        _ => None,
    };
    if let Some((s, e)) = steps.iter().find_map(|s| own(&s.outcome).map(|e| (s, e))) {
        return Some(format!(
            "the harness's own `{}` (actor {}, line {}) failed with {} (raw {}): \
             the harness ran out of resources, not the server",
            s.op,
            s.actor,
            s.line,
            e.name,
            e.raw.map_or("-".to_string(), |r| r.to_string())
        ));
    }
    let e = own(&probe?.outcome)?;
    Some(format!(
        "the harness's probe failed with {} (raw {}): the harness ran out of \
         resources, so the probe says nothing about the server",
        e.name,
        e.raw.map_or("-".to_string(), |r| r.to_string())
    ))
}

/// Turn `rec` into a harness error: status `error`, no verdict, no diff.
pub fn mark(rec: &mut ResultRecord, reason: String) {
    rec.status = Status::Error;
    rec.verdict = None;
    rec.diff.clear();
    rec.harness_error = Some(reason);
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ObservedError;

    fn scenario(toml: &str) -> Scenario {
        netrepro_scenario::parse::parse_str(toml, std::path::Path::new("t.toml"))
            .expect("valid scenario")
    }

    const EXPECT: &str =
        "[expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n";

    #[test]
    fn group_members_and_reconnects_count() {
        let sc = scenario(&format!(
            "name = \"g\"\nsummary = \"s\"\nactors = [\"b\"]\ngroups = {{ g = 300 }}\n\
             [target]\nproto = \"tcp\"\n\
             [[steps]]\nactor = \"g\"\nop = \"connect\"\n\
             [[steps]]\nrepeat = 3\n[[steps.do]]\nactor = \"b\"\nop = \"connect\"\n{EXPECT}"
        ));
        // 300 members x 1 + b reconnecting (2) + reserve
        assert_eq!(fds_needed(&sc), 300 + 2 + RESERVED_FDS);
        assert!(over_budget(&sc, Some(1024)).is_none());
        assert!(over_budget(&sc, None).is_none());
        let why = over_budget(&sc, Some(256)).expect("over");
        assert!(why.contains("366") && why.contains("256"), "{why}");
    }

    fn rec(outcome: StepOutcome) -> StepRecord {
        StepRecord {
            index: 0,
            line: 7,
            id: None,
            actor: "g".into(),
            member: 0,
            iteration: 0,
            op: "connect".into(),
            outcome,
            elapsed_ms: 0,
            wanted: None,
            runs: 1,
            last: None,
        }
    }

    #[test]
    fn only_resource_exhaustion_is_the_harnesss_own() {
        let err = |raw, name: &str, class| StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: Some(raw),
                name: name.into(),
                class,
            },
        };
        let emfile = rec(err(24, "EMFILE", ErrorClass::ResourceExhausted));
        let reset = rec(err(104, "ECONNRESET", ErrorClass::Reset));
        assert!(in_outcomes(std::slice::from_ref(&reset), None).is_none());
        let why = in_outcomes(&[reset, emfile], None).expect("harness error");
        assert!(why.contains("EMFILE") && why.contains("line 7"), "{why}");
        let probe = ProbeResult {
            served: false,
            outcome: err(10024, "WSAEMFILE", ErrorClass::ResourceExhausted),
            elapsed_ms: 0,
        };
        assert!(in_outcomes(&[], Some(&probe)).is_some());
    }
}
