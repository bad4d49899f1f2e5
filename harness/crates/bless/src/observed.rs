//! What one result of a report observed, spelled as the matchers a scenario
//! file states: the verdict, one matcher per distinct server error and the
//! distinct outcomes of each named step. Several results for the same cell
//! (one per report) merge into one [`Cell`]: any of their verdicts and
//! outcomes is acceptable, and only the errors every run showed are required.
//!
//! Errors are written as their portable class (`reset`), which is what the
//! runner's check matches first; the class `other` says nothing, so an
//! error of that class is written by its OS name when the error tables know
//! the name (`WSAEOPNOTSUPP`), else as `other`.

use netrepro_observe::{StepOutcome, StepRecord};
use netrepro_report::ResultRecord;
use netrepro_scenario::{Scenario, Verdict};
use netrepro_sys::errors::ErrorClass;

/// One result, ready to be compared with a cell or written into one.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// Index of the report it came from (in the order given).
    pub source: usize,
    pub record: &'a ResultRecord,
    /// The server's verdict (results without one are never observations).
    pub verdict: Verdict,
    /// Whether any resource counter was sampled. Without one (Wine, a
    /// `--target-addr` server) a leak or a spin cannot be seen, so
    /// `survived` only means "survived, leaked or busy".
    pub resources_seen: bool,
}

impl<'a> Observation<'a> {
    /// `None` when the result has no verdict.
    pub fn of(source: usize, record: &'a ResultRecord) -> Option<Self> {
        Some(Observation {
            source,
            record,
            verdict: record.verdict?,
            resources_seen: record.samples.iter().any(sampled),
        })
    }

    /// Distinct server error matchers, in order of first appearance.
    pub fn server_errors(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.record.server_errors {
            push_new(&mut out, error_matcher(&e.name, e.class));
        }
        out
    }

    /// Distinct outcome matchers of the step `id`, in order of first
    /// appearance; empty when the step never ran.
    pub fn step(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.record.steps {
            if r.id.as_deref() == Some(id) {
                push_new(&mut out, record_matcher(r));
            }
        }
        out
    }
}

/// Whether a sample knows any counter the verdict could rest on.
fn sampled(s: &netrepro_observe::ResourceSample) -> bool {
    [
        s.fds,
        s.close_wait,
        s.tcp_sockets,
        s.udp_sockets,
        s.sockets,
        s.threads,
        s.processes,
        s.cpu_ms,
    ]
    .iter()
    .any(Option::is_some)
}

fn push_new(out: &mut Vec<String>, m: String) {
    if !out.contains(&m) {
        out.push(m);
    }
}

/// The matcher for an error: its class, or for class `other` its OS name
/// when that is a name the scenario parser accepts.
pub fn error_matcher(name: &str, class: ErrorClass) -> String {
    if class == ErrorClass::Other && netrepro_sys::errors::is_known_name(name) {
        return name.to_string();
    }
    class.as_str().to_string()
}

/// The matcher for one step record, as the runner's `record_matches` reads it.
pub fn record_matcher(r: &StepRecord) -> String {
    match &r.outcome {
        StepOutcome::Ok { .. } if r.is_short() => "short".into(),
        StepOutcome::Ok { .. } => "ok".into(),
        StepOutcome::Eof { .. } => "eof".into(),
        StepOutcome::Timeout { .. } => "timeout".into(),
        StepOutcome::Skipped { .. } => "skipped".into(),
        StepOutcome::Error { error, .. } => error_matcher(&error.name, error.class),
    }
}

/// The expectation one or more observations make: what bless writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Every verdict seen, in order of first appearance.
    pub server: Vec<Verdict>,
    /// The errors every observation showed (each must be seen again).
    pub server_errors: Vec<String>,
    /// Step id -> every outcome seen, in the scenario's step order; only
    /// steps that ran in every observation.
    pub steps: Vec<(String, Vec<String>)>,
}

impl Cell {
    /// Merge observations of one cell (at least one).
    pub fn merge(scenario: &Scenario, obs: &[Observation<'_>]) -> Cell {
        let mut server = Vec::new();
        for o in obs {
            if !server.contains(&o.verdict) {
                server.push(o.verdict);
            }
        }
        let mut server_errors = obs.first().map(|o| o.server_errors()).unwrap_or_default();
        for o in obs.iter().skip(1) {
            let theirs = o.server_errors();
            server_errors.retain(|m| theirs.contains(m));
        }
        let mut steps = Vec::new();
        let mut seen_ids: Vec<&str> = Vec::new();
        for id in scenario.steps.iter().filter_map(|s| s.id.as_deref()) {
            if seen_ids.contains(&id) {
                continue;
            }
            seen_ids.push(id);
            let per_run: Vec<Vec<String>> = obs.iter().map(|o| o.step(id)).collect();
            if per_run.iter().any(Vec::is_empty) {
                continue;
            }
            let mut all: Vec<String> = Vec::new();
            for m in per_run.into_iter().flatten() {
                push_new(&mut all, m);
            }
            steps.push((id.to_string(), all));
        }
        Cell {
            server,
            server_errors,
            steps,
        }
    }

    /// One line for a person: `crashed (reset); b-served: eof`.
    pub fn describe(&self) -> String {
        let mut s = self
            .server
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        if !self.server_errors.is_empty() {
            s.push_str(&format!(" ({})", self.server_errors.join(", ")));
        }
        for (id, ms) in &self.steps {
            s.push_str(&format!("; {id}: {}", ms.join(" / ")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ObservedError;

    fn rec(outcome: StepOutcome, wanted: Option<usize>) -> StepRecord {
        StepRecord {
            index: 0,
            line: 1,
            id: Some("x".into()),
            actor: "a".into(),
            member: 0,
            iteration: 0,
            op: "recv".into(),
            outcome,
            elapsed_ms: 0,
            wanted,
            runs: 1,
            last: None,
        }
    }

    /// Whatever bless writes for a record, the runner's check accepts it.
    #[test]
    fn each_matcher_matches_its_own_record() {
        let err = |name: &str, class| StepOutcome::Error {
            bytes: 0,
            error: ObservedError {
                raw: Some(1),
                name: name.into(),
                class,
            },
        };
        let cases = [
            (rec(StepOutcome::Ok { bytes: 4 }, Some(4)), "ok"),
            (rec(StepOutcome::Ok { bytes: 2 }, Some(4)), "short"),
            (rec(StepOutcome::Eof { bytes: 0 }, Some(4)), "eof"),
            (
                rec(
                    StepOutcome::Timeout {
                        bytes: 0,
                        after_ms: 5,
                    },
                    None,
                ),
                "timeout",
            ),
            (
                rec(
                    StepOutcome::Skipped {
                        reason: "no socket".into(),
                    },
                    None,
                ),
                "skipped",
            ),
            (rec(err("WSAECONNRESET", ErrorClass::Reset), None), "reset"),
            (
                rec(err("WSAEOPNOTSUPP", ErrorClass::Other), None),
                "WSAEOPNOTSUPP",
            ),
            (rec(err("MADE_UP", ErrorClass::Other), None), "other"),
        ];
        for (r, want) in cases {
            let m = record_matcher(&r);
            assert_eq!(m, want);
            assert!(
                netrepro_runner::expect::record_matches(&m, &r),
                "{m} must match {r:?}"
            );
        }
    }
}
