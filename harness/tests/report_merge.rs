//! `report merge` and `report diff`: a Linux and a Wine report (both real
//! runs, kept as fixtures) merge into one matrix with both hosts; diff finds
//! a deliberately broken expectation as a regression, end to end.

use netrepro_report::diff::{self, ChangeKind};
use netrepro_report::matrix::Matrix;
use netrepro_report::merge::{self, MergeError};
use netrepro_report::{load, Status};
use netrepro_scenario::{ExpectKey, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;

fn netrepro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn merged() -> Matrix {
    let inputs: Vec<_> = ["report-linux.json", "report-wine.json"]
        .iter()
        .map(|f| load::load(&fixture(f)).unwrap())
        .collect();
    merge::merge(&inputs, &[], "t".into()).unwrap()
}

#[test]
fn linux_and_wine_reports_merge_into_one_matrix_with_both_hosts() {
    let m = merged();
    let labels: Vec<_> = m
        .sources
        .iter()
        .map(|s| (s.label.as_str(), s.platform))
        .collect();
    // The Wine report says os = windows; its file name tells it ran under Wine.
    assert_eq!(
        labels,
        [("linux", ExpectKey::Linux), ("wine", ExpectKey::Wine)]
    );
    let ids: Vec<_> = m.columns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "linux/naive",
            "linux/hardened",
            "wine/naive",
            "wine/hardened"
        ]
    );
    let linux = load::load(&fixture("report-linux.json")).unwrap();
    let load::Document::Report(linux) = linux.doc else {
        panic!()
    };
    assert_eq!(m.rows.len(), 9);
    for r in &linux.results {
        let row = m
            .rows
            .iter()
            .find(|x| x.scenario.name == r.scenario.name)
            .unwrap();
        assert_eq!(row.cells.len(), 4, "{}", r.scenario.name);
        let cell = &row.cells[&format!("linux/{}", r.impl_.as_str())];
        assert_eq!(cell.verdict, r.verdict);
        assert_eq!(cell.status, r.status);
        let names: Vec<_> = r.client_errors().iter().map(|e| e.name.clone()).collect();
        assert_eq!(cell.client_errors, names);
    }
    // Error names differ per OS: the recverr scenario is ECONNREFUSED on Linux.
    let row = m
        .rows
        .iter()
        .find(|r| r.scenario.name == "tribler-vanished-client-recverr")
        .unwrap();
    let l = &row.cells["linux/naive"];
    assert_eq!(l.verdict, Some(Verdict::Crashed));
    assert_eq!(l.fatal_errors, ["ECONNREFUSED"]);
}

