//! One cell (scenario x implementation x OS key) against what the reports
//! observed there. The comparison is the runner's own check
//! (`netrepro_runner::expect::diff`), so "agrees" means exactly "the run
//! would have passed this cell".
//!
//! One rule is bless's own: a `survived` seen on a host that sampled no
//! resource counter (Wine; see README "What netrepro can and cannot see")
//! may hide a leak or a spin. It agrees with a cell that accepts `leaked` or
//! `busy`, and when another cell of the same implementation expects one of
//! those, it is not written anywhere: that host cannot tell.
//!
//! And one more: where the cell's *parent* (what applies without it: the
//! base, and for `wine` the `windows` cell on top unless that is unknown)
//! states a set of
//! verdicts, or of outcomes for a step, that accepts everything observed,
//! the set is written instead of the observations. Such a set records a
//! race the scenario already knows (`["reset", "eof", "skipped"]` for a
//! client queued behind a dying server); one run cannot rule out its other
//! members, and writing only what it saw would make the next run flaky.

use crate::observed::{Cell, Observation};
use netrepro_scenario::{ExpectKey, Expectation, ImplExpectations, Verdict};

/// What to do with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Every observation passes the cell as it stands.
    Agrees,
    /// The cell's verdict is `unknown`: fill it. `lines` are stated parts
    /// (errors, steps) the observations contradict, for information.
    Unknown {
        lines: Vec<(usize, String)>,
        write: Result<Cell, String>,
    },
    /// A stated expectation is contradicted: one line per difference,
    /// with the index of the report that shows it.
    Contradicted {
        lines: Vec<(usize, String)>,
        write: Result<Cell, String>,
    },
}

/// Verdicts only the resource samples can tell from `survived`.
fn sample_verdict(v: Verdict) -> bool {
    matches!(v, Verdict::Leaked | Verdict::Busy)
}

/// Does any cell of this implementation (base or an OS) expect a verdict
/// that only resource samples can show?
fn expects_sampled_verdict(ie: &ImplExpectations) -> bool {
    std::iter::once(&ie.base)
        .chain(ie.per_os.values())
        .filter_map(|p| p.server.as_ref())
        .any(|vs| vs.iter().copied().any(sample_verdict))
}

/// The verdict to check `o` with: a `survived` without samples counts as
/// whichever of survived / leaked / busy the cell accepts.
fn checked_verdict(o: &Observation<'_>, current: &Expectation) -> Verdict {
    if o.verdict == Verdict::Survived && !o.resources_seen {
        if let Some(v) = current
            .server
            .iter()
            .copied()
            .find(|v| *v == Verdict::Survived || sample_verdict(*v))
        {
            return v;
        }
    }
    o.verdict
}

/// What applies to `key` without its own cell. An `unknown` cell on the
/// way (`windows` for `wine`) says nothing: its empty lists are placeholders.
fn parent(ie: &ImplExpectations, key: ExpectKey) -> Expectation {
    let mut without = ie.clone();
    without.per_os.remove(&key);
    without
        .per_os
        .retain(|_, p| !p.server.as_ref().is_some_and(Vec::is_empty));
    without.resolve(key.platform())
}

