//! Client socket options (`[sockopts.<actor>]`, issue 14.2) end to end on
//! Linux: what the report says the OS granted, and what an option set
//! before connect does to the server, observed on a program netrepro did
//! not write (Python's socketserver, examples/targets/sequential_echo.py,
//! whose traceback names the errno) and on the built-in servers. Every
//! comparison is of raw codes and classes, never of message text.

#![cfg(target_os = "linux")]

mod common;

use serde_json::Value;
use std::path::Path;

const LINGER: &str = "scenarios/tcp/linger-zero-close.toml";
const PY_SEQ: &str = "python3 examples/targets/sequential_echo.py --port {port}";

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn sysctl(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The server's errors of one result as (raw code, class).
fn server_errors(r: &Value) -> Vec<(i64, String)> {
    r["server_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["raw"].as_i64().unwrap_or(-1),
                e["class"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The linger scenario, and the same scenario without its `[sockopts.a]`
/// table (the control: a plain close), both written to `dir`.
fn linger_and_control(dir: &Path) -> (String, String) {
    let src = std::fs::read_to_string(repo().join(LINGER)).unwrap();
    assert!(
        src.contains("[sockopts.a]\nlinger_s = 0\n"),
        "{LINGER} changed"
    );
    let control = src
        .replace("[sockopts.a]\nlinger_s = 0\n", "")
        .replace("tcp-linger-zero-close", "tcp-linger-zero-close-control");
    let with = dir.join("with.toml");
    let without = dir.join("without.toml");
    std::fs::write(&with, src).unwrap();
    std::fs::write(&without, control).unwrap();
    (
        with.to_string_lossy().into_owned(),
        without.to_string_lossy().into_owned(),
    )
}

/// socket(7): SO_LINGER {on, 0} set before connect makes the later close
/// an RST. Python's socketserver sees ECONNRESET (104) in the recv after
/// the echo and prints it (`[Errno 104]`); with a plain close (the
/// control) it reads EOF and reports nothing. It survives both.
#[test]
fn linger_zero_before_connect_makes_an_independent_server_read_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = linger_and_control(dir.path());
    let run = |file: &str| {
        let (out, res) = common::run_report(
            &[file, "--target-cmd", PY_SEQ, "--expect", "survived"],
            dir.path(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(res.len(), 1);
        res[0].clone()
    };
    let reset = (i64::from(libc::ECONNRESET), "reset".to_string());
    let r = run(&with);
    assert!(server_errors(&r).contains(&reset), "{r}");
    assert_eq!(
        r["granted_sockopts"]["a"]["linger"],
        serde_json::json!({"on": true, "s": 0})
    );
    let c = run(&without);
    assert!(
        server_errors(&c).iter().all(|(_, class)| class != "reset"),
        "{c}"
    );
    assert!(c.get("granted_sockopts").is_none(), "{c}");
}

/// The same with the built-in servers: every one of them logs ECONNRESET
/// for the linger-0 close (naive-seq dies of it), none for the plain one.
#[test]
fn linger_zero_resets_the_built_in_servers_and_a_plain_close_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = linger_and_control(dir.path());
    let (_, res) = common::run_report(&[&with], dir.path());
    assert_eq!(res.len(), 3, "{res:?}");
    let reset = (i64::from(libc::ECONNRESET), "reset".to_string());
    for r in &res {
        assert!(server_errors(r).contains(&reset), "{r}");
    }
    let (_, res) = common::run_report(&[&without], dir.path());
    assert_eq!(res.len(), 3, "{res:?}");
    for r in &res {
        assert!(server_errors(r).is_empty(), "{r}");
        assert_ne!(r["verdict"], "crashed", "{r}");
    }
}

/// What the report records as granted: Linux doubles SO_RCVBUF and
/// SO_SNDBUF (socket(7): "The kernel doubles this value ... and this
/// doubled value is returned by getsockopt(2)", after capping what is asked
/// at rmem_max / wmem_max); keepalive parameters, TCP_NODELAY and the
/// source address read back as set; a UDP actor's buffer and source too.
#[test]
fn the_report_records_what_the_os_granted_per_actor() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = dir.path().join("tcp.toml");
    std::fs::write(
        &tcp,
        r#"name = "granted-tcp"
summary = "socket options read back"
actors = ["a", "b"]
[target]
proto = "tcp"
[sockopts.a]
rcvbuf = 4096
sndbuf = 8192
nodelay = false
keepalive = { idle_s = 7, interval_s = 3, count = 4 }
source = "127.0.0.2"
[sockopts.b]
keepalive = {}
[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "b"
op = "connect"
[[steps]]
id = "echoed"
actor = "a"
op = "send"
bytes = 100
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#,
    )
    .unwrap();
    let (out, res) = common::run_report(&[tcp.to_str().unwrap(), "--impl", "naive"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{res:?}");
    let g = &res[0]["granted_sockopts"];
    let doubled = |asked: u64, max: &str| 2 * asked.min(sysctl(max));
    assert_eq!(g["a"]["rcvbuf"], doubled(4096, "rmem_max"), "{g}");
    assert_eq!(g["a"]["sndbuf"], doubled(8192, "wmem_max"), "{g}");
    assert_eq!(g["a"]["nodelay"], false, "{g}");
    assert_eq!(
        g["a"]["keepalive"],
        serde_json::json!({"on": true, "idle_s": 7, "interval_s": 3, "count": 4})
    );
    assert_eq!(g["a"]["source"], "127.0.0.2");
    assert!(g["a"].get("unread").is_none(), "{g}");
    // `keepalive = {}`: on, parameters not asked for are not reported.
    assert_eq!(g["b"], serde_json::json!({"keepalive": {"on": true}}));

    let udp = dir.path().join("udp.toml");
    std::fs::write(
        &udp,
        r#"name = "granted-udp"
summary = "socket options of a UDP actor read back"
actors = ["u"]
[target]
proto = "udp"
[sockopts.u]
rcvbuf = 3000
source = "127.0.0.3"
[[steps]]
actor = "u"
op = "send"
bytes = 10
[[steps]]
id = "echo"
actor = "u"
op = "recv"
bytes = 10
[expect.naive]
server = "survived"
steps = { echo = ["ok"] }
[expect.hardened]
server = "survived"
"#,
    )
    .unwrap();
    let (out, res) = common::run_report(&[udp.to_str().unwrap(), "--impl", "naive"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{res:?}");
    let g = &res[0]["granted_sockopts"]["u"];
    assert_eq!(g["rcvbuf"], doubled(3000, "rmem_max"), "{g}");
    assert_eq!(g["source"], "127.0.0.3", "{g}");
    // The echo came back to the bound source address.
    assert_eq!(res[0]["status"], "passed", "{}", res[0]);
}
