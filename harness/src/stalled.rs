//! `run`'s answer to a stalled runtime (`netrepro_runner::watchdog`): once
//! the watchdog has killed every server, the report as far as the run got,
//! every run without a result recorded as the harness's error (status
//! `error`, the watchdog's reason), `complete: false`, written atomically
//! with the extra formats; a clear error on stderr; exit 5
//! ([`EXIT_HARNESS`]), or 4 if the report could not be written.

use crate::exit::{EXIT_HARNESS, EXIT_REPORT};
use crate::outputs::Extra;
use netrepro_report::{json, Report, Summary};
use netrepro_runner::{record, watchdog, RunConfig, Subject};
use netrepro_scenario::Scenario;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What the run has seen so far, shared with the watchdog's thread.
#[derive(Clone)]
pub struct Seen(Arc<Mutex<Report>>);

impl Seen {
    pub fn new(report: Report) -> Seen {
        Seen(Arc::new(Mutex::new(report)))
    }

    /// The run's report as it is now (call after every result).
    pub fn update(&self, report: &Report) {
        *self.lock() = report.clone();
    }

    fn lock(&self) -> MutexGuard<'_, Report> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything the stalled run's report needs besides what it has seen.
pub struct Run {
    /// Every (scenario, subject) in the order results come back.
    pub cells: Vec<(Scenario, Subject)>,
    pub cfg: RunConfig,
    pub report_path: PathBuf,
    pub extra: Extra,
    pub started: Instant,
}

/// Start the watchdog for a `run` (see module doc).
pub fn watchdog(seen: Seen, run: Run) -> Result<watchdog::Watchdog, u8> {
    watchdog::Watchdog::start(move |stalled_for| write(&seen, &run, stalled_for)).map_err(|e| {
        netrepro_sys::errln!("error: cannot start the watchdog thread: {e}");
        crate::exit::EXIT_INPUT
    })
}

/// The report of a run the watchdog ended `stalled_for` after its last
/// result; returns the exit code.
fn write(seen: &Seen, run: &Run, stalled_for: Duration) -> u8 {
    let reason = watchdog::reason(stalled_for);
    let mut rep = seen.lock().clone();
    let pending = run.cells.iter().skip(rep.results.len());
    for (sc, subject) in pending {
        let rec = record::not_finished(sc, subject, &run.cfg, reason.clone());
        rep.results.push(rec);
    }
    rep.summary = Summary::of(&rep.results);
    rep.complete = false;
    rep.duration_ms = run.started.elapsed().as_millis() as u64;
    netrepro_sys::errln!("\nerror: {reason}");
    let path = &run.report_path;
    let written = match json::write_atomic(path, &rep) {
        Ok(()) => {
            netrepro_sys::errln!("report (incomplete): {}", path.display());
            true
        }
        Err(e) => {
            netrepro_sys::errln!("error: cannot write report {}: {e}", path.display());
            false
        }
    };
    if written && crate::outputs::write_all(&run.extra, &rep, path) {
        EXIT_HARNESS
    } else {
        EXIT_REPORT
    }
}
