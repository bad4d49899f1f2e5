//! One test: one scenario against one target. [`Case::run`] runs it to the
//! end (the runner bounds every wait and leaves no process behind) and
//! turns the result into a pass or a [`Failure`] whose text is netrepro's
//! diff.

use netrepro_report::{ResultRecord, Status};
use netrepro_runner::watchdog::{self, Watchdog};
use netrepro_runner::{run_subject, RunConfig, Subject};
use netrepro_scenario::{Scenario, Verdict};
use netrepro_sys::escape::terminal;
use std::fmt::{self, Write as _};

/// One scenario against one target, named `<scenario>::<target>` (e.g.
/// `tcp/rst-mid-request::my-server`). Made by [`crate::Suite::cases`].
#[derive(Debug, Clone)]
pub struct Case {
    pub(crate) name: String,
    pub(crate) scenario: Scenario,
    pub(crate) subject: Subject,
    pub(crate) config: RunConfig,
}

/// A case that met its expectation (or was skipped on this platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// The server's verdict; `None` when the scenario was skipped here (an
    /// option with no meaning on this OS, a pause against an address).
    pub verdict: Option<Verdict>,
    /// What netrepro noted about the run (why it was skipped, what it could
    /// not apply to a program it did not write).
    pub notes: Vec<String>,
}

/// A case that did not meet its expectation, or could not be run. Its
/// `Display` is the text a test failure shows: the scenario, netrepro's
/// diff (`server: expected survived, got crashed`), the client steps that
/// did not go as asked, the server's errors and the notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The verdict, if the server got one (`None`: not set up, or the
    /// harness itself failed).
    pub verdict: Option<Verdict>,
    /// netrepro's diff lines, one per way the observation differs from the
    /// expectation; empty when the run never got as far as a verdict.
    pub diff: Vec<String>,
    text: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Failure {}

impl Case {
    /// The test name: `<scenario>::<target>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Run the scenario against the target on a runtime of its own and
    /// check the verdict against the expectation.
    ///
    /// Should that runtime stall (no timer can fire, so not even the run's
    /// own backstop), a watchdog thread outside it kills every server this
    /// process started, prints the failure and ends the whole test process
    /// with status 101 (a failed Rust test binary's) once the run's
    /// backstop plus 5 s have passed: a stuck harness never hangs your
    /// test run.
    pub fn run(&self) -> Result<Passed, Failure> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure {
                verdict: None,
                diff: Vec::new(),
                text: format!("{}: cannot start a tokio runtime: {e}", self.name),
            })?;
        let name = self.name.clone();
        let dog = Watchdog::start(move |stalled_for| {
            netrepro_sys::errln!(
                "FAIL {}: {}; ending the test process",
                terminal(&name),
                watchdog::reason(stalled_for)
            );
            STALLED_EXIT
        })
        .map_err(|e| Failure {
            verdict: None,
            diff: Vec::new(),
            text: format!("{}: cannot start the watchdog thread: {e}", self.name),
        })?;
        let bound = watchdog::bound(&self.config, &self.scenario);
        let rec = dog.watch(bound, || {
            rt.block_on(run_subject(&self.scenario, &self.subject, &self.config))
        });
        judge(&self.name, rec)
    }
}

/// The exit status of a test process whose harness stalled: what libtest
/// and libtest-mimic exit with when a test failed.
const STALLED_EXIT: u8 = 101;

/// Pass or fail, from the record. Unverified cannot happen (every case has
/// an expectation) but is a failure if it does: a test must be able to fail.
fn judge(name: &str, rec: ResultRecord) -> Result<Passed, Failure> {
    match rec.status {
        Status::Passed if rec.verdict.is_some() => Ok(Passed {
            verdict: rec.verdict,
            notes: rec.notes,
        }),
        Status::Skipped => Ok(Passed {
            verdict: None,
            notes: rec.notes,
        }),
        _ => Err(failure(name, &rec)),
    }
}

fn failure(name: &str, rec: &ResultRecord) -> Failure {
    let mut t = String::new();
    let what = match rec.status {
        Status::Error => "the harness failed; nothing is said about the server",
        _ if rec.verdict.is_none() => "the server could not be set up",
        _ => "did not meet its expectation",
    };
    let _ = writeln!(
        t,
        "FAIL {} ({}, {}): {what}",
        terminal(name),
        terminal(&rec.scenario.name),
        terminal(&rec.scenario.path)
    );
    for d in &rec.diff {
        let _ = writeln!(t, "  {}", terminal(d));
    }
    for e in rec.setup_error.iter().chain(rec.harness_error.iter()) {
        let _ = writeln!(t, "  {}", terminal(e));
    }
    let outcomes = rec.client_outcomes();
    if !outcomes.is_empty() {
        let _ = writeln!(t, "client steps that did not go as asked:");
        for (label, runs) in outcomes {
            let _ = writeln!(t, "  {} (x{runs})", terminal(label));
        }
    }
    if let Some(x) = &rec.exit {
        match (x.code, x.signal) {
            (_, Some(sig)) => {
                let _ = writeln!(t, "the server exited: signal {sig}");
            }
            (Some(code), None) => {
                let _ = writeln!(t, "the server exited: status {code}");
            }
            (None, None) => {}
        }
    }
    if !rec.server_errors.is_empty() {
        let _ = writeln!(t, "server errors (from its stderr):");
        for e in &rec.server_errors {
            let raw = e.raw.map(|r| format!(", code {r}")).unwrap_or_default();
            let _ = writeln!(t, "  {} ({}{raw}) x{}", terminal(&e.name), e.class, e.count);
        }
    }
    if let Some(out) = rec.output.as_ref().filter(|o| !o.stderr_tail.is_empty()) {
        let _ = writeln!(t, "the server's last stderr lines:");
        for l in &out.stderr_tail {
            let _ = writeln!(t, "  | {}", terminal(l));
        }
    }
    for n in &rec.notes {
        let _ = writeln!(t, "note: {}", terminal(n));
    }
    Failure {
        verdict: rec.verdict,
        diff: rec.diff.clone(),
        text: t,
    }
}
