//! The upstream behaviours of forward mode (issue 14.4, `[target] upstream
//! = "echo" | "discard" | "close-on-half-close"`), through the built-in
//! hardened forwarder (which passes every byte and every FIN on) and through
//! socat: each behaviour is told apart by what the client observes; a
//! `probe` step and the end-of-run probe still get their own upstream
//! connection (the behaviour stops accepting before they answer there); the
//! half-close scenario tells the naive forwarder (no FIN passed on) from the
//! hardened one.

mod common;

use serde_json::Value;
use std::path::Path;

/// `netrepro run <args> --report <dir>/r.json`: the report's results.
fn run(args: &[&str], dir: &Path) -> Vec<Value> {
    let report = dir.join("r.json");
    let _ = std::fs::remove_file(&report);
    let (out, results) = common::run_report(args, dir);
    assert!(
        !results.is_empty(),
        "no report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    results
}

/// A forward scenario in `dir` with the upstream `behaviour` and `steps`.
fn write(dir: &Path, name: &str, behaviour: &str, steps: &str) -> String {
    let p = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\nsummary = \"upstream behaviour test\"\nactors = [\"c\"]\n[target]\nproto = \"tcp\"\nmode = \"forward\"\nupstream = \"{behaviour}\"\n{steps}\n[expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n"
    );
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// (kind, bytes) of the step with `id`.
fn outcome(r: &Value, id: &str) -> (String, u64) {
    let s = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {r:#}"));
    (
        s["outcome"]["kind"].as_str().unwrap_or("?").to_string(),
        s["outcome"]["bytes"].as_u64().unwrap_or(0),
    )
}

/// Send 64 bytes, look for a reply (300 ms), half-close, look for the EOF
/// (300 ms).
const SEND_THEN_HALF_CLOSE: &str = r#"[[steps]]
actor = "c"
op = "connect"
[[steps]]
actor = "c"
op = "send"
bytes = 64
[[steps]]
id = "reply"
actor = "c"
op = "recv"
bytes = 64
timeout_ms = 300
[[steps]]
actor = "c"
op = "shutdown"
how = "write"
[[steps]]
id = "after-fin"
actor = "c"
op = "recv"
until = "eof"
timeout_ms = 300
"#;

/// What each behaviour gives the client through a forwarder that passes
/// every byte and FIN on: (reply, after the half-close).
fn check_behaviours(forwarder: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for (behaviour, reply, after_fin) in [
        // RFC 862: every byte back, then its own FIN after ours.
        ("echo", ("ok", 64), ("eof", 0)),
        // Reads and drops, ignores our FIN while the steps run.
        ("discard", ("timeout", 0), ("timeout", 0)),
        // Reads and drops, answers our FIN with its own.
        ("close-on-half-close", ("timeout", 0), ("eof", 0)),
    ] {
        let sc = write(dir.path(), behaviour, behaviour, SEND_THEN_HALF_CLOSE);
        let mut args = vec![sc.as_str()];
        args.extend_from_slice(forwarder);
        let results = run(&args, dir.path());
        let r = &results[0];
        let (k, n) = outcome(r, "reply");
        assert_eq!((k.as_str(), n), reply, "{forwarder:?} {behaviour}: {r:#}");
        let (k, n) = outcome(r, "after-fin");
        assert_eq!(
            (k.as_str(), n),
            after_fin,
            "{forwarder:?} {behaviour}: {r:#}"
        );
        // The end probe got its own upstream connection, not the behaviour's.
        assert_eq!(r["verdict"], "survived", "{forwarder:?} {behaviour}: {r:#}");
    }
}

#[test]
fn each_behaviour_is_what_the_client_sees_through_the_hardened_forwarder() {
    check_behaviours(&["--impl", "hardened"]);
}

#[test]
fn each_behaviour_is_what_the_client_sees_through_socat() {
    if !common::socat_installed() {
        return;
    }
    check_behaviours(&[
        "--target-cmd",
        "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:{upstream}",
        "--expect",
        "survived",
    ]);
}

#[test]
fn a_probe_step_gets_its_own_upstream_connection_and_the_behaviour_answers_again_after() {
    // A close-on-half-close upstream never echoes: a probe step (which
    // expects its echo back through the forwarder) is only served when the
    // probe's own upstream took the connection (the behaviour stopped
    // accepting first; which of two waiting acceptors would win cannot be
    // forced from here). After it the behaviour must accept again: a new
    // client's half-close gets its FIN back, which nobody else would send.
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"[[steps]]
actor = "c"
op = "connect"
[[steps]]
actor = "c"
op = "send"
bytes = 16
[[steps]]
id = "dropped-before"
actor = "c"
op = "recv"
timeout_ms = 200
[[steps]]
id = "probe"
op = "probe"
[[steps]]
actor = "c"
op = "close"
[[steps]]
actor = "c"
op = "connect"
[[steps]]
actor = "c"
op = "shutdown"
how = "write"
[[steps]]
id = "answered-after"
actor = "c"
op = "recv"
until = "eof"
timeout_ms = 1000
"#;
    let sc = write(dir.path(), "probe-step", "close-on-half-close", steps);
    for _ in 0..3 {
        let results = run(&[&sc, "--impl", "hardened"], dir.path());
        let r = &results[0];
        assert_eq!(outcome(r, "dropped-before").0, "timeout", "{r:#}");
        assert_eq!(outcome(r, "probe").0, "ok", "{r:#}");
        assert_eq!(outcome(r, "answered-after").0, "eof", "{r:#}");
        assert_eq!(r["verdict"], "survived", "{r:#}");
        assert_eq!(r["status"], "passed", "{r:#}");
    }
}

/// Five runs of the half-close scenario, each naive and hardened. They run
/// side by side (issue 16.2), each with its own processes, ports and report
/// directory: every naive run waits out the 1 s `eof-back` timeout, so one
/// after another they took 7-8 s.
#[test]
fn the_half_close_scenario_tells_a_forwarder_that_passes_the_fin_from_one_that_does_not() {
    let sc = "scenarios/forward/client-half-close-eof-back.toml";
    let all: Vec<Vec<Value>> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..5)
            .map(|_| {
                s.spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    run(&[sc, "--impl", "naive", "--impl", "hardened"], dir.path())
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, results) in all.iter().enumerate() {
        let by = |imp: &str| results.iter().find(|r| r["impl"] == imp).unwrap().clone();
        let (naive, hardened) = (by("naive"), by("hardened"));
        assert_eq!(
            outcome(&naive, "eof-back").0,
            "timeout",
            "run {i}: {naive:#}"
        );
        assert_eq!(
            outcome(&hardened, "eof-back").0,
            "eof",
            "run {i}: {hardened:#}"
        );
        assert_eq!(naive["status"], "passed", "run {i}: {naive:#}");
        assert_eq!(hardened["status"], "passed", "run {i}: {hardened:#}");
    }
}
