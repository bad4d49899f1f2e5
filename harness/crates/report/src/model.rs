//! The JSON report: the types dashboards read. Versioned by `SCHEMA_VERSION`:
//! adding a field is compatible; renaming, removing or changing the meaning
//! of one bumps the version.

use netrepro_observe::ProbeResult;
use netrepro_observe::{ExitInfo, ResourceSample, ServerEvent, StepRecord, TargetOutput};
use netrepro_scenario::{Impl, Mode, Os, Proto, Verdict};
use netrepro_sys::errors::ObservedError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// Version of this format (see `SCHEMA_VERSION` and reports/README.md).
    pub schema_version: u32,
    /// The program that wrote the report.
    pub tool: Tool,
    /// Where the run happened.
    pub host: Host,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time of the whole run so far, in milliseconds.
    pub duration_ms: u64,
    /// False while the run is still going, if it was interrupted, or if the
    /// watchdog ended a stalled run (every run without a result is then a
    /// status-`error` result): the results are what was seen so far.
    pub complete: bool,
    /// One record per scenario x implementation, in run order.
    pub results: Vec<ResultRecord>,
    /// Counts over `results`.
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tool {
    /// Always "netrepro".
    pub name: String,
    /// Crate version of the binary that ran.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Host {
    /// linux | windows | macos: which expectations were applied.
    pub os: Os,
    /// Human-readable OS version, e.g. "Debian 12 (kernel 6.1.0)".
    pub os_version: String,
    /// CPU architecture, e.g. "x86_64", "aarch64".
    pub arch: String,
    /// Whether the OS is the real one or emulated (a Windows build under Wine).
    #[serde(default)]
    pub environment: Environment,
    /// The Wine version (e.g. "8.0") when `environment` is `wine`; the
    /// `wine` expectations were applied on top of the `windows` ones.
    #[serde(default)]
    pub wine: Option<String>,
}

/// Where the harness ran: on the OS it was built for, or under Wine.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Native,
    /// Wine on Linux: Windows API, Linux kernel. Not Windows (see docs/os.md).
    Wine,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioInfo {
    /// Unique scenario name (the key across reports).
    pub name: String,
    /// Scenario file as given on the command line.
    pub path: String,
    /// One-line description from the scenario file.
    pub summary: String,
    /// Sources (issues, docs) the scenario cites.
    pub refs: Vec<String>,
    /// Transport of the server under test.
    pub proto: Proto,
    /// What the server does (echo or forward).
    pub mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResultRecord {
    pub scenario: ScenarioInfo,
    /// Which built-in server ran.
    #[serde(rename = "impl")]
    pub impl_: Impl,
    /// What happened to the server; `None` if it could not be started.
    pub verdict: Option<Verdict>,
    /// Acceptable verdicts for this impl on this platform; empty = unknown.
    pub expected: Vec<Verdict>,
    pub status: Status,
    /// Things a reader should know about this result (e.g. an option that
    /// means something else on this OS, or why it was skipped).
    #[serde(default)]
    pub notes: Vec<String>,
    /// One line per mismatch between expectation and observation.
    pub diff: Vec<String>,
    /// How the server process ended, if it did before the harness stopped it.
    pub exit: Option<ExitInfo>,
    /// The liveness probe after the steps; `None` if it did not run.
    pub probe: Option<ProbeResult>,
    /// Every executed step, per actor and group member, in execution order.
    pub steps: Vec<StepRecord>,
    /// Errors the server logged (handled or fatal) or spelled in its stderr
    /// text (`source = text`), in order of first appearance; a repeated
    /// event is one entry with a `count`.
    pub server_errors: Vec<ServerEvent>,
    /// What the server process wrote (tails of stderr and stdout) and how
    /// many events were merged or dropped; `None` when netrepro did not
    /// start the process (`--target-addr`) or it could not be started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<TargetOutput>,
    /// Resource samples of the server process (baseline, after, settled).
    pub samples: Vec<ResourceSample>,
    /// Why the scenario could not run (server failed to start ...).
    pub setup_error: Option<String>,
    /// The `setup_error` is the user's input, not the server's doing:
    /// netrepro refused to run the target as given (it announced a
    /// non-loopback address without `--allow-remote`). `run` exits 2.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub input_error: bool,
    /// Status `error` only: what failed on the harness's own side (its
    /// descriptor limit, its own connect or bind failing with EMFILE ...).
    /// The result then says nothing about the server: no verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_error: Option<String>,
    /// Wall time of this scenario x impl, in milliseconds.
    pub duration_ms: u64,
    /// Set when the scenario's overall `timeout_ms` ended it before every
    /// step (and every repetition) ran: the verdict is about a scenario
    /// that did not run to its end. With an expectation, such a result fails.
    #[serde(default)]
    pub cut_short: Option<CutShort>,
    /// `impl = "external"` only: the program or address that was tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ExternalTargetInfo>,
    /// Client actor -> what the OS granted for the socket options the
    /// scenario's `[sockopts.<actor>]` asked for, read back with getsockopt
    /// before connect (Linux doubles SO_RCVBUF / SO_SNDBUF). Absent when
    /// the scenario sets no socket options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub granted_sockopts: BTreeMap<String, netrepro_sys::sockopt::Granted>,
}

/// How far a scenario got before its overall timeout ended it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CutShort {
    /// The scenario's `timeout_ms` that was reached.
    pub timeout_ms: u64,
    /// Step executions the scenario asks for (steps x group members x repetitions).
    pub executions_planned: u64,
    /// Step executions that ran (the last may have been cut off by the deadline).
    pub executions_run: u64,
}

