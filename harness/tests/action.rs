//! The GitHub Action's run script (`ci/action/run.sh`, what `action.yml`
//! runs) run here as GitHub would: inputs as environment variables, a
//! temporary `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`, against Python
//! servers netrepro did not write (examples/targets). Checks the reports it
//! writes, the summary it appends, its outputs and its exit code, which
//! fails the job: met expectations, an unmet one, a usage error, and the
//! baseline gate (`report diff --gate`).
#![cfg(unix)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Two reset scenarios, given as a glob as a workflow would.
const RESETS: &str = "scenarios/tcp/rst-mid-request.toml scenarios/tcp/rst-before-d*.toml";
const THREAD_ECHO: &str = "python3 examples/targets/thread_echo.py --port {port}";
const UNHANDLED: &str = "python3 examples/targets/py_echo_unhandled.py --port {port}";

/// The step summary before the action's step: the script must append.
const EARLIER: &str = "# an earlier step's summary\n";

struct Step {
    out: Output,
    reports: PathBuf,
    summary: String,
    outputs: String,
}

impl Step {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn log(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&self.out.stdout),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }

    fn report(&self) -> Value {
        let f = self.reports.join("report.json");
        serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap()
    }

    fn results(&self) -> Vec<Value> {
        self.report()["results"].as_array().unwrap().clone()
    }

    /// `name=value` lines the script wrote to `$GITHUB_OUTPUT`.
    fn output(&self, name: &str) -> Option<&str> {
        self.outputs
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Run the script in the repository root (relative paths in the inputs are
/// the user's checkout), in a fresh folder for its files.
fn action(dir: &Path, env: &[(&str, &str)]) -> Step {
    std::fs::create_dir_all(dir).unwrap();
    let summary = dir.join("step-summary.md");
    let outputs = dir.join("github-output");
    std::fs::write(&summary, EARLIER).unwrap();
    std::fs::write(&outputs, "").unwrap();
    let reports = dir.join("reports");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("ci/action/run.sh"))
        .current_dir(root())
        .env("NETREPRO_BIN", env!("CARGO_BIN_EXE_netrepro"))
        .env("NETREPRO_REPORT_DIR", &reports)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs);
    // Nothing from the environment the tests run in leaks into the inputs.
    for var in [
        "NETREPRO_TARGET_CMD",
        "NETREPRO_TARGET_ADDR",
        "NETREPRO_SCENARIOS",
        "NETREPRO_EXPECT",
        "NETREPRO_PROTO",
        "NETREPRO_MODE",
        "NETREPRO_FILTER",
        "NETREPRO_PROBE_SEND",
        "NETREPRO_PROBE_EXPECT",
        "NETREPRO_BASELINE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    Step {
        out,
        reports,
        summary: std::fs::read_to_string(&summary).unwrap(),
        outputs: std::fs::read_to_string(&outputs).unwrap(),
    }
}

fn junit_counts(f: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(f).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failed = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    (cases.len(), failed)
}

