//! The regression gate: `report diff --gate BASELINE NEW`
//! ([`diff::Rule::Expectations`]) against the baselines checked in under
//! reports/baselines/. A regression by the expectations fails it (exit 1):
//! a cell that newly fails, or a result that met its expectation and is now
//! skipped, an error or gone. A verdict the expectation allows (a race the
//! scenario names) never does, so the gate does not flake where the plain
//! diff would. And the checked-in baselines are green, complete runs.

use netrepro_report::diff::{self, ChangeKind, Rule};
use netrepro_report::matrix::Matrix;
use netrepro_report::{load, Status};
use netrepro_scenario::Verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn baselines() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/baselines")
}

fn linux() -> PathBuf {
    baselines().join("linux.json")
}

fn matrix(p: &Path) -> Matrix {
    Matrix::from_loaded(&load::load(p).unwrap())
}

fn gate(old: &Matrix, new: &Matrix) -> diff::Changes {
    diff::diff_by(old, new, Rule::Expectations)
}

/// Verdicts from best to worst, as `report diff` ranks them.
const ORDER: [Verdict; 6] = [
    Verdict::Survived,
    Verdict::Busy,
    Verdict::Leaked,
    Verdict::Rejecting,
    Verdict::Hung,
    Verdict::Crashed,
];

fn rank(v: Verdict) -> usize {
    ORDER.iter().position(|x| *x == v).unwrap()
}

#[test]
fn checked_in_baselines_are_complete_green_runs_of_their_platform() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(baselines()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        let load::Document::Report(r) = load::load(&p).unwrap().doc else {
            panic!("{}: a baseline is a report, not a matrix", p.display())
        };
        assert!(r.complete, "{}: interrupted run", p.display());
        assert_eq!(
            r.summary.failed,
            0,
            "{}: a baseline must be green",
            p.display()
        );
        assert_eq!(r.summary.errors, 0, "{}: harness errors", p.display());
        assert!(r.summary.total > 0, "{}", p.display());
        // The file is named after the platform whose column it fills.
        let m = matrix(&p);
        assert_eq!(m.sources.len(), 1);
        assert_eq!(m.sources[0].label, name, "{}", p.display());
        names.push(name);
    }
    assert!(names.contains(&"linux".to_string()), "{names:?}");
}

/// A scenario renamed or deleted would make the gate fail in CI (its
/// baseline result is gone): say so here first, in `cargo nextest run`.
#[test]
fn every_scenario_of_the_linux_baseline_is_still_in_the_catalog() {
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list = String::from_utf8_lossy(&out.stdout);
    let catalog: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let gone: Vec<_> = matrix(&linux())
        .rows
        .iter()
        .map(|r| r.scenario.name.clone())
        .filter(|n| !catalog.contains(&n.as_str()))
        .collect();
    assert!(
        gone.is_empty(),
        "reports/baselines/linux.json has results for {gone:?}, which the catalog no longer has: \
         regenerate it (reports/README.md, \"Baselines\")"
    );
}

#[test]
fn an_unchanged_run_passes_the_gate() {
    let b = matrix(&linux());
    let c = gate(&b, &b);
    assert!(c.0.is_empty(), "{c}");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["report", "diff", "--gate"])
        .arg(linux())
        .arg(linux())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no changes"));
}

#[test]
fn a_verdict_the_expectation_allows_is_a_change_not_a_regression() {
    let old = matrix(&linux());
    // Every cell whose expectation names several verdicts (a race the
    // scenario accepts, such as tcp-fd-exhaustion's naive-seq): from the
    // best allowed verdict to the worst, still passed.
    let mut best = old.clone();
    let mut worst = old.clone();
    let mut flipped = 0;
    for (b, w) in best.rows.iter_mut().zip(worst.rows.iter_mut()) {
        for (col, cell) in b.cells.iter_mut() {
            let mut allowed: Vec<Verdict> = cell.expected.clone();
            if allowed.len() < 2 || cell.status != Status::Passed {
                continue;
            }
            allowed.sort_by_key(|v| rank(*v));
            cell.verdict = allowed.first().copied();
            w.cells.get_mut(col).unwrap().verdict = allowed.last().copied();
            flipped += 1;
        }
    }
    assert!(
        flipped > 0,
        "no cell of the baseline allows several verdicts"
    );
    let plain = diff::diff(&best, &worst);
    assert_eq!(plain.regressions(), flipped, "{plain}");
    let gated = gate(&best, &worst);
    assert_eq!(gated.regressions(), 0, "{gated}");
    assert!(
        gated
            .0
            .iter()
            .all(|c| matches!(c.kind, ChangeKind::VerdictFlip { .. })),
        "{gated}"
    );
    assert_eq!(gated.0.len(), flipped, "{gated}");
}

