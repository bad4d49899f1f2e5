//! The extra files `run` writes at the end besides the JSON report:
//! `--junit`, `--ctrf`, `--markdown`. Each written atomically; a failure to
//! write one is reported and makes the run exit 2.

use super::matrix::Matrix;
use super::model::Report;
use super::{ctrf, junit, load, markdown, write};
use std::path::{Path, PathBuf};

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
                Ok(()) => crate::output::outln!("{what}: {}", p.display()),
                Err(e) => {
                    crate::output::errln!("error: cannot write {what} {}: {e}", p.display());
                    ok = false;
                }
            }
        }
    };
    put(&extra.junit, "junit", &|| junit::render(report));
    put(&extra.ctrf, "ctrf", &|| {
        ctrf::render(report, crate::platform::under_wine())
    });
    put(&extra.markdown, "markdown", &|| {
        let l = load::Loaded {
            path: report_path.to_path_buf(),
            doc: load::Document::Report(report.clone()),
            host_wine: Some(crate::platform::under_wine()),
        };
        markdown::render(&Matrix::from_loaded(&l))
    });
    ok
}