/// Widen `cell` to the parent's sets that accept every observation.
fn widen(mut cell: Cell, parent: &Expectation, obs: &[Observation<'_>]) -> Cell {
    if !parent.server.is_empty() && cell.server.iter().all(|v| parent.server.contains(v)) {
        cell.server = parent.server.clone();
    }
    for (id, written) in &mut cell.steps {
        let Some(set) = parent.steps.get(id.as_str()) else {
            continue;
        };
        let accepted = obs.iter().all(|o| {
            o.record
                .steps
                .iter()
                .filter(|r| r.id.as_deref() == Some(id.as_str()))
                .all(|r| {
                    set.iter()
                        .any(|m| netrepro_runner::expect::record_matches(m, r))
                })
        });
        if accepted {
            *written = set.clone();
        }
    }
    cell
}

/// Judge the cell `key` of `ie` against `obs` (at least one observation).
pub fn judge(
    scenario: &netrepro_scenario::Scenario,
    ie: &ImplExpectations,
    key: ExpectKey,
    obs: &[Observation<'_>],
) -> Judgement {
    let current = ie.resolve(key.platform());
    let mut lines = Vec::new();
    for o in obs {
        let d = netrepro_runner::expect::diff(
            &current,
            checked_verdict(o, &current),
            &o.record.steps,
            &o.record.server_errors,
        );
        lines.extend(d.into_iter().map(|l| (o.source, l)));
    }
    let blind = obs
        .iter()
        .any(|o| o.verdict == Verdict::Survived && !o.resources_seen);
    let write = if blind && expects_sampled_verdict(ie) {
        Err(
            "survived on a host that sampled no resources, while another cell of this \
             implementation expects leaked or busy: this host cannot tell them apart"
                .to_string(),
        )
    } else {
        Ok(widen(Cell::merge(scenario, obs), &parent(ie, key), obs))
    };
    if current.server.is_empty() {
        Judgement::Unknown { lines, write }
    } else if lines.is_empty() {
        Judgement::Agrees
    } else {
        Judgement::Contradicted { lines, write }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_report::ResultRecord;
    use netrepro_scenario::{parse_str, Impl, Scenario};

    const SRC: &str = r#"name = "x"
summary = "x"
actors = ["a"]
[target]
proto = "tcp"
mode = "forward"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
id = "told"
actor = "a"
op = "recv"
[expect.naive]
server = "leaked"
steps = { told = ["timeout", "eof"] }
[expect.naive.wine]
server = "unknown"
[expect.hardened]
server = "survived"
"#;

    fn scenario() -> Scenario {
        parse_str(SRC, std::path::Path::new("x.toml")).unwrap()
    }

    /// A result of `naive` with this verdict, `told` ending in `told`,
    /// and resource counters sampled or not.
    fn record(verdict: &str, told: &str, sampled: bool) -> ResultRecord {
        let fds = if sampled {
            serde_json::json!(7)
        } else {
            serde_json::Value::Null
        };
        serde_json::from_value(serde_json::json!({
            "scenario": {"name": "x", "path": "x.toml", "summary": "x", "refs": [],
                         "proto": "tcp", "mode": "forward"},
            "impl": "naive", "verdict": verdict, "expected": [], "status": "unverified",
            "diff": [], "exit": null, "probe": null,
            "steps": [
                {"index": 0, "line": 8, "actor": "a", "member": 0, "op": "connect",
                 "outcome": {"kind": "ok", "bytes": 0}, "elapsed_ms": 0},
                {"index": 1, "line": 11, "id": "told", "actor": "a", "member": 0, "op": "recv",
                 "outcome": {"kind": told, "bytes": 0, "after_ms": 5}, "elapsed_ms": 5}
            ],
            "server_errors": [],
            "samples": [{"label": "baseline", "fds": fds, "close_wait": null, "t_ms": 1}],
            "setup_error": null, "duration_ms": 10
        }))
        .unwrap()
    }

    fn judge_one(rec: &ResultRecord, key: ExpectKey) -> Judgement {
        let sc = scenario();
        let o = Observation::of(0, rec).unwrap();
        judge(&sc, &sc.expect[&Impl::Naive], key, &[o])
    }

    #[test]
    fn a_survived_without_samples_is_not_written_where_a_leak_is_expected() {
        let blind = record("survived", "timeout", false);
        let Judgement::Unknown {
            write: Err(why), ..
        } = judge_one(&blind, ExpectKey::Wine)
        else {
            panic!("must not be written");
        };
        assert!(why.contains("cannot tell"), "{why}");
        // Against a cell that expects the leak, it is no contradiction.
        assert_eq!(judge_one(&blind, ExpectKey::Linux), Judgement::Agrees);
        // With samples, survived is survived: a contradiction there.
        let seen = record("survived", "timeout", true);
        assert!(matches!(
            judge_one(&seen, ExpectKey::Linux),
            Judgement::Contradicted { .. }
        ));
    }

    #[test]
    fn a_parent_set_that_accepts_the_run_is_written_whole() {
        // Wine's parent is the base: told = timeout | eof accepts "eof".
        let rec = record("hung", "eof", true);
        let Judgement::Unknown {
            write: Ok(cell), ..
        } = judge_one(&rec, ExpectKey::Wine)
        else {
            panic!("an unknown cell is filled");
        };
        assert_eq!(cell.server, [Verdict::Hung]);
        assert_eq!(
            cell.steps,
            [(
                "told".to_string(),
                vec!["timeout".to_string(), "eof".to_string()]
            )]
        );
    }
}
