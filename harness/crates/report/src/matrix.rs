//! The behaviour matrix: reports from several hosts (Linux, Windows, macOS,
//! Wine) merged into scenario x (platform, impl) -> verdict, status and the
//! error names seen on each side. Versioned like the report
//! (`MATRIX_SCHEMA_VERSION`, same compatibility rule, see reports/README.md).
//! This is the model; `merge` builds one from loaded reports.

use super::model::{Host, ResultRecord, ScenarioInfo, Status, Summary, Tool};
use netrepro_observe::ProbeResult;
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, StepRecord, TargetOutput};
use netrepro_scenario::{ExpectKey, Impl, Verdict};
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

impl Matrix {
    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}
