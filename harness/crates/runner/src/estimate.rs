//! How long a run will wait, guessed before it starts from what its
//! scenario and expectation say: steps expected to time out wait their
//! whole timeout, a `wait` its time, a hung server its probe limit, a leak
//! its settle window. [`crate::jobs::run_all`] starts the longest runs
//! first, so a catalog's wall time grows by its slowest result instead of
//! by where the slow ones sit in file order (the hung sequential-server
//! results, 3-5 s each, are spread through the files). Only the start order
//! depends on it: a wrong guess costs time, never a result.
//!
//! What a scenario says misses waits nobody wrote down: a settle that lasts
//! until a hardened server's timeout closes a vanished client's socket, or
//! 40 crowd members timing out against a sequential server whose verdict
//! may be `survived` or `crashed` (1.5-3.5 s runs guessed at 0, started
//! last, and ending the catalog 0.5 s after everything else). So where the
//! previous report measured a run ([`History`]), the longer of the two is
//! the guess.

use crate::config::RunConfig;
use crate::plan::{Plan, Subject};
use netrepro_report::Report;
use netrepro_scenario::{Impl, Op, Scenario, Verdict};
use std::collections::HashMap;
use std::time::Duration;

/// How long each built-in run took in an earlier report, by scenario name
/// and implementation (runs against someone else's server are left out:
/// another command line is another server).
#[derive(Debug, Clone, Default)]
pub struct History(HashMap<(String, Impl), Duration>);

impl History {
    pub fn from_report(report: &Report) -> History {
        History(
            report
                .results
                .iter()
                .filter(|r| r.target.is_none())
                .map(|r| {
                    let took = Duration::from_millis(r.duration_ms);
                    ((r.scenario.name.clone(), r.impl_), took)
                })
                .collect(),
        )
    }

    /// The earlier run of `sc` against `subject`, if one was measured.
    pub fn took(&self, sc: &Scenario, subject: &Subject) -> Option<Duration> {
        match subject {
            Subject::Builtin(imp) => self.0.get(&(sc.name.clone(), *imp)).copied(),
            Subject::External(_) => None,
        }
    }
}

/// The guess [`crate::jobs::run_all`] orders by: the scenario's
/// [`expected_wait`], or what the same run took before if that was longer.
pub fn guess(
    sc: &Scenario,
    subject: &Subject,
    plan: &Plan<'_>,
    cfg: &RunConfig,
    history: &History,
) -> Duration {
    let said = expected_wait(sc, plan, cfg);
    history
        .took(sc, subject)
        .map_or(said, |took| took.max(said))
}

/// The run's expected waiting time (a lower bound in the common case).
pub fn expected_wait(sc: &Scenario, plan: &Plan<'_>, cfg: &RunConfig) -> Duration {
    let only =
        |v: Verdict| !plan.expect.server.is_empty() && plan.expect.server.iter().all(|&s| s == v);
    let hung = only(Verdict::Hung);
    let times_out = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| plan.expect.steps.get(id))
            .is_some_and(|m| !m.is_empty() && m.iter().all(|o| o == "timeout"))
    };
    let mut ms = 0u64;
    let mut probe_step = false;
    for (i, step) in sc.steps.iter().enumerate() {
        let times = sc.times_of(i);
        let each = match &step.op {
            Op::Wait { ms } => *ms,
            Op::Probe => {
                probe_step = true;
                if hung {
                    plan.probe_limit.as_millis() as u64
                } else {
                    0
                }
            }
            Op::Recv { timeout_ms, .. } | Op::WaitReadable { timeout_ms }
                if times_out(&step.id) =>
            {
                *timeout_ms
            }
            Op::Send {
                timeout_ms: Some(t),
                ..
            }
            | Op::Connect {
                timeout_ms: Some(t),
                ..
            } if times_out(&step.id) => *t,
            _ => 0,
        };
        ms = ms.saturating_add(each.saturating_mul(times));
    }
    // A hung server without a probe step: the end-of-run probe waits it out.
    if hung && !probe_step {
        ms = ms.saturating_add(plan.probe_limit.as_millis() as u64);
    }
    if only(Verdict::Leaked) {
        ms = ms.saturating_add(cfg.settle_timeout.as_millis() as u64);
    }
    Duration::from_millis(ms)
}

