//! A server that serves one connection at a time (Python's
//! socketserver.TCPServer, examples/targets/sequential_echo.py) is judged
//! after the scenario's own sockets are closed (issue 10, item 2): it
//! survives every TCP catalog scenario except those that explicitly probe
//! while their clients are still open (`op = "probe"`), where head-of-line
//! blocking is the finding.

#![cfg(unix)]

mod common;

use serde_json::Value;

/// Scenarios with a `probe` step while a client is still open: a server
/// that serves one connection at a time really does not serve the probe
/// there (it sits in recv() on the open client), so `hung` is right.
/// `tcp-vanished-idle-client`, `tcp-vanished-mid-transfer` and
/// `tcp-fin-lost` (link-fault scenarios, skipped without root) are too:
/// their second client is served while the vanished one is open (for the
/// server: its FIN never arrived).
const HUNG_BY_DESIGN: [&str; 9] = [
    "tcp-close-before-delayed-reply",
    "tcp-fin-lost",
    "tcp-idle-client",
    "tcp-idle-clients-fd-limit",
    "tcp-many-clients-one-aborts",
    "tcp-slow-reader",
    "tcp-slowloris",
    "tcp-vanished-idle-client",
    "tcp-vanished-mid-transfer",
];

#[test]
fn a_sequential_echo_server_survives_the_tcp_catalog_except_where_a_probe_step_asks() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = "python3 examples/targets/sequential_echo.py --port {port}";
    let (out, res) = common::run_report(&["scenarios/tcp", "--target-cmd", cmd], dir.path());
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict = |r: &Value| r["verdict"].as_str().unwrap_or("none").to_string();
    let mut survived = 0;
    for r in &res {
        let name = r["scenario"]["name"].as_str().unwrap();
        if r["status"] == "skipped" {
            continue;
        }
        if HUNG_BY_DESIGN.contains(&name) {
            assert_eq!(verdict(r), "hung", "{name}: {r}");
        } else {
            assert_eq!(verdict(r), "survived", "{name}: {r}");
            survived += 1;
        }
    }
    assert!(survived >= 6, "too few scenarios ran: {res:?}");
}
