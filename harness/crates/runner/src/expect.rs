//! The check against the scenario's expectation (after the verdict is
//! decided, `decide`): compare what was observed with what a scenario
//! expects, and say how they differ in lines a person can read. Matching is
//! on outcome kinds, portable error classes and OS error names; never on
//! message text.

use crate::cut_short;
use netrepro_observe::{ServerEvent, StepOutcome, StepRecord};
use netrepro_report::CutShort;
use netrepro_scenario::{Expectation, Verdict};
use netrepro_sys::errors::{ErrorClass, ObservedError};

/// Does `matcher` ("ok", "eof", "timeout", "skipped", a class or an OS name)
/// describe `outcome`?
pub fn outcome_matches(matcher: &str, outcome: &StepOutcome) -> bool {
    match (matcher, outcome) {
        ("ok", StepOutcome::Ok { .. }) => true,
        ("eof", StepOutcome::Eof { .. }) => true,
        ("timeout", StepOutcome::Timeout { .. }) => true,
        ("skipped", StepOutcome::Skipped { .. }) => true,
        (m, StepOutcome::Error { error, .. }) => error_matches(m, error),
        _ => false,
    }
}

/// Does `matcher` describe a step's record? Like `outcome_matches`, and
/// knowing how many bytes the step asked for: a `recv` that got fewer
/// (a truncated UDP datagram) is `"short"`, not `"ok"`.
pub fn record_matches(matcher: &str, rec: &StepRecord) -> bool {
    let short = rec.is_short();
    match matcher {
        "short" => short,
        "ok" if short => false,
        m => outcome_matches(m, &rec.outcome),
    }
}

/// Does `matcher` (a class or an OS name) describe `error`?
pub fn error_matches(matcher: &str, error: &ObservedError) -> bool {
    ErrorClass::from_name(matcher) == Some(error.class) || matcher == error.name
}

fn event_matches(matcher: &str, ev: &ServerEvent) -> bool {
    ErrorClass::from_name(matcher) == Some(ev.class) || matcher == ev.name
}

/// Short text for an outcome, used in diffs and tables.
pub fn describe(outcome: &StepOutcome) -> String {
    match outcome {
        StepOutcome::Ok { bytes } => format!("ok ({bytes} B)"),
        StepOutcome::Eof { bytes } => format!("eof after {bytes} B"),
        StepOutcome::Error { bytes, error } => match error.raw {
            Some(raw) => format!(
                "{} ({}, {raw}) after {bytes} B",
                error.name,
                error.class.as_str()
            ),
            None => format!("{} ({}) after {bytes} B", error.name, error.class.as_str()),
        },
        StepOutcome::Timeout { bytes, after_ms } => {
            format!("timeout after {after_ms} ms, {bytes} B")
        }
        StepOutcome::Skipped { reason } => format!("skipped: {reason}"),
    }
}

/// The check of a finished run against its expectation: every line of
/// [`diff`], and one more when the scenario's deadline cut the run short
/// (`cut`) and the expectation names a verdict without anticipating the cut
/// (see `cut_short`). Empty = pass.
pub fn check(
    expect: &Expectation,
    verdict: Verdict,
    steps: &[StepRecord],
    events: &[ServerEvent],
    cut: Option<&CutShort>,
) -> Vec<String> {
    let mut out = diff(expect, verdict, steps, events);
    if let Some(c) = cut.filter(|_| !expect.server.is_empty() && !cut_short::anticipated(expect)) {
        out.push(cut_short::diff_line(c));
    }
    out
}