fn ctrf_statuses(f: &Path) -> Vec<String> {
    let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
    v["results"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_server_that_meets_its_expectation_passes_with_every_report_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let s = action(
        dir.path(),
        &[
            ("NETREPRO_TARGET_CMD", THREAD_ECHO),
            ("NETREPRO_SCENARIOS", RESETS),
            ("NETREPRO_EXPECT", "survived"),
        ],
    );
    assert_eq!(s.code(), Some(0), "{}", s.log());
    let results = s.results();
    let names: Vec<_> = results
        .iter()
        .map(|r| r["scenario"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tcp-rst-mid-request", "tcp-rst-before-data"]);
    for r in &results {
        assert_eq!(r["impl"], "external", "{r}");
        assert_eq!(r["verdict"], "survived", "{r}");
        assert_eq!(r["status"], "passed", "{r}");
    }
    assert_eq!(junit_counts(&s.reports.join("junit.xml")), (2, 0));
    assert_eq!(
        ctrf_statuses(&s.reports.join("report.ctrf.json")),
        ["passed", "passed"]
    );
    // The summary is appended after the earlier step's, and is netrepro's
    // own Markdown file, whole.
    let md = std::fs::read_to_string(s.reports.join("summary.md")).unwrap();
    assert_eq!(s.summary, format!("{EARLIER}{md}"));
    assert!(md.contains("2 passed, 0 failed"), "{md}");
    assert!(md.contains("| tcp-rst-mid-request | ✅ survived"), "{md}");
    // The outputs name the files and the exit code.
    assert_eq!(s.output("exit-code"), Some("0"), "{}", s.outputs);
    let report = s.reports.join("report.json");
    assert_eq!(s.output("report"), report.to_str());
    let junit = s.reports.join("junit.xml");
    assert_eq!(s.output("junit"), junit.to_str());
}

#[test]
fn an_unmet_expectation_fails_the_step_and_the_summary_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let s = action(
        dir.path(),
        &[
            ("NETREPRO_TARGET_CMD", UNHANDLED),
            ("NETREPRO_SCENARIOS", "scenarios/tcp/rst-mid-request.toml"),
            ("NETREPRO_EXPECT", "survived"),
        ],
    );
    assert_eq!(s.code(), Some(1), "{}", s.log());
    assert_eq!(s.output("exit-code"), Some("1"), "{}", s.outputs);
    let r = &s.results()[0];
    assert_eq!(r["verdict"], "crashed", "{r}");
    assert_eq!(r["status"], "failed", "{r}");
    // The reports are written all the same (the action uploads them).
    assert_eq!(junit_counts(&s.reports.join("junit.xml")), (1, 1));
    assert_eq!(
        ctrf_statuses(&s.reports.join("report.ctrf.json")),
        ["failed"]
    );
    assert!(s.summary.starts_with(EARLIER), "{}", s.summary);
    assert!(s.summary.contains("0 passed, 1 failed"), "{}", s.summary);
    assert!(
        s.summary.contains("server: expected survived, got crashed"),
        "{}",
        s.summary
    );
    // Its traceback: the server's own words, read by error code.
    assert!(s.summary.contains("ECONNRESET"), "{}", s.summary);

    // The same server with the verdict it really has: the step passes.
    let s = action(
        dir.path(),
        &[
            ("NETREPRO_TARGET_CMD", UNHANDLED),
            ("NETREPRO_SCENARIOS", "scenarios/tcp/rst-mid-request.toml"),
            ("NETREPRO_EXPECT", "crashed"),
        ],
    );
    assert_eq!(s.code(), Some(0), "{}", s.log());
}

#[test]
fn a_usage_error_fails_the_step_and_leaves_no_stale_report() {
    let dir = tempfile::tempdir().unwrap();
    // A report of an earlier run in the same folder must not survive as this one's.
    std::fs::create_dir_all(dir.path().join("reports")).unwrap();
    std::fs::write(dir.path().join("reports/report.json"), "{}").unwrap();
    let s = action(
        dir.path(),
        &[
            ("NETREPRO_TARGET_CMD", THREAD_ECHO),
            ("NETREPRO_TARGET_ADDR", "127.0.0.1:9"),
            ("NETREPRO_SCENARIOS", "scenarios/tcp/rst-mid-request.toml"),
        ],
    );
    assert_eq!(s.code(), Some(2), "{}", s.log());
    assert_eq!(s.output("exit-code"), Some("2"), "{}", s.outputs);
    assert!(!s.reports.join("report.json").exists());
    assert!(
        s.summary
            .contains("netrepro exited 2 before writing its summary"),
        "{}",
        s.summary
    );
}

#[test]
fn the_baseline_gate_fails_on_a_lost_result_and_passes_an_unchanged_run() {
    let dir = tempfile::tempdir().unwrap();
    let first = action(
        &dir.path().join("first"),
        &[
            ("NETREPRO_TARGET_CMD", THREAD_ECHO),
            ("NETREPRO_SCENARIOS", RESETS),
            ("NETREPRO_EXPECT", "survived"),
        ],
    );
    assert_eq!(first.code(), Some(0), "{}", first.log());
    let baseline = dir.path().join("baseline.json");
    std::fs::copy(first.reports.join("report.json"), &baseline).unwrap();
    let baseline = baseline.to_str().unwrap();

    // The same scenarios again: no regression, the step passes.
    let same = action(
        &dir.path().join("same"),
        &[
            ("NETREPRO_TARGET_CMD", THREAD_ECHO),
            ("NETREPRO_SCENARIOS", RESETS),
            ("NETREPRO_EXPECT", "survived"),
            ("NETREPRO_BASELINE", baseline),
        ],
    );
    assert_eq!(same.code(), Some(0), "{}", same.log());
    assert!(
        same.summary.contains("Regression gate against") && same.summary.contains("no regression"),
        "{}",
        same.summary
    );

    // One scenario left out: every expectation that ran is met, but a
    // result the baseline had is gone, and the gate fails the step.
    let fewer = action(
        &dir.path().join("fewer"),
        &[
            ("NETREPRO_TARGET_CMD", THREAD_ECHO),
            ("NETREPRO_SCENARIOS", "scenarios/tcp/rst-mid-request.toml"),
            ("NETREPRO_EXPECT", "survived"),
            ("NETREPRO_BASELINE", baseline),
        ],
    );
    assert_eq!(fewer.code(), Some(1), "{}", fewer.log());
    assert_eq!(fewer.results()[0]["status"], "passed");
    let diff = std::fs::read_to_string(fewer.reports.join("report.baseline-diff.txt")).unwrap();
    assert!(
        diff.contains("REGRESSION tcp-rst-before-data [") && diff.contains("result vanished"),
        "{diff}"
    );
    assert!(
        fewer.summary.contains("REGRESSION, the job fails"),
        "{}",
        fewer.summary
    );
    assert!(
        fewer.summary.contains("result vanished"),
        "{}",
        fewer.summary
    );
}
