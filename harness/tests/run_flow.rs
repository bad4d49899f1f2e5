//! How a run ends, against programs netrepro did not write (socat, Python
//! examples): a scenario cut short by its timeout says so (issue 10, item
//! 10); an IPv6 scenario runs over IPv6 or says why not (item 4).
// socat and redir are Unix programs.
#![cfg(unix)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `run` with `args`; returns the output, the stdout text and the results.
fn run(args: &[&str], dir: &Path) -> (Output, String, Vec<Value>) {
    let report = dir.join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(root())
        .arg("run")
        .args(args)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let rep: Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap_or_default()).unwrap_or(Value::Null);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out,
        stdout,
        rep["results"].as_array().cloned().unwrap_or_default(),
    )
}

fn socat_installed() -> bool {
    let ok = Command::new("socat").arg("-V").output().is_ok();
    if !ok {
        eprintln!("SKIP: socat is not installed (.ci/run installs it)");
    }
    ok
}

const SOCAT_ECHO: &str = "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork EXEC:cat";

/// A scenario whose 400 ms overall timeout ends it inside a 1 s pause: the
/// echo after the pause never runs. Deterministic: `wait` is capped by the
/// scenario deadline, and the steps after it are skipped.
const CUT_SHORT: &str = r#"
name = "cut-short-by-timeout"
summary = "the overall timeout ends the scenario before its last steps"
timeout_ms = 400
actors = ["a"]
[target]
proto = "tcp"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
op = "wait"
ms = 1000
[[steps]]
actor = "a"
op = "send"
bytes = 8
[[steps]]
actor = "a"
op = "recv"
bytes = 8
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

#[test]
fn a_scenario_cut_short_by_its_timeout_says_so_in_table_json_and_exit_code() {
    if !socat_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("cut.toml");
    std::fs::write(&sc, CUT_SHORT).unwrap();
    let sc = sc.to_str().unwrap();

    // With an expectation: failed, exit 1, flagged in the JSON and the table.
    let (out, stdout, res) = run(
        &[sc, "--target-cmd", SOCAT_ECHO, "--expect", "survived"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let r = &res[0];
    assert_eq!(r["verdict"], "survived", "{r}");
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["cut_short"]["timeout_ms"], 400, "{r}");
    assert_eq!(r["cut_short"]["executions_planned"], 4, "{r}");
    assert_eq!(r["cut_short"]["executions_run"], 2, "{r}");
    assert!(stdout.contains("survived (cut short)"), "{stdout}");

    // Without one: unverified (exit 0), still flagged.
    let (out, stdout, res) = run(&[sc, "--target-cmd", SOCAT_ECHO], dir.path());
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(res[0]["status"], "unverified");
    assert!(res[0]["cut_short"].is_object(), "{}", res[0]);
    assert!(stdout.contains("survived (cut short)"), "{stdout}");
}

#[test]
fn a_scenario_that_runs_to_its_end_is_not_cut_short() {
    if !socat_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, res) = run(
        &[
            "scenarios/tcp/rst-mid-request.toml",
            "--target-cmd",
            SOCAT_ECHO,
            "--expect",
            "survived",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(res[0]["cut_short"].is_null(), "{}", res[0]);
    assert!(!stdout.contains("cut short"), "{stdout}");
}

/// A TCP echo scenario on `::1` (issue 10, item 4).
const V6: &str = r#"
name = "tcp-echo-on-ipv6"
summary = "one echo over IPv6 loopback"
actors = ["a"]
[target]
proto = "tcp"
bind = "::1"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "a"
op = "send"
bytes = 8
[[steps]]
id = "echoed"
actor = "a"
op = "recv"
bytes = 8
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

#[test]
fn an_ipv6_scenario_runs_over_ipv6_or_says_why_not() {
    if !socat_installed() {
        return;
    }
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIP: no IPv6 loopback on this host");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("v6.toml");
    std::fs::write(&sc, V6).unwrap();
    let sc = sc.to_str().unwrap();

    // socat on the ::1 address netrepro gives it: served over IPv6.
    let v6 = "socat TCP6-LISTEN:{port},bind=[::1],reuseaddr,fork EXEC:cat";
    let (out, stdout, res) = run(
        &[sc, "--target-cmd", v6, "--expect", "survived"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(res[0]["steps"][2]["outcome"]["kind"], "ok", "{}", res[0]);

    // A program that announces IPv4 for an IPv6 scenario: a setup error.
    let v4 = "sh -c 'echo LISTENING 127.0.0.1:{port}; exec socat TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork EXEC:cat'";
    let (out, stdout, res) = run(&[sc, "--target-cmd", v4], dir.path());
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let err = res[0]["setup_error"].as_str().unwrap_or_default();
    assert!(err.contains("IPv6") && err.contains("IPv4"), "{}", res[0]);
    assert!(res[0]["steps"].as_array().is_none_or(|s| s.is_empty()));

    // --target-addr of the other family: skipped with a note, never run.
    let (out, stdout, res) = run(&[sc, "--target-addr", "127.0.0.1:9"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(res[0]["status"], "skipped", "{}", res[0]);
    assert!(res[0]["notes"].to_string().contains("IPv4"), "{}", res[0]);
}