/// Every way the observation differs from the expectation; empty = pass.
/// An expectation without a server verdict is "unverified" and only checks
/// the parts it states.
pub fn diff(
    expect: &Expectation,
    verdict: Verdict,
    steps: &[StepRecord],
    events: &[ServerEvent],
) -> Vec<String> {
    let mut out = Vec::new();
    if !expect.server.is_empty() && !expect.server.contains(&verdict) {
        out.push(format!(
            "server: expected {}, got {}",
            join(expect.server.iter().map(|v| v.as_str())),
            verdict.as_str()
        ));
    }
    for m in &expect.server_errors {
        if !events.iter().any(|e| event_matches(m, e)) {
            let mut seen: Vec<&str> = Vec::new();
            for e in events {
                if !seen.contains(&e.name.as_str()) {
                    seen.push(&e.name);
                }
            }
            out.push(format!(
                "server_errors: expected an error matching {m:?}; server reported {}",
                if seen.is_empty() {
                    "none".to_string()
                } else {
                    join(seen.into_iter())
                }
            ));
        }
    }
    for (id, matchers) in &expect.steps {
        let recs: Vec<&StepRecord> = steps
            .iter()
            .filter(|r| r.id.as_deref() == Some(id))
            .collect();
        if recs.is_empty() {
            out.push(format!(
                "step {id}: expected {}, but it did not run",
                join(matchers.iter().map(String::as_str))
            ));
        }
        // Mismatches with the same outcome are one line, however many
        // group members or iterations share it. A record may stand for
        // several runs already (`runs`): counts are of runs.
        let total: u64 = recs.iter().map(|r| r.runs).sum();
        let mut groups: Vec<(String, Vec<&StepRecord>)> = Vec::new();
        for r in recs {
            if matchers.iter().any(|m| record_matches(m, r)) {
                continue;
            }
            let got = describe(&r.outcome);
            match groups.iter_mut().find(|(g, _)| *g == got) {
                Some((_, v)) => v.push(r),
                None => groups.push((got, vec![r])),
            }
        }
        let expected = join(matchers.iter().map(String::as_str));
        for (got, rs) in groups {
            let r = rs[0];
            let runs: u64 = rs.iter().map(|r| r.runs).sum();
            if runs == 1 {
                out.push(format!(
                    "step {id} (line {}, {}): expected {expected}, got {got}",
                    r.line,
                    who(r)
                ));
            } else {
                let mut names: Vec<String> = rs.iter().take(MAX_NAMED).map(|r| who(r)).collect();
                let named: u64 = rs.iter().take(MAX_NAMED).map(|r| r.runs).sum();
                if runs > named {
                    names.push(format!("and {} more", runs - named));
                }
                out.push(format!(
                    "step {id} (line {}): {runs} of {total} runs: expected {expected}, got {got} ({})",
                    r.line,
                    names.join(", ")
                ));
            }
        }
    }
    out
}

/// How many runs a grouped mismatch names before "and N more".
const MAX_NAMED: usize = 5;

