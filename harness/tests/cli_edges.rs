//! Issue 11.9: the smaller ways the command line misled its user — a typo
//! in --target-cmd, an empty folder, a report listing a result twice, "1
//! results", a narrowed run replacing reports/latest.json, and a README
//! example naming files nobody has.

mod common;

use common::ONE_CONNECT;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn netrepro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn unbalanced_quotes_in_target_cmd_are_one_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("one.toml");
    std::fs::write(&sc, ONE_CONNECT).unwrap();
    let report = dir.path().join("r.json");
    let out = netrepro()
        .arg("run")
        .arg(&sc)
        .args(["--target-cmd", "python3 'server.py --port {port}"])
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(!report.exists(), "a usage error runs nothing");
}

#[test]
fn run_on_an_empty_folder_says_no_scenarios_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = netrepro()
        .arg("run")
        .arg(dir.path())
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no scenarios"),
        "{}",
        text(&out.stderr)
    );
    assert!(!report.exists());
}

#[test]
fn report_diff_rejects_a_report_listing_a_result_twice() {
    let dir = tempfile::tempdir().unwrap();
    let good = repo().join("harness/tests/fixtures/report-linux.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    let results = v["results"].as_array_mut().unwrap();
    let first = results[0].clone();
    let name = first["scenario"]["name"].as_str().unwrap().to_string();
    results.push(first);
    let dup = dir.path().join("dup.json");
    std::fs::write(&dup, serde_json::to_string(&v).unwrap()).unwrap();
    for args in [[&good, &dup], [&dup, &good]] {
        let out = netrepro()
            .args(["report", "diff"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(code(&out), Some(2), "{}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains(&dup.display().to_string()), "{err}");
        assert!(err.contains(&name), "{err}");
    }
}

/// One scenario against naive only, from a scratch working directory: the
/// summary is singular, and the narrowed run leaves reports/latest.json
/// alone and says where its report went.
#[test]
fn a_narrowed_run_keeps_latest_json_and_says_one_result() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.toml"), ONE_CONNECT).unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let latest = dir.path().join("reports/latest.json");
    std::fs::write(&latest, "{\"from\": \"the full run\"}").unwrap();
    let out = netrepro()
        .current_dir(dir.path())
        .args(["run", "one.toml", "--impl", "naive"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("\n1 result: 1 passed"), "{stdout}");
    assert!(!stdout.contains("1 results"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&latest).unwrap(),
        "{\"from\": \"the full run\"}"
    );
    let narrowed = Path::new("reports").join("latest-narrowed.json");
    assert!(dir.path().join(&narrowed).is_file());
    assert!(
        stdout.contains(&format!("report: {}", narrowed.display())),
        "{stdout}"
    );
}

/// Every `report merge` in the READMEs names inputs a newcomer has: files in
/// the repository, or files an earlier command in the same README writes
/// (`--report FILE`). The README's own merge command then runs.
#[test]
fn readme_merge_examples_name_files_that_exist() {
    for doc in ["README.md", "reports/README.md"] {
        let readme = std::fs::read_to_string(repo().join(doc)).unwrap();
        let mut written: Vec<String> = Vec::new();
        let mut merges = 0;
        for line in readme.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let clean = |w: &str| w.trim_matches(|c| c == '`' || c == ',').to_string();
            for w in words.windows(2) {
                if w[0] == "--report" {
                    written.push(clean(w[1]));
                }
            }
            // `ci/run-wine.sh EXE REPORT` writes REPORT.
            if line.contains("ci/run-wine.sh") {
                written.extend(
                    words
                        .iter()
                        .map(|w| clean(w))
                        .filter(|w| w.ends_with(".json")),
                );
            }
            // Table rows give the syntax (`A.json B.json …`), not an example.
            let Some(at) = words.windows(2).position(|w| w == ["report", "merge"]) else {
                continue;
            };
            if line.starts_with('|') {
                continue;
            }
            merges += 1;
            let inputs: Vec<&str> = words[at + 2..]
                .iter()
                .take_while(|w| !w.starts_with('-'))
                .copied()
                .collect();
            assert!(!inputs.is_empty(), "{doc}: {line}");
            for i in &inputs {
                let i = i.trim_matches('`');
                assert!(
                    repo().join(i).is_file() || written.iter().any(|w| w == i),
                    "{doc}: `{line}` names {i}, which is neither in the repository nor written by an earlier command"
                );
            }
            // Run it for real when every input is in the repository.
            if inputs
                .iter()
                .all(|i| repo().join(i.trim_matches('`')).is_file())
            {
                let dir = tempfile::tempdir().unwrap();
                let out = netrepro()
                    .current_dir(repo())
                    .args(["report", "merge"])
                    .args(inputs.iter().map(|i| i.trim_matches('`')))
                    .arg("-o")
                    .arg(dir.path().join("m.json"))
                    .output()
                    .unwrap();
                assert_eq!(code(&out), Some(0), "{doc}: {line}: {}", text(&out.stderr));
            }
        }
        assert!(merges > 0, "{doc} has no report merge example any more");
    }
}
