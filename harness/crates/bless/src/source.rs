//! Reading the reports to bless from, and the input errors bless stops on
//! (each names the file and what is wrong).

use netrepro_report::load::{Document, LoadError};
use netrepro_report::{Environment, Report, SCHEMA_VERSION};
use netrepro_scenario::{ExpectKey, Observed, ScenarioError};
use std::path::{Path, PathBuf};

/// A report to bless from.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub report: Report,
}

impl Source {
    /// The cell key the report's host stands for: its OS, or `wine`.
    pub fn host_key(&self) -> ExpectKey {
        if self.report.host.environment == Environment::Wine {
            ExpectKey::Wine
        } else {
            ExpectKey::from(self.report.host.os)
        }
    }

    /// The `observed` marker a cell this report confirms gets: the host's
    /// OS version, arch and Wine version, the netrepro version and the day
    /// the run started. Control characters are dropped and long text cut,
    /// as the scenario parser allows; `Err` says why there is no marker
    /// (a report without a readable start day).
    pub fn marker(&self) -> Result<Observed, String> {
        fn clean(s: &str) -> String {
            let s: String = s.chars().filter(|c| !c.is_control()).take(100).collect();
            s.trim().to_string()
        }
        let h = &self.report.host;
        let o = Observed {
            os_version: clean(&h.os_version),
            arch: Some(clean(&h.arch)).filter(|a| !a.is_empty()),
            wine: h.wine.as_deref().map(clean).filter(|w| !w.is_empty()),
            netrepro: clean(&self.report.tool.version),
            date: self.report.started_at.chars().take(10).collect(),
        };
        netrepro_scenario::parse::check_observed(&o)
            .map(|()| o)
            .map_err(|e| format!("{}: no observed marker: {e}", self.path.display()))
    }

    /// Where the observation was made, for the comment in a written cell:
    /// `Observed on Windows 6.1.7601 (x86_64) under Wine 8.0, report of
    /// 2026-11-26 (netrepro bless)`. Text from the report is escaped.
    pub fn provenance(&self) -> String {
        let h = &self.report.host;
        let mut s = format!("{} ({})", h.os_version, h.arch);
        if let Some(w) = &h.wine {
            s.push_str(&format!(" under Wine {w}"));
        }
        let date = self.report.started_at.get(..10).unwrap_or("");
        let date = if date.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            date
        } else {
            ""
        };
        let mut line = format!("Observed on {s}");
        if !date.is_empty() {
            line.push_str(&format!(", report of {date}"));
        }
        line.push_str(" (netrepro bless)");
        netrepro_sys::escape::terminal(&line).into_owned()
    }
}

/// Everything that stops bless before it writes anything: bad input.
#[derive(Debug, thiserror::Error)]
pub enum BlessError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{path}: a behaviour matrix, not a run report; bless reads the JSON report of `netrepro run --report`")]
    NotAReport { path: PathBuf },
    #[error("{path}: report schema version {found}; bless reads version {supported} only (run the scenarios again with this netrepro)")]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{report}: result for scenario {scenario:?}: scenario file {file} does not exist (run bless from the folder the run was made in, or pass --scenarios)")]
    ScenarioMissing {
        report: PathBuf,
        scenario: String,
        file: PathBuf,
    },
    #[error("{report}: result for scenario {scenario:?}: {detail}")]
    ScenarioNotFound {
        report: PathBuf,
        scenario: String,
        detail: String,
    },
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{report}: result for scenario {scenario:?} does not fit {file}: {detail}; the scenario changed since the report was made (run it again)")]
    Stale {
        report: PathBuf,
        scenario: String,
        file: PathBuf,
        detail: String,
    },
    #[error("{file}: cannot edit: {detail}")]
    Edit { file: PathBuf, detail: String },
}

/// Read a report; only the current report schema is accepted (a cell is
/// written from its step records and samples, whose meaning is versioned).
pub fn load(path: &Path) -> Result<Source, BlessError> {
    let loaded = netrepro_report::load::load(path)?;
    match loaded.doc {
        Document::Matrix(_) => Err(BlessError::NotAReport {
            path: path.to_path_buf(),
        }),
        Document::Report(r) if r.schema_version != SCHEMA_VERSION => {
            Err(BlessError::SchemaVersion {
                path: path.to_path_buf(),
                found: r.schema_version,
                supported: SCHEMA_VERSION,
            })
        }
        Document::Report(report) => Ok(Source {
            path: path.to_path_buf(),
            report,
        }),
    }
}