/// "a#0", or "a#0, iteration 7" for a repeated step; a record that stands
/// for several runs names its first and last ("a#0 .. a#199, 200 runs").
fn who(r: &StepRecord) -> String {
    let one = |member: u32, iteration: u32| {
        if iteration > 0 {
            format!("{}#{member}, iteration {iteration}", r.actor)
        } else {
            format!("{}#{member}", r.actor)
        }
    };
    match r.last {
        Some(l) if r.runs > 1 => format!(
            "{} .. {}, {} runs",
            one(r.member, r.iteration),
            one(l.member, l.iteration),
            r.runs
        ),
        _ => one(r.member, r.iteration),
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(name: &str, class: ErrorClass, raw: i32) -> StepOutcome {
        StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: Some(raw),
                name: name.into(),
                class,
            },
        }
    }

    fn rec(id: &str, outcome: StepOutcome) -> StepRecord {
        StepRecord {
            index: 0,
            line: 7,
            id: Some(id.into()),
            actor: "a".into(),
            member: 0,
            iteration: 0,
            op: "recv".into(),
            outcome,
            elapsed_ms: 1,
            wanted: Some(10),
            runs: 1,
            last: None,
        }
    }

    /// The diff reads merged records as the runs they stand for.
    #[test]
    fn diff_counts_the_runs_of_merged_records() {
        let expect = Expectation {
            steps: [("echo".to_string(), vec!["ok".to_string()])].into(),
            ..Expectation::default()
        };
        let mut good = rec("echo", StepOutcome::Ok { bytes: 10 });
        good.runs = 9_990;
        let mut bad = rec("echo", err("ECONNRESET", ErrorClass::Reset, 104));
        bad.member = 3;
        bad.iteration = 2;
        bad.runs = 10;
        bad.last = Some(netrepro_observe::RunAt {
            member: 7,
            iteration: 1000,
        });
        let d = diff(&expect, Verdict::Survived, &[good, bad], &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("10 of 10000 runs"), "{d:?}");
        assert!(
            d[0].contains("a#3, iteration 2 .. a#7, iteration 1000, 10 runs"),
            "{d:?}"
        );
    }

    #[test]
    fn matchers_use_kind_class_and_name_never_text() {
        let reset = err("ECONNRESET", ErrorClass::Reset, 104);
        assert!(outcome_matches("reset", &reset));
        assert!(outcome_matches("ECONNRESET", &reset));
        assert!(!outcome_matches("WSAECONNRESET", &reset));
        assert!(!outcome_matches("eof", &reset));
        assert!(outcome_matches("eof", &StepOutcome::Eof { bytes: 3 }));
        assert!(outcome_matches(
            "timeout",
            &StepOutcome::Timeout {
                bytes: 0,
                after_ms: 5
            }
        ));
        assert!(!outcome_matches(
            "ok",
            &StepOutcome::Timeout {
                bytes: 0,
                after_ms: 5
            }
        ));
    }

    #[test]
    fn a_short_datagram_is_short_not_ok() {
        let mut r = rec("echo", StepOutcome::Ok { bytes: 4 });
        assert!(record_matches("short", &r));
        assert!(!record_matches("ok", &r));
        r.outcome = StepOutcome::Ok { bytes: 10 };
        assert!(record_matches("ok", &r));
        assert!(!record_matches("short", &r));
        // A send that went out in full is never short; nor is a recv of any size.
        r.op = "send".into();
        r.outcome = StepOutcome::Ok { bytes: 4 };
        assert!(record_matches("ok", &r) && !record_matches("short", &r));
        r.op = "recv".into();
        r.wanted = None;
        assert!(record_matches("ok", &r) && !record_matches("short", &r));
    }

    #[test]
    fn mismatches_with_one_outcome_are_one_line() {
        let expect = Expectation {
            server: vec![Verdict::Survived],
            server_errors: vec![],
            steps: [("served".to_string(), vec!["ok".to_string()])].into(),
        };
        let mut steps = Vec::new();
        for member in 0..8 {
            let mut r = rec("served", StepOutcome::Eof { bytes: 0 });
            r.member = member;
            steps.push(r);
        }
        steps[3].outcome = StepOutcome::Ok { bytes: 10 };
        steps[5].outcome = StepOutcome::Timeout {
            bytes: 0,
            after_ms: 9,
        };
        let d = diff(&expect, Verdict::Survived, &steps, &[]);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d[0].contains("6 of 8 runs") && d[0].contains("a#0, a#1, a#2, a#4, a#6, and 1 more"),
            "{d:?}"
        );
        assert!(
            d[1].contains("(line 7, a#5)") && d[1].contains("timeout"),
            "{d:?}"
        );
    }

    #[test]
    fn diff_names_the_iteration_of_a_repeated_step() {
        let expect = Expectation {
            server: vec![Verdict::Survived],
            server_errors: vec![],
            steps: [("echo".to_string(), vec!["ok".to_string()])].into(),
        };
        let mut r = rec("echo", StepOutcome::Eof { bytes: 0 });
        r.iteration = 7;
        let d = diff(&expect, Verdict::Survived, &[r], &[]);
        assert_eq!(d.len(), 1);
        assert!(d[0].contains("(line 7, a#0, iteration 7)"), "{d:?}");
    }

    #[test]
    fn diff_reports_each_mismatch() {
        let expect = Expectation {
            server: vec![Verdict::Crashed],
            server_errors: vec!["refused".into()],
            steps: [(
                "reply".to_string(),
                vec!["eof".to_string(), "reset".to_string()],
            )]
            .into(),
        };
        let d = diff(
            &expect,
            Verdict::Survived,
            &[rec(
                "reply",
                StepOutcome::Timeout {
                    bytes: 0,
                    after_ms: 1000,
                },
            )],
            &[],
        );
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("server: expected crashed, got survived"));
        assert!(d[1].contains("\"refused\"") && d[1].ends_with("none"));
        assert!(
            d[2].contains("step reply (line 7, a#0)") && d[2].contains("timeout after 1000 ms")
        );
    }

    #[test]
    fn diff_is_empty_when_everything_matches() {
        let expect = Expectation {
            server: vec![Verdict::Survived, Verdict::Leaked],
            server_errors: vec!["ECONNRESET".into()],
            steps: [(
                "reply".to_string(),
                vec!["eof".to_string(), "reset".to_string()],
            )]
            .into(),
        };
        let ev = ServerEvent::new(
            "recv",
            &netrepro_sys::errors::ObservedError {
                raw: Some(104),
                name: "ECONNRESET".into(),
                class: ErrorClass::Reset,
            },
            false,
            0,
        );
        let steps = [rec("reply", err("ECONNRESET", ErrorClass::Reset, 104))];
        assert!(diff(&expect, Verdict::Leaked, &steps, &[ev]).is_empty());
    }
}
