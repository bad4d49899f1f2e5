//! The behaviour matrix: reports from several hosts (Linux, Windows, macOS,
//! Wine) merged into scenario x (platform, impl) -> verdict, status and the
//! error names seen on each side. Versioned like the report
//! (`MATRIX_SCHEMA_VERSION`, same compatibility rule, see reports/README.md).

use super::load::Loaded;
use super::model::{Host, ResultRecord, ScenarioInfo, Status, Summary, Tool};
use netrepro_observe::ProbeResult;
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, StepRecord, TargetOutput};
use netrepro_scenario::{ExpectKey, Impl, Os, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MATRIX_SCHEMA_VERSION: u32 = 1;

/// Scenario x (platform, impl) behaviour matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Matrix {
    /// Version of this format (see reports/README.md).
    pub matrix_version: u32,
    /// The program that merged the reports.
    pub tool: Tool,
    /// When the matrix was made (RFC 3339, UTC).
    pub generated_at: String,
    /// One entry per merged report, in the order given.
    pub sources: Vec<Source>,
    /// Every (platform label, impl) pair, in source order then impl order.
    pub columns: Vec<Column>,
    /// One row per scenario name, in order of first appearance.
    pub rows: Vec<Row>,
}

/// One merged report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// Column label of this report's platform: `linux`, `windows`, `macos`,
    /// `wine`, or what `--label` said.
    pub label: String,
    /// Which expectations apply on that platform.
    pub platform: ExpectKey,
    /// The report file as given on the command line.
    pub file: String,
    /// The report's host.
    pub host: Host,
    /// When that run started (RFC 3339).
    pub started_at: String,
    /// False if that run was interrupted.
    pub complete: bool,
    /// That report's own counts.
    pub summary: Summary,
}

/// One (platform, impl) column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Column {
    /// `<label>/<impl>`, the key of `Row::cells`.
    pub id: String,
    /// The source's label.
    pub label: String,
    /// The source's platform.
    pub platform: ExpectKey,
    /// Which built-in server.
    #[serde(rename = "impl")]
    pub impl_: Impl,
}

/// One scenario across all columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Row {
    /// The scenario as the first report that ran it describes it.
    pub scenario: ScenarioInfo,
    /// Column id -> what happened there; columns where it did not run are absent.
    pub cells: BTreeMap<String, Cell>,
}

/// One scenario on one platform against one impl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cell {
    /// What happened to the server; `None` if it could not be started or was skipped.
    pub verdict: Option<Verdict>,
    /// Acceptable verdicts there; empty = unknown.
    pub expected: Vec<Verdict>,
    /// Outcome against the expectation.
    pub status: Status,
    /// Distinct client-side error names, in order of first appearance.
    pub client_errors: Vec<String>,
    /// Distinct server-side error names, in order of first appearance.
    pub server_errors: Vec<String>,
    /// Server-side error names the server died of (subset of `server_errors`).
    pub fatal_errors: Vec<String>,
    /// Mismatches between expectation and observation.
    pub diff: Vec<String>,
    /// Notes from the run (why skipped, platform caveats).
    pub notes: Vec<String>,
    /// Why it could not run.
    pub setup_error: Option<String>,
    /// Status `error`: what failed on the harness's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_error: Option<String>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// How the server process ended, if it did.
    pub exit: Option<ExitInfo>,
    /// The liveness probe.
    pub probe: Option<ProbeResult>,
    /// The step timeline.
    pub steps: Vec<StepRecord>,
    /// Every server-side error event.
    pub server_events: Vec<ServerEvent>,
    /// What the server process wrote (see the report's `output`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<TargetOutput>,
    /// Resource samples of the server process.
    pub samples: Vec<ResourceSample>,
}