/// Step executions per slot: a run that asks for more computes rather than
/// waits (a connect+abort storm keeps a core busy in the harness and in the
/// server for its whole length), so it takes one slot per this many, at
/// most half of them ([`slots`]).
pub const EXECUTIONS_PER_SLOT: u64 = 500;

/// How many of `jobs` slots a run of `sc` takes: 1 for a run that mostly
/// waits; more for a storm, one per [`EXECUTIONS_PER_SLOT`] executions and
/// at most half the slots, so it shares the CPUs with fewer runs whose
/// timing it would otherwise disturb (a 300 ms idle timer that a starved
/// harness misses); and at least its share of the descriptor limit
/// `fd_limit` (each slot stands for `fd_limit / jobs` descriptors), so the
/// runs at once never need more descriptors than the harness has. A run
/// that needs them all runs alone.
pub fn slots(sc: &Scenario, jobs: usize, fd_limit: Option<u64>) -> u32 {
    let jobs_u = u32::try_from(jobs.max(1)).unwrap_or(u32::MAX);
    let cpu = u32::try_from(sc.executions() / EXECUTIONS_PER_SLOT)
        .unwrap_or(u32::MAX)
        .min((jobs_u / 2).max(1));
    let fds = fd_limit.map_or(0, |limit| {
        let per_slot = (limit / u64::from(jobs_u)).max(1);
        let need = crate::harness_error::fds_needed(sc);
        u32::try_from(need.div_ceil(per_slot)).unwrap_or(u32::MAX)
    });
    cpu.max(fds).clamp(1, jobs_u)
}

