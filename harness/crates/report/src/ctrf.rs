//! Common Test Report Format JSON (`run --ctrf FILE`), https://ctrf.io.
//! Status mapping: passed/failed/skipped as they are, unverified -> `other`;
//! netrepro's verdict goes to `rawStatus`, OS/impl/proto/mode/error names to
//! `labels`. Validated against the published schema in tests/ctrf.rs.

use super::junit::{mode_str, proto_str};
use super::model::{Report, ResultRecord, Status};
use super::text;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The CTRF version whose schema we validate against (tests/fixtures/ctrf.schema.json).
pub const SPEC_VERSION: &str = "1.0.0";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ctrf {
    pub report_format: &'static str,
    pub spec_version: &'static str,
    pub timestamp: String,
    pub generated_by: String,
    pub results: Results,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    pub tool: Tool,
    pub summary: Summary,
    pub tests: Vec<Test>,
    pub environment: Environment,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub tests: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub other: usize,
    /// Milliseconds since the Unix epoch.
    pub start: u64,
    pub stop: u64,
    pub duration: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    pub name: String,
    pub status: &'static str,
    pub duration: u64,
    pub raw_status: String,
    pub suite: Vec<String>,
    pub file_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub stdout: Vec<String>,
    pub labels: Map<String, Value>,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub os_platform: &'static str,
    pub os_version: String,
    pub extra: Map<String, Value>,
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Unverified => "other",
        // Not a pass, and CI must see it; `netreproStatus` says "error".
        Status::Error => "failed",
    }
}

/// CTRF's osPlatform uses Node's `process.platform` names.
fn os_platform(os: netrepro_scenario::Os) -> &'static str {
    match os {
        netrepro_scenario::Os::Linux => "linux",
        netrepro_scenario::Os::Windows => "win32",
        netrepro_scenario::Os::Macos => "darwin",
    }
}

/// Label values must be non-empty arrays, so empty lists are left out.
fn put_list(m: &mut Map<String, Value>, key: &str, v: Vec<String>) {
    if !v.is_empty() {
        m.insert(key.into(), json!(v));
    }
}

fn test(report: &Report, r: &ResultRecord) -> Test {
    let mut labels = Map::new();
    labels.insert("os".into(), json!(report.host.os.as_str()));
    labels.insert("impl".into(), json!(r.impl_.as_str()));
    labels.insert("proto".into(), json!(proto_str(r.scenario.proto)));
    labels.insert("mode".into(), json!(mode_str(r.scenario.mode)));
    labels.insert("netreproStatus".into(), json!(r.status.as_str()));
    let client: Vec<String> = r.client_errors().iter().map(|e| e.name.clone()).collect();
    let mut server: Vec<String> = Vec::new();
    for e in &r.server_errors {
        if !server.contains(&e.name) {
            server.push(e.name.clone());
        }
    }
    put_list(&mut labels, "clientErrors", client);
    put_list(&mut labels, "serverErrors", server);
    put_list(
        &mut labels,
        "expected",
        r.expected.iter().map(|v| v.as_str().to_string()).collect(),
    );
    let mut extra = Map::new();
    extra.insert("summary".into(), json!(r.scenario.summary));
    extra.insert("refs".into(), json!(r.scenario.refs));
    extra.insert("notes".into(), json!(r.notes));
    extra.insert("serverEvents".into(), json!(r.server_errors));
    if let Some(o) = &r.output {
        extra.insert("output".into(), json!(o));
    }
    extra.insert("exit".into(), json!(r.exit));
    Test {
        name: text::test_name(r),
        status: status(r.status),
        duration: r.duration_ms,
        raw_status: r.verdict.map_or("not-run", |v| v.as_str()).to_string(),
        suite: vec![
            proto_str(r.scenario.proto).to_string(),
            mode_str(r.scenario.mode).to_string(),
        ],
        file_path: r.scenario.path.clone(),
        message: matches!(r.status, Status::Failed | Status::Error).then(|| text::failure_text(r)),
        stdout: text::transcript(r),
        labels,
        extra,
    }
}

/// Milliseconds since the epoch of an RFC 3339 time; 0 if unparsable (the
/// report writes it, so that would be a bug, not user input).
fn epoch_ms(rfc3339: &str) -> u64 {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

pub fn build(report: &Report, wine: bool) -> Ctrf {
    let tests: Vec<Test> = report.results.iter().map(|r| test(report, r)).collect();
    let count = |s: &str| tests.iter().filter(|t| t.status == s).count();
    let start = epoch_ms(&report.started_at);
    let mut env_extra = Map::new();
    env_extra.insert("arch".into(), json!(report.host.arch));
    env_extra.insert("wine".into(), json!(wine));
    env_extra.insert("complete".into(), json!(report.complete));
    Ctrf {
        report_format: "CTRF",
        spec_version: SPEC_VERSION,
        timestamp: report.started_at.clone(),
        generated_by: format!("{} {}", report.tool.name, report.tool.version),
        results: Results {
            tool: Tool {
                name: report.tool.name.clone(),
                version: report.tool.version.clone(),
            },
            summary: Summary {
                tests: tests.len(),
                passed: count("passed"),
                failed: count("failed"),
                skipped: count("skipped"),
                pending: 0,
                other: count("other"),
                start,
                stop: start + report.duration_ms,
                duration: report.duration_ms,
            },
            tests,
            environment: Environment {
                os_platform: os_platform(report.host.os),
                os_version: report.host.os_version.clone(),
                extra: env_extra,
            },
        },
    }
}

pub fn render(report: &Report, wine: bool) -> String {
    let mut s = serde_json::to_string_pretty(&build(report, wine)).expect("plain JSON");
    s.push('\n');
    s
}