/// The first passed cell of the baseline whose expectation is survived
/// alone: (row index, column id).
fn survived_cell(m: &Matrix) -> (usize, String) {
    m.rows
        .iter()
        .enumerate()
        .find_map(|(i, r)| {
            r.cells
                .iter()
                .find(|(_, c)| c.status == Status::Passed && c.expected == [Verdict::Survived])
                .map(|(col, _)| (i, col.clone()))
        })
        .expect("a survived cell")
}

#[test]
fn each_kind_of_lost_result_fails_the_gate() {
    let old = matrix(&linux());
    let (row, col) = survived_cell(&old);
    let edit = |f: &dyn Fn(&mut Matrix)| {
        let mut m = old.clone();
        f(&mut m);
        gate(&old, &m)
    };
    // passed -> failed (the verdict got worse and the expectation says so).
    let c = edit(&|m| {
        let cell = m.rows[row].cells.get_mut(&col).unwrap();
        cell.verdict = Some(Verdict::Crashed);
        cell.status = Status::Failed;
        cell.diff = vec!["server: expected survived, got crashed".into()];
    });
    assert_eq!(c.regressions(), 1, "{c}");
    assert!(c.0.iter().any(|x| x.regression
        && x.kind
            == ChangeKind::StatusChange {
                from: Status::Passed,
                to: Status::Failed
            }));
    // passed -> skipped, passed -> harness error: a result lost.
    for to in [Status::Skipped, Status::Error] {
        let c = edit(&|m| {
            let cell = m.rows[row].cells.get_mut(&col).unwrap();
            cell.verdict = None;
            cell.status = to;
        });
        assert_eq!(c.regressions(), 1, "{to:?}: {c}");
    }
    // The cell gone (an impl no longer run), the row gone (a scenario
    // renamed or deleted).
    let c = edit(&|m| {
        m.rows[row].cells.remove(&col);
    });
    assert_eq!(c.regressions(), 1, "{c}");
    assert!(c.0[0].kind == ChangeKind::Vanished);
    let cells = old.rows[row].cells.len();
    let c = edit(&|m| {
        m.rows.remove(row);
    });
    assert_eq!(c.regressions(), cells, "{c}");
    // A new scenario that fails from the start.
    let c = edit(&|m| {
        let mut r = m.rows[row].clone();
        r.scenario.name.push_str("-new");
        for cell in r.cells.values_mut() {
            cell.status = Status::Failed;
        }
        m.rows.push(r);
    });
    assert_eq!(c.regressions(), cells, "{c}");
}

#[test]
fn a_known_failure_that_fails_differently_is_listed_not_counted() {
    // A baseline with a failing cell (not what we check in, but a user's
    // baseline may have one): its diff lines change with the race it lost.
    let mut old = matrix(&linux());
    let (row, col) = survived_cell(&old);
    {
        let cell = old.rows[row].cells.get_mut(&col).unwrap();
        cell.verdict = Some(Verdict::Hung);
        cell.status = Status::Failed;
        cell.diff = vec!["server: expected survived, got hung".into()];
    }
    let mut new = old.clone();
    {
        let cell = new.rows[row].cells.get_mut(&col).unwrap();
        cell.verdict = Some(Verdict::Crashed);
        cell.diff = vec!["server: expected survived, got crashed".into()];
    }
    assert_eq!(gate(&old, &new).regressions(), 0);
    // The plain diff counts both the worse verdict and the new diff line.
    assert_eq!(diff::diff(&old, &new).regressions(), 2);
    // Fixed: not a regression either way.
    assert_eq!(gate(&new, &matrix(&linux())).regressions(), 0);
}

/// The CLI end to end on a report file: one result made to fail.
#[test]
fn report_diff_gate_exits_1_on_a_regression_and_names_it() {
    let text = std::fs::read_to_string(linux()).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let results = v["results"].as_array_mut().unwrap();
    let r = results
        .iter_mut()
        .find(|r| r["status"] == "passed" && r["expected"] == serde_json::json!(["survived"]))
        .unwrap();
    r["status"] = "failed".into();
    r["verdict"] = "crashed".into();
    r["diff"] = serde_json::json!(["server: expected survived, got crashed"]);
    let name = r["scenario"]["name"].as_str().unwrap().to_string();
    let imp = r["impl"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.json");
    std::fs::write(&new, serde_json::to_string(&v).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["report", "diff", "--gate"])
        .arg(linux())
        .arg(&new)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l == format!("REGRESSION {name} [linux/{imp}]: status passed -> failed")),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 regression(s)\n"), "{stdout}");
}