impl Cell {
    pub fn of(r: &ResultRecord) -> Cell {
        let mut server_errors: Vec<String> = Vec::new();
        let mut fatal_errors: Vec<String> = Vec::new();
        for e in &r.server_errors {
            push_unique(&mut server_errors, &e.name);
            if e.fatal {
                push_unique(&mut fatal_errors, &e.name);
            }
        }
        Cell {
            verdict: r.verdict,
            expected: r.expected.clone(),
            status: r.status,
            client_errors: r.client_errors().iter().map(|e| e.name.clone()).collect(),
            server_errors,
            fatal_errors,
            diff: r.diff.clone(),
            notes: r.notes.clone(),
            setup_error: r.setup_error.clone(),
            harness_error: r.harness_error.clone(),
            duration_ms: r.duration_ms,
            exit: r.exit.clone(),
            probe: r.probe.clone(),
            steps: r.steps.clone(),
            server_events: r.server_errors.clone(),
            output: r.output.clone(),
            samples: r.samples.clone(),
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{second} and {first} are both labelled {label:?}; give one another label with --label {second}=NAME")]
    DuplicateLabel {
        label: String,
        first: String,
        second: String,
    },
    #[error("--label {0:?} is not PATH=NAME")]
    BadLabel(String),
    #[error("--label {0:?} names no input file")]
    UnusedLabel(String),
    #[error("nothing to merge: give at least one report")]
    Empty,
}

/// The platform of a report: an explicit label wins, then `host.wine`
/// (written by hosts that know they run under Wine), then a file name
/// containing "wine" for a Windows report, then the host OS.
pub fn platform_of(loaded: &Loaded, report_os: Os, label: Option<&str>) -> (String, ExpectKey) {
    let by_name = || {
        loaded
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase().contains("wine"))
            .unwrap_or(false)
    };
    let wine = report_os == Os::Windows && (loaded.host_wine.unwrap_or(false) || by_name());
    let platform = if wine {
        ExpectKey::Wine
    } else {
        ExpectKey::from(report_os)
    };
    let default = match platform {
        ExpectKey::Linux => "linux",
        ExpectKey::Windows => "windows",
        ExpectKey::Macos => "macos",
        ExpectKey::Wine => "wine",
    };
    (label.unwrap_or(default).to_string(), platform)
}

/// Parse `--label PATH=NAME` arguments.
pub fn parse_labels(args: &[String]) -> Result<Vec<(String, String)>, MergeError> {
    args.iter()
        .map(|a| match a.rsplit_once('=') {
            Some((p, n)) if !p.is_empty() && !n.is_empty() => Ok((p.to_string(), n.to_string())),
            _ => Err(MergeError::BadLabel(a.clone())),
        })
        .collect()
}

/// Merge loaded documents. A loaded matrix contributes its sources and
/// cells as they are (so matrices can be merged again); a report becomes one
/// source.
pub fn merge(
    inputs: &[Loaded],
    labels: &[(String, String)],
    generated_at: String,
) -> Result<Matrix, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Empty);
    }
    for (p, _) in labels {
        if !inputs.iter().any(|l| l.display() == *p) {
            return Err(MergeError::UnusedLabel(p.clone()));
        }
    }
    let mut m = Matrix {
        matrix_version: MATRIX_SCHEMA_VERSION,
        tool: super::host::tool(),
        generated_at,
        sources: Vec::new(),
        columns: Vec::new(),
        rows: Vec::new(),
    };
    let mut label_file: BTreeMap<String, String> = BTreeMap::new();
    let mut add_label = |label: &str, file: &str| match label_file.get(label) {
        Some(first) => Err(MergeError::DuplicateLabel {
            label: label.to_string(),
            first: first.clone(),
            second: file.to_string(),
        }),
        None => {
            label_file.insert(label.to_string(), file.to_string());
            Ok(())
        }
    };
    for input in inputs {
        let file = input.display();
        match &input.doc {
            super::load::Document::Report(rep) => {
                let label = labels
                    .iter()
                    .find(|(p, _)| *p == file)
                    .map(|(_, n)| n.as_str());
                let (label, platform) = platform_of(input, rep.host.os, label);
                add_label(&label, &file)?;
                m.sources.push(Source {
                    label: label.clone(),
                    platform,
                    file: file.clone(),
                    host: rep.host.clone(),
                    started_at: rep.started_at.clone(),
                    complete: rep.complete,
                    summary: rep.summary.clone(),
                });
                for r in &rep.results {
                    let id = format!("{label}/{}", r.impl_.as_str());
                    add_column(&mut m.columns, &id, &label, platform, r.impl_);
                    row_mut(&mut m.rows, &r.scenario)
                        .cells
                        .insert(id, Cell::of(r));
                }
            }
            super::load::Document::Matrix(other) => {
                for s in &other.sources {
                    add_label(&s.label, &file)?;
                    m.sources.push(s.clone());
                }
                for c in &other.columns {
                    add_column(&mut m.columns, &c.id, &c.label, c.platform, c.impl_);
                }
                for r in &other.rows {
                    let row = row_mut(&mut m.rows, &r.scenario);
                    for (k, v) in &r.cells {
                        row.cells.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Ok(m)
}

fn add_column(cols: &mut Vec<Column>, id: &str, label: &str, platform: ExpectKey, imp: Impl) {
    if !cols.iter().any(|c| c.id == id) {
        cols.push(Column {
            id: id.to_string(),
            label: label.to_string(),
            platform,
            impl_: imp,
        });
    }
}

fn row_mut<'a>(rows: &'a mut Vec<Row>, sc: &ScenarioInfo) -> &'a mut Row {
    let i = match rows.iter().position(|r| r.scenario.name == sc.name) {
        Some(i) => i,
        None => {
            rows.push(Row {
                scenario: sc.clone(),
                cells: BTreeMap::new(),
            });
            rows.len() - 1
        }
    };
    &mut rows[i]
}

impl Matrix {
    /// A single report as a one-platform matrix (for `html`, `markdown`,
    /// `diff` on plain reports).
    pub fn from_loaded(l: &Loaded) -> Matrix {
        match &l.doc {
            super::load::Document::Matrix(m) => m.clone(),
            super::load::Document::Report(_) => merge(std::slice::from_ref(l), &[], String::new())
                .expect("one report always merges"),
        }
    }

    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}
