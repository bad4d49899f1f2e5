//! Forward-mode scenarios against third-party forwarders from Debian (socat,
//! redir) started with `{port}`: netrepro's readiness connects are relayed
//! to its own upstream listener, and must never reach the scenario (issue
//! 10, item 1). A correct forwarder relays every byte and every close, so
//! every client and upstream step must get what it asked for.
// socat and redir are Unix programs.
#![cfg(unix)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether `program` can be started (`args` makes it print and exit).
fn installed(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok()
}

/// Run every forward scenario against `cmd` expecting `survived`; returns
/// the results after checking the exit code.
fn run_forward(cmd: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(root())
        .args(["run", "scenarios/forward", "--target-cmd", cmd])
        .args(["--expect", "survived", "--quiet", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let rep: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let results = rep["results"].as_array().cloned().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    results
}

/// What a correct forwarder gives every step: no timeout and nothing
/// skipped; a recv of N bytes gets N bytes (a stale relayed readiness
/// connection shows as an upstream recv that reads EOF with 0 bytes, and a
/// client recv that times out).
fn check_steps(fwd: &str, r: &Value) {
    let name = r["scenario"]["name"].as_str().unwrap();
    assert_eq!(r["verdict"], "survived", "{fwd} {name}: {r}");
    assert!(r["setup_error"].is_null(), "{fwd} {name}: {r}");
    let steps = r["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{fwd} {name}");
    for s in steps {
        let kind = s["outcome"]["kind"].as_str().unwrap();
        let what = format!("{fwd} {name}: step at line {} {s}", s["line"]);
        assert!(kind != "timeout" && kind != "skipped", "{what}");
        if let (Some(want), "recv") = (s["wanted"].as_u64(), s["op"].as_str().unwrap()) {
            assert_eq!(s["outcome"]["bytes"].as_u64(), Some(want), "{what}");
        }
    }
}

/// Whether the scenario of result `r` cuts the link (`netns = true`): what
/// a forwarder does there depends on its timeouts, not on relaying (an
/// upstream that vanished leaves a forwarder without one waiting), so only
/// the verdict is checked; `link_faults` tests those scenarios.
fn cuts_the_link(r: &Value) -> bool {
    let path = root().join(r["scenario"]["path"].as_str().unwrap());
    netrepro_scenario::load_file(&path).unwrap().target.netns
}

fn check_all(fwd: &str, cmd: &str) {
    let results = run_forward(cmd);
    let n = std::fs::read_dir(root().join("scenarios/forward"))
        .unwrap()
        .count();
    assert_eq!(results.len(), n, "{fwd}: one result per forward scenario");
    for r in &results {
        if cuts_the_link(r) {
            let name = &r["scenario"]["name"];
            // Skipped where no namespace can be made (not root).
            assert!(
                r["verdict"] == "survived" || r["status"] == "skipped",
                "{fwd} {name}: {r}"
            );
        } else {
            check_steps(fwd, r);
        }
    }
}

#[test]
fn socat_forwarding_with_port_placeholder_gives_every_step_its_outcome() {
    if !installed("socat", &["-V"]) {
        eprintln!("SKIP: socat is not installed (.ci/run installs it)");
        return;
    }
    check_all(
        "socat",
        "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:{upstream}",
    );
}

#[test]
fn redir_forwarding_with_port_placeholder_gives_every_step_its_outcome() {
    if !installed("redir", &["--version"]) {
        eprintln!("SKIP: redir is not installed (.ci/run installs it)");
        return;
    }
    check_all("redir", "redir -n -l none 127.0.0.1:{port} {upstream}");
}
