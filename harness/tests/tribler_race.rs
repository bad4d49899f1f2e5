//! The vanished-client race made deterministic on the Tribler-style example
//! (issue 10, "Also"; issue 14.1) with no delay option in the server: the
//! scenario tribler-vanished-client-paused pauses the server (SIGSTOP of its
//! process tree) while the client sends and closes, so the reply always goes
//! to a closed port. With IP_RECVERR (`--recverr`) tribler_udp_echo.py
//! crashes in 10 of 10 runs and tribler_udp_echo_fixed.py survives 10 of 10.
//!
//! The race (scenarios/README.md, "The vanished-client race"): the client
//! `gone` sends and then closes. If the server's echo reaches `gone`'s port
//! while the socket is still open, the reply is queued and dropped with the
//! socket: no ICMP port-unreachable, no error, the server survives. Only a
//! reply sent after the close draws the ICMP error that kills the naive
//! loop. Without a delay that ordering is a coin toss (measured: 6 of 10
//! crashed on an idle 2-core Linux box; the issue saw 1 of 8 under load);
//! the pause turns it into an ordering.
#![cfg(target_os = "linux")]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const SCENARIO: &str = "scenarios/udp/tribler-vanished-client-paused.toml";
const RUNS: usize = 10;
/// Runs at once for the fixed program. Five at a time (issue 16) once gave
/// the fixed server a false `leaked` (1 of 10, no server error: its
/// resources had not settled while four other Python servers started beside
/// it) in a newcomer's run on an idle 2-core machine, so its runs are
/// sequential: this test claims 10 of 10 survived, and only one run at a
/// time measures that. They are short (~0.2 s each: its reply is served).
const FIXED_AT_ONCE: usize = 1;
/// Runs at once for the naive program. Each naive run waits out `next`'s
/// 1 s recv timeout (the crashed server never answers it), so one at a
/// time took 14-18 s. A crash is an exit of the program, which no other
/// run's load can fake, and the pause fixes the ordering that makes it
/// crash, so concurrent runs measure the same 10 of 10: five at a time,
/// each with its own Python process, ports and report.
const NAIVE_AT_ONCE: usize = 5;

fn verdict(program: &str, dir: &Path, i: usize) -> String {
    let report = dir.join(format!("r{i}.json"));
    let cmd = format!("python3 examples/targets/{program} --port {{port}} --recverr");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["run", SCENARIO, "--quiet", "--target-cmd", &cmd, "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let rep: Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap_or_default()).unwrap_or(Value::Null);
    let r = &rep["results"][0];
    format!(
        "{} (exit {:?}, server errors {})",
        r["verdict"].as_str().unwrap_or("none"),
        out.status.code(),
        r["server_errors"]
    )
}

/// [`RUNS`] verdicts of `program`, `at_once` runs at a time; reports are
/// numbered from `first`.
fn verdicts(program: &str, dir: &Path, first: usize, at_once: usize) -> Vec<String> {
    let mut all = Vec::new();
    for chunk in (first..first + RUNS).collect::<Vec<_>>().chunks(at_once) {
        std::thread::scope(|s| {
            let runs: Vec<_> = chunk
                .iter()
                .map(|&i| s.spawn(move || verdict(program, dir, i)))
                .collect();
            all.extend(runs.into_iter().map(|h| h.join().unwrap()));
        });
    }
    all
}

// The naive and the fixed program are two tests (issue 16.2), so nextest
// runs them side by side like any two tests; the fixed program's runs are
// one at a time ([`FIXED_AT_ONCE`]), the naive one's five at a time
// ([`NAIVE_AT_ONCE`]).

#[test]
fn tribler_style_example_crashes_10_of_10() {
    let dir = tempfile::tempdir().unwrap();
    let naive = verdicts("tribler_udp_echo.py", dir.path(), 0, NAIVE_AT_ONCE);
    let crashed = naive.iter().filter(|v| v.starts_with("crashed")).count();
    eprintln!("tribler: crashed {crashed}/{RUNS}");
    assert_eq!(crashed, RUNS, "{naive:#?}");
}

#[test]
fn the_fixed_tribler_style_example_survives_10_of_10() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = verdicts("tribler_udp_echo_fixed.py", dir.path(), RUNS, FIXED_AT_ONCE);
    let survived = fixed.iter().filter(|v| v.starts_with("survived")).count();
    eprintln!("tribler: fixed survived {survived}/{RUNS}");
    assert_eq!(survived, RUNS, "{fixed:#?}");
}
