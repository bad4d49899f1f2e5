//! The step records of one scenario run, kept in proportion to the number
//! of *distinct* outcomes rather than the number of runs (issue 11.7): a
//! step that ran for 1,000 group members x 1,000 iterations with the same
//! outcome is one record with `runs = 1000000`, the first run as its
//! example and the last run named in `last`. A run with a new outcome (say
//! one member got ECONNRESET) gets its own record, so nothing a verdict or
//! an expectation looks at is lost.

use netrepro_observe::{RunAt, StepOutcome, StepRecord};
use netrepro_scenario::Scenario;
use std::collections::HashMap;

/// What makes two runs of a step "the same outcome": everything the
/// verdict and the expectation matchers read (kind, error name, class and
/// code, short or complete), not the byte counts or timings that vary from
/// run to run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    index: usize,
    actor: String,
    kind: &'static str,
    error: Option<(String, &'static str, Option<i32>)>,
    reason: Option<String>,
    short: bool,
}

fn key(r: &StepRecord) -> Key {
    let (kind, error, reason) = match &r.outcome {
        StepOutcome::Ok { .. } => ("ok", None, None),
        StepOutcome::Eof { .. } => ("eof", None, None),
        StepOutcome::Error { error, .. } => (
            "error",
            Some((error.name.clone(), error.class.as_str(), error.raw)),
            None,
        ),
        StepOutcome::Timeout { .. } => ("timeout", None, None),
        StepOutcome::Skipped { reason } => ("skipped", None, Some(reason.clone())),
    };
    Key {
        index: r.index,
        actor: r.actor.clone(),
        kind,
        error,
        reason,
        short: crate::expect::record_matches("short", r),
    }
}

/// Step records in order of first appearance, merged by outcome.
#[derive(Debug, Default)]
pub struct StepLog {
    records: Vec<StepRecord>,
    at: HashMap<Key, usize>,
    merged: u64,
}

impl StepLog {
    pub fn push(&mut self, r: StepRecord) {
        let k = key(&r);
        match self.at.get(&k) {
            Some(&i) => {
                let first = &mut self.records[i];
                first.runs += r.runs;
                first.last = Some(RunAt {
                    member: r.member,
                    iteration: r.iteration,
                });
                first.elapsed_ms = first.elapsed_ms.max(r.elapsed_ms);
                self.merged += r.runs;
            }
            None => {
                self.at.insert(k, self.records.len());
                self.records.push(r);
            }
        }
    }

    /// How many runs were merged into an earlier record.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    pub fn into_records(self) -> Vec<StepRecord> {
        self.records
    }
}

/// The result note saying how much was merged (`None` if nothing was).
pub fn merged_note(merged: u64, records: &[StepRecord]) -> Option<String> {
    (merged > 0).then(|| {
        let runs: u64 = records.iter().map(|r| r.runs).sum();
        format!(
            "steps: {runs} runs recorded as {} records; {merged} runs with the same step and outcome as an earlier one were merged into it (see each record's runs and last)",
            records.len()
        )
    })
}

/// One line per repeated block for the report: how often it was asked to
/// run and how many iterations started before the scenario ended.
pub fn repeat_notes(sc: &Scenario, records: &[StepRecord]) -> Vec<String> {
    sc.repeats
        .iter()
        .map(|r| {
            let block = r.first..r.first + r.len;
            let ran = records
                .iter()
                .filter(|x| block.contains(&x.index))
                .filter(|x| !matches!(x.outcome, StepOutcome::Skipped { .. }))
                .map(|x| x.last.map_or(x.iteration, |l| l.iteration.max(x.iteration)))
                .max()
                .unwrap_or(0);
            let last = sc.steps[r.first + r.len - 1].line;
            format!(
                "repeat: the {} step(s) at lines {}-{last} ran {ran} of {} times",
                r.len, sc.steps[r.first].line, r.times
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::{ErrorClass, ObservedError};

    fn rec(index: usize, member: u32, iteration: u32, outcome: StepOutcome) -> StepRecord {
        StepRecord {
            index,
            line: 10 + index,
            id: None,
            actor: "a".into(),
            member,
            iteration,
            op: "recv".into(),
            outcome,
            elapsed_ms: u64::from(member),
            wanted: Some(10),
            runs: 1,
            last: None,
        }
    }

    fn reset() -> StepOutcome {
        StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: Some(104),
                name: "ECONNRESET".into(),
                class: ErrorClass::Reset,
            },
        }
    }

    #[test]
    fn repeated_runs_become_one_record_per_distinct_outcome() {
        let mut log = StepLog::default();
        for it in 1..=1000 {
            for m in 0..10 {
                let o = if (it, m) == (500, 3) {
                    reset()
                } else if m == 9 {
                    StepOutcome::Ok { bytes: 4 } // short: wanted 10
                } else {
                    StepOutcome::Ok { bytes: 10 }
                };
                log.push(rec(0, m, it, o));
            }
        }
        assert_eq!(log.merged(), 10_000 - 3);
        let recs = log.into_records();
        assert_eq!(recs.len(), 3, "{recs:#?}");
        assert_eq!(recs.iter().map(|r| r.runs).sum::<u64>(), 10_000);
        assert_eq!(
            (recs[0].member, recs[0].iteration, recs[0].runs),
            (0, 1, 8999)
        );
        assert_eq!(
            recs[0].last,
            Some(RunAt {
                member: 8,
                iteration: 1000
            })
        );
        assert_eq!((recs[1].member, recs[1].runs), (9, 1000));
        assert_eq!(
            (recs[2].member, recs[2].iteration, recs[2].runs),
            (3, 500, 1)
        );
        assert_eq!(recs[2].last, None);
        assert!(merged_note(10_000 - 3, &recs).is_some());
        assert!(merged_note(0, &recs).is_none());
    }

    #[test]
    fn different_steps_never_merge() {
        let mut log = StepLog::default();
        log.push(rec(0, 0, 0, StepOutcome::Ok { bytes: 10 }));
        log.push(rec(1, 0, 0, StepOutcome::Ok { bytes: 10 }));
        assert_eq!(log.merged(), 0);
        assert_eq!(log.into_records().len(), 2);
    }
}