/// Which external target a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExternalTargetInfo {
    pub kind: ExternalKindName,
    /// The command line as given (`{port}` unsubstituted) or `host:port`.
    pub spec: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExternalKindName {
    /// `--target-cmd`: started, sampled and killed by netrepro.
    Cmd,
    /// `--target-addr`: already running; observed through the probe only.
    Addr,
}

/// Outcome of one result against its expectation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything the expectation states was observed.
    Passed,
    /// Something differs (see `diff`), or the server could not be set up.
    Failed,
    /// Not run on this platform (see `notes`).
    Skipped,
    /// Ran, but the expected verdict is unknown for this platform; any parts
    /// that are stated did match.
    Unverified,
    /// The harness itself failed (see `harness_error`), so nothing is said
    /// about the server: no verdict, no diff.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unverified => "unverified",
            Status::Error => "error",
        }
    }
}

impl ResultRecord {
    pub fn failed(&self) -> bool {
        self.status == Status::Failed
    }

    /// Every client step that did not go as it asked ([`StepRecord::not_ok`]:
    /// errors, timeouts, EOF before the asked bytes, short reads, skipped),
    /// as distinct labels in order of first appearance, each with how many
    /// runs had it.
    pub fn client_outcomes(&self) -> Vec<(&str, u64)> {
        let mut out: Vec<(&str, u64)> = Vec::new();
        for r in &self.steps {
            if let Some(label) = r.not_ok() {
                match out.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, n)) => *n += r.runs,
                    None => out.push((label, r.runs)),
                }
            }
        }
        out
    }

    /// Distinct client-side errors, in order of first appearance.
    pub fn client_errors(&self) -> Vec<&ObservedError> {
        let mut out: Vec<&ObservedError> = Vec::new();
        for r in &self.steps {
            if let netrepro_observe::StepOutcome::Error { error, .. } = &r.outcome {
                if !out.iter().any(|e| e.name == error.name) {
                    out.push(error);
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Number of results.
    pub total: usize,
    /// Results with status `passed`.
    pub passed: usize,
    /// Results with status `failed`.
    pub failed: usize,
    /// Results with status `skipped`.
    #[serde(default)]
    pub skipped: usize,
    /// Results with status `unverified`.
    #[serde(default)]
    pub unverified: usize,
    /// Results with status `error` (the harness failed, not the server).
    #[serde(default)]
    pub errors: usize,
    /// Verdict name (or "not-run") -> number of results.
    pub by_verdict: BTreeMap<String, usize>,
}

impl Summary {
    pub fn of(results: &[ResultRecord]) -> Summary {
        let mut s = Summary {
            total: results.len(),
            ..Summary::default()
        };
        for r in results {
            match r.status {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::Skipped => s.skipped += 1,
                Status::Unverified => s.unverified += 1,
                Status::Error => s.errors += 1,
            }
            let key = r.verdict.map_or("not-run", |v| v.as_str());
            *s.by_verdict.entry(key.to_string()).or_default() += 1;
        }
        s
    }
}
