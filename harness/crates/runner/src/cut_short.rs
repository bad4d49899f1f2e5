//! A scenario cut short by its overall `timeout_ms`: the steps that did not
//! run (or were cut off by the deadline) make the result incomplete, and the
//! report must say so as data, not only as a note (issue 10, item 10).

use netrepro_observe::{StepOutcome, StepRecord};
use netrepro_report::CutShort;
use netrepro_scenario::Scenario;

/// `Some` when the scenario's deadline kept steps from running: how many of
/// the step executions the scenario asks for ran.
pub fn check(sc: &Scenario, steps: &[StepRecord], deadline_reached: bool) -> Option<CutShort> {
    if !deadline_reached {
        return None;
    }
    let ran = steps
        .iter()
        .filter(|s| !matches!(s.outcome, StepOutcome::Skipped { .. }))
        // A record can stand for several runs with the same outcome.
        .map(|s| s.runs)
        .sum();
    Some(CutShort {
        timeout_ms: sc.timeout_ms,
        executions_planned: sc.executions(),
        executions_run: ran,
    })
}

/// The diff line that fails a result with an expectation when it was cut short.
pub fn diff_line(c: &CutShort) -> String {
    format!(
        "cut short: the scenario's timeout of {} ms ended it after {} of {} step executions; the verdict is about a scenario that did not run to its end",
        c.timeout_ms, c.executions_run, c.executions_planned
    )
}

/// Whether `expect` anticipates the cut: it accepts
/// `skipped` as some step's outcome (a scenario written to be ended by its
/// deadline, e.g. a storm whose late client is "skipped" or "timeout").
/// Only then does a cut-short result not fail.
pub fn anticipated(expect: &netrepro_scenario::Expectation) -> bool {
    expect
        .steps
        .values()
        .any(|m| m.iter().any(|x| x == "skipped"))
}
