//! The result of one run as the report holds it ([`ResultRecord`]):
//! created with what is known before anything starts, ended early for a
//! scenario that does not run or whose server does not start, and given its
//! status once the verdict was checked against the expectation.

use crate::external::ExternalTarget;
use crate::harness_error;
use crate::plan::Plan;
use crate::preflight::NotRun;
use crate::start::{Blame, StartError};
use netrepro_report::{ResultRecord, ScenarioInfo, Status};
use netrepro_scenario::{Expectation, Scenario};
use tokio::time::Instant;

fn info(sc: &Scenario) -> ScenarioInfo {
    ScenarioInfo {
        name: sc.name.clone(),
        path: sc.path.display().to_string(),
        summary: sc.summary.clone(),
        refs: sc.refs.clone(),
        proto: sc.target.proto,
        mode: sc.target.mode,
    }
}

/// The record of `sc` run as `plan` says, before anything ran: status
/// failed until a stage says otherwise.
pub fn new(sc: &Scenario, plan: &Plan<'_>) -> ResultRecord {
    ResultRecord {
        scenario: info(sc),
        impl_: plan.imp,
        verdict: None,
        expected: plan.expect.server.clone(),
        status: Status::Failed,
        notes: Vec::new(),
        diff: Vec::new(),
        exit: None,
        probe: None,
        steps: Vec::new(),
        server_errors: Vec::new(),
        output: None,
        samples: Vec::new(),
        setup_error: None,
        input_error: false,
        harness_error: None,
        duration_ms: 0,
        target: plan.ext.map(ExternalTarget::info),
        cut_short: None,
        granted_sockopts: Default::default(),
    }
}

fn finish(mut rec: ResultRecord, started: Instant) -> ResultRecord {
    rec.duration_ms = started.elapsed().as_millis() as u64;
    rec
}

fn setup_error(mut rec: ResultRecord, msg: String, started: Instant) -> ResultRecord {
    rec.diff = vec![format!("setup: {msg}")];
    rec.setup_error = Some(msg);
    finish(rec, started)
}

/// The record of a scenario the preflight checks did not let run.
pub fn not_run(mut rec: ResultRecord, why: NotRun, started: Instant) -> ResultRecord {
    match why {
        NotRun::Skipped(note) => {
            rec.status = Status::Skipped;
            rec.notes.push(note);
            finish(rec, started)
        }
        NotRun::HarnessError(why) => {
            harness_error::mark(&mut rec, why);
            finish(rec, started)
        }
        NotRun::Setup(e) => setup_error(rec, e.to_string(), started),
    }
}

/// The record of a run whose server did not start, by whose side failed.
pub fn not_started(mut rec: ResultRecord, e: StartError, started: Instant) -> ResultRecord {
    match e.blame() {
        Blame::Harness => {
            harness_error::mark(&mut rec, e.to_string());
            finish(rec, started)
        }
        Blame::Input => {
            rec.input_error = true;
            setup_error(rec, e.to_string(), started)
        }
        Blame::Setup => setup_error(rec, e.to_string(), started),
    }
}

/// The record of a run the backstop cut off (`backstop`).
pub fn backstop_fired(
    mut rec: ResultRecord,
    limit: std::time::Duration,
    started: Instant,
) -> ResultRecord {
    harness_error::mark(&mut rec, crate::backstop::reason(limit));
    finish(rec, started)
}

/// The record of a run that did not finish because the watchdog ended the
/// whole run (`watchdog`): the harness's error `reason`, nothing about the
/// server.
pub fn not_finished(
    sc: &Scenario,
    subject: &crate::plan::Subject,
    cfg: &crate::RunConfig,
    reason: String,
) -> ResultRecord {
    let mut rec = new(sc, &Plan::new(sc, subject, cfg));
    harness_error::mark(&mut rec, reason);
    rec
}

/// The record of a run that ran to its end, with its diff against
/// `expect` filled in: a harness error if the harness could not set the run
/// up as written (`harness_why`, e.g. a socket option the OS refused) or its
/// own sockets ran out, else failed (a diff), unverified (nothing expected)
/// or passed.
pub fn finished(
    mut rec: ResultRecord,
    expect: &Expectation,
    harness_why: Option<String>,
    started: Instant,
) -> ResultRecord {
    let harness_why =
        harness_why.or_else(|| harness_error::in_outcomes(&rec.steps, rec.probe.as_ref()));
    rec.status = if let Some(why) = harness_why {
        harness_error::mark(&mut rec, why);
        Status::Error
    } else if !rec.diff.is_empty() {
        Status::Failed
    } else if expect.server.is_empty() {
        Status::Unverified
    } else {
        Status::Passed
    };
    finish(rec, started)
}
