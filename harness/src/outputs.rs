//! The files `run` writes: the JSON report (`--report`, rewritten after
//! every result) and, at the end, `--junit`, `--ctrf`, `--markdown`. Each
//! written atomically; every path is checked before the run starts
//! ([`preflight`]); a failure to write one is printed once and makes the run
//! exit 4 (`exit::EXIT_REPORT`). The formats themselves are
//! `netrepro_report`'s; this module is the run's side: which files, and what
//! it says about them.

use netrepro_report::matrix::Matrix;
use netrepro_report::model::Report;
use netrepro_report::{ctrf, json, junit, load, markdown, write};
use std::path::{Path, PathBuf};

/// Check every output path before the run (see `write::preflight`); prints
/// each problem and returns false if there was one.
pub fn preflight(report_path: &Path, extra: &Extra) -> bool {
    let mut ok = true;
    let all = [
        ("report", Some(report_path)),
        ("junit", extra.junit.as_deref()),
        ("ctrf", extra.ctrf.as_deref()),
        ("markdown", extra.markdown.as_deref()),
    ];
    for (what, path) in all {
        if let Some(p) = path {
            if let Err(e) = write::preflight(p) {
                netrepro_sys::errln!("error: cannot write {what} {}: {e}", p.display());
                ok = false;
            }
        }
    }
    ok
}

/// The JSON report of a run, rewritten after every result so an interrupted
/// run keeps what it saw. A failed write is printed once per run, not once
/// per result; the run goes on (a later write may succeed, e.g. after disk
/// space was freed) and [`JsonReport::written`] says whether the last one did.
#[derive(Debug)]
pub struct JsonReport {
    path: PathBuf,
    complained: bool,
    written: bool,
}

impl JsonReport {
    pub fn new(path: PathBuf) -> JsonReport {
        JsonReport {
            path,
            complained: false,
            written: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `report`; returns whether it was written. Once the run is
    /// interrupted nothing is written any more (the last report stays: see
    /// [`netrepro_sys::interrupt`]).
    pub fn write(&mut self, report: &Report) -> bool {
        let Some(result) =
            netrepro_sys::interrupt::unless_interrupted(|| json::write_atomic(&self.path, report))
        else {
            return self.written;
        };
        match result {
            Ok(()) => self.written = true,
            Err(e) => {
                self.written = false;
                if !self.complained {
                    self.complained = true;
                    netrepro_sys::errln!("error: cannot write report {}: {e}", self.path.display());
                }
            }
        }
        self.written
    }

    /// Whether the last write succeeded (the file holds the latest report).
    pub fn written(&self) -> bool {
        self.written
    }
}

/// Which extra files to write.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub junit: Option<PathBuf>,
    pub ctrf: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

/// Write them; returns false if any could not be written (already printed).
pub fn write_all(extra: &Extra, report: &Report, report_path: &Path) -> bool {
    let mut ok = true;
    let mut put = |path: &Option<PathBuf>, what: &str, text: &dyn Fn() -> String| {
        if let Some(p) = path {
            match write::atomic(p, text().as_bytes()) {
                Ok(()) => netrepro_sys::outln!("{what}: {}", p.display()),
                Err(e) => {
                    netrepro_sys::errln!("error: cannot write {what} {}: {e}", p.display());
                    ok = false;
                }
            }
        }
    };
    put(&extra.junit, "junit", &|| junit::render(report));
    put(&extra.ctrf, "ctrf", &|| {
        ctrf::render(report, netrepro_sys::platform::under_wine())
    });
    put(&extra.markdown, "markdown", &|| {
        let l = load::Loaded {
            path: report_path.to_path_buf(),
            doc: load::Document::Report(report.clone()),
            host_wine: Some(netrepro_sys::platform::under_wine()),
        };
        markdown::render(&Matrix::from_loaded(&l))
    });
    ok
}