/// `items`' indices, longest expected wait first; equal waits keep their
/// order (a stable sort), so with no waits at all this is file order.
pub fn longest_first(waits: &[Duration]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..waits.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(waits[i]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Subject;
    use netrepro_scenario::{ExpectKey, Impl};

    fn scenario(text: &str) -> Scenario {
        netrepro_scenario::parse_str(text, std::path::Path::new("t.toml")).unwrap()
    }

    const SEQ_HUNG: &str = r#"
name = "t"
summary = "s"
actors = ["a", "b"]
[target]
proto = "tcp"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "b"
op = "connect"
[[steps]]
id = "b-served"
actor = "b"
op = "recv"
bytes = 1
timeout_ms = 700
[[steps]]
op = "wait"
ms = 40
[expect.naive]
server = "survived"
steps = { b-served = ["ok"] }
[expect.naive-seq]
server = "hung"
steps = { b-served = ["timeout"] }
[expect.hardened]
server = "leaked"
steps = { b-served = ["ok", "timeout"] }
"#;

    #[test]
    fn timeouts_that_are_expected_a_hung_probe_and_a_settle_window_count() {
        let sc = scenario(SEQ_HUNG);
        let mut cfg = RunConfig::new("netrepro".into());
        cfg.platform = ExpectKey::Linux.platform();
        let wait = |imp| {
            let subject = Subject::Builtin(imp);
            expected_wait(&sc, &Plan::new(&sc, &subject, &cfg), &cfg)
        };
        // Survived, b served: only the wait step.
        assert_eq!(wait(Impl::Naive), Duration::from_millis(40));
        // Hung: b's recv times out, then the end probe waits its limit.
        assert_eq!(
            wait(Impl::NaiveSeq),
            Duration::from_millis(40 + 700) + cfg.probe_timeout
        );
        // "ok or timeout" is not a timeout for sure; a leak waits the settle window.
        assert_eq!(
            wait(Impl::Hardened),
            Duration::from_millis(40) + cfg.settle_timeout
        );
    }

    #[test]
    fn an_earlier_report_raises_a_guess_the_scenario_underrates() {
        let sc = scenario(SEQ_HUNG);
        let mut cfg = RunConfig::new("netrepro".into());
        cfg.platform = ExpectKey::Linux.platform();
        let (naive, seq) = (
            Subject::Builtin(Impl::Naive),
            Subject::Builtin(Impl::NaiveSeq),
        );
        let said = |s: &Subject| expected_wait(&sc, &Plan::new(&sc, s, &cfg), &cfg);
        // A report where naive took 3 s and naive-seq less than it is said to.
        let mut rep = netrepro_report::host::new_report("2026-11-26T00:00:00Z".into());
        for (imp, ms) in [(Impl::Naive, 3000), (Impl::NaiveSeq, 5)] {
            let mut r = crate::record::new(&sc, &Plan::new(&sc, &Subject::Builtin(imp), &cfg));
            r.duration_ms = ms;
            rep.results.push(r);
        }
        let history = History::from_report(&rep);
        assert_eq!(history.took(&sc, &naive), Some(Duration::from_millis(3000)));
        assert_eq!(history.took(&sc, &seq), Some(Duration::from_millis(5)));
        let guess = |s: &Subject, h: &History| guess(&sc, s, &Plan::new(&sc, s, &cfg), &cfg, h);
        assert_eq!(guess(&naive, &history), Duration::from_millis(3000));
        assert_eq!(guess(&seq, &history), said(&seq));
        // No history: what the scenario says.
        assert_eq!(guess(&naive, &History::default()), said(&naive));
        // And the measured one now starts first.
        let waits = [guess(&seq, &history), guess(&naive, &history)];
        assert_eq!(longest_first(&waits)[0], 1);
    }

    #[test]
    fn longest_first_is_a_stable_permutation() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(longest_first(&ms(&[0, 5, 0, 9, 5])), vec![3, 1, 4, 0, 2]);
        assert_eq!(longest_first(&ms(&[0, 0, 0])), vec![0, 1, 2]);
        assert!(longest_first(&[]).is_empty());
    }

    #[test]
    fn a_storm_takes_more_slots_and_at_most_half_of_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scenarios/tcp");
        let storm = netrepro_scenario::load_file(&dir.join("listen-overflow-storm.toml")).unwrap();
        let quiet = scenario(SEQ_HUNG);
        assert!(storm.executions() > 4 * EXECUTIONS_PER_SLOT);
        assert_eq!(slots(&quiet, 32, None), 1);
        assert_eq!(
            u64::from(slots(&storm, 32, None)),
            (storm.executions() / EXECUTIONS_PER_SLOT).min(16)
        );
        assert_eq!(slots(&storm, 4, None), 2);
        assert_eq!(slots(&storm, 1, None), 1);
    }

    #[test]
    fn a_run_takes_its_share_of_the_descriptor_limit() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scenarios/tcp");
        let storm = netrepro_scenario::load_file(&dir.join("listen-overflow-storm.toml")).unwrap();
        let quiet = scenario(SEQ_HUNG);
        let need = crate::harness_error::fds_needed(&storm);
        // 32 slots of 20,000 / 32 = 625 descriptors each.
        assert_eq!(
            u64::from(slots(&storm, 32, Some(20_000))),
            need.div_ceil(625)
                .max(storm.executions() / EXECUTIONS_PER_SLOT)
                .min(32)
        );
        assert_eq!(slots(&quiet, 32, Some(20_000)), 1);
        // More than the whole limit: alone (the preflight then says why).
        assert_eq!(slots(&storm, 8, Some(100)), 8);
        // A limit so low that even the quiet run needs two slots' worth.
        assert_eq!(
            slots(&quiet, 32, Some(320)),
            (crate::harness_error::fds_needed(&quiet).div_ceil(10)).min(32) as u32
        );
    }
}