#[test]
fn host_wine_field_and_label_override_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    // A Windows report whose host says it ran under Wine, under a neutral name.
    let text = std::fs::read_to_string(fixture("report-wine.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["host"]["environment"] = serde_json::json!("wine");
    v["host"]["wine"] = serde_json::json!("8.0");
    let p = dir.path().join("win.json");
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let l = load::load(&p).unwrap();
    let m = merge::merge(std::slice::from_ref(&l), &[], "t".into()).unwrap();
    assert_eq!(m.sources[0].platform, ExpectKey::Wine);
    // Without either hint it is plain Windows.
    v["host"]["environment"] = serde_json::json!("native");
    v["host"]["wine"] = serde_json::Value::Null;
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let l = load::load(&p).unwrap();
    let m = merge::merge(std::slice::from_ref(&l), &[], "t".into()).unwrap();
    assert_eq!(m.sources[0].label, "windows");
    // --label wins.
    let labels = merge::parse_labels(&[format!("{}=win11", p.display())]).unwrap();
    let m = merge::merge(std::slice::from_ref(&l), &labels, "t".into()).unwrap();
    assert_eq!(m.columns[0].id, "win11/naive");
}

#[test]
fn two_reports_of_one_platform_need_a_label() {
    let a = load::load(&fixture("report-linux.json")).unwrap();
    let err = merge::merge(&[a.clone(), a], &[], "t".into()).unwrap_err();
    assert!(matches!(err, MergeError::DuplicateLabel { .. }), "{err}");
    assert!(err.to_string().contains("--label"), "{err}");
}

#[test]
fn a_matrix_merges_again() {
    let m = merged();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.json");
    std::fs::write(&p, serde_json::to_string(&m).unwrap()).unwrap();
    let again = Matrix::from_loaded(&load::load(&p).unwrap());
    assert_eq!(again.rows, m.rows);
    assert!(diff::diff(&m, &again).0.is_empty());
}

#[test]
fn diff_of_identical_reports_is_empty() {
    let l = Matrix::from_loaded(&load::load(&fixture("report-linux.json")).unwrap());
    let c = diff::diff(&l, &l);
    assert!(c.0.is_empty(), "{c}");
    assert_eq!(c.regressions(), 0);
}

#[test]
fn diff_classifies_flips_errors_and_new_failures() {
    let old = Matrix::from_loaded(&load::load(&fixture("report-linux.json")).unwrap());
    let mut new = old.clone();
    let row = new
        .rows
        .iter_mut()
        .find(|r| r.scenario.name == "tribler-vanished-client-recverr")
        .unwrap();
    // hardened: survived -> crashed with a new fatal error and a failed expectation.
    let cell = row.cells.get_mut("linux/hardened").unwrap();
    cell.verdict = Some(Verdict::Crashed);
    cell.status = Status::Failed;
    cell.server_errors.push("EBADF".into());
    cell.diff = vec!["server: expected survived, got crashed".into()];
    // naive: its ECONNREFUSED vanished, but nothing got worse.
    let cell = row.cells.get_mut("linux/naive").unwrap();
    cell.server_errors.clear();
    let c = diff::diff(&old, &new);
    let kinds: Vec<_> =
        c.0.iter()
            .map(|x| (x.column.as_str(), &x.kind, x.regression))
            .collect();
    assert!(kinds.contains(&(
        "linux/hardened",
        &ChangeKind::VerdictFlip {
            from: Some(Verdict::Survived),
            to: Some(Verdict::Crashed)
        },
        true
    )));
    assert!(kinds
        .iter()
        .any(|k| matches!(k, ("linux/hardened", ChangeKind::NewlyFailing { .. }, true))));
    assert!(kinds.iter().any(|k| matches!(k, ("linux/hardened", ChangeKind::NewErrors { names, .. }, false) if names == &["EBADF"])));
    assert!(kinds.iter().any(|k| matches!(k, ("linux/naive", ChangeKind::VanishedErrors { names, .. }, false) if names == &["ECONNREFUSED"])));
    assert_eq!(c.regressions(), 3, "{c}");
    // The other direction: a fix is a change, not a regression.
    let back = diff::diff(&new, &old);
    assert_eq!(back.regressions(), 0, "{back}");
}

const SCENARIO: &str = r#"name = "diff-probe"
summary = "a client connects and resets at once"
actors = ["a"]

[target]
proto = "tcp"

[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "a"
op = "abort"

[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

fn run(dir: &Path, scenario: &str, report: &str) -> i32 {
    let sc = dir.join("diff-probe.toml");
    std::fs::write(&sc, scenario).unwrap();
    let out = netrepro()
        .arg("run")
        .arg(&sc)
        .arg("--quiet")
        .arg("--report")
        .arg(dir.join(report))
        .output()
        .unwrap();
    out.status.code().unwrap()
}

#[test]
fn report_diff_flags_a_deliberately_broken_expectation_as_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(dir.path(), SCENARIO, "old.json"), 0);
    // Break the hardened expectation: the server survives, we now claim it crashes.
    let broken = SCENARIO.replace(
        "[expect.hardened]\nserver = \"survived\"",
        "[expect.hardened]\nserver = \"crashed\"",
    );
    assert_ne!(broken, SCENARIO);
    assert_eq!(run(dir.path(), &broken, "new.json"), 1);
    let out = netrepro()
        .args(["report", "diff"])
        .arg(dir.path().join("old.json"))
        .arg(dir.path().join("new.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // The column label is the host platform (linux, windows, macos, wine).
    let line = stdout
        .lines()
        .find(|l| l.contains("status passed -> failed"))
        .unwrap_or_else(|| panic!("no status change in: {stdout}"));
    assert!(line.starts_with("REGRESSION diff-probe ["), "{line}");
    assert!(line.contains("/hardened]"), "{line}");
    assert!(stdout.contains("expected crashed"), "{stdout}");
    // Same run against itself: no regression, exit 0.
    let out = netrepro()
        .args(["report", "diff"])
        .arg(dir.path().join("old.json"))
        .arg(dir.path().join("old.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no changes"));
}

#[test]
fn report_commands_name_an_unreadable_file_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1,\n \"tool\": ").unwrap();
    for args in [
        vec![
            "report".into(),
            "diff".into(),
            missing.clone(),
            fixture("report-linux.json"),
        ],
        vec![
            "report".into(),
            "merge".into(),
            bad.clone(),
            "-o".into(),
            dir.path().join("m.json"),
        ],
        vec![
            "report".into(),
            "html".into(),
            missing.clone(),
            "-o".into(),
            dir.path().join("x.html"),
        ],
        vec!["report".into(), "markdown".into(), bad.clone()],
    ] {
        let out = netrepro().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let named = err.contains(&missing.display().to_string())
            || err.contains(&format!("{}:2:", bad.display()));
        assert!(named, "{args:?}: {err}");
    }
}

#[test]
fn merge_cli_writes_a_matrix_that_html_and_markdown_read() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("matrix.json");
    let out = netrepro()
        .args(["report", "merge"])
        .arg(fixture("report-linux.json"))
        .arg(fixture("report-wine.json"))
        .arg("-o")
        .arg(&m)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = load::load(&m).unwrap();
    assert!(matches!(loaded.doc, load::Document::Matrix(_)));
    let out = netrepro()
        .args(["report", "markdown"])
        .arg(&m)
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("| scenario | linux/naive | linux/hardened | wine/naive | wine/hardened |"),
        "{md}"
    );
}
