//! No process netrepro started, nor any descendant, outlives a run, however
//! it ends (issue 10.8): a normal end, SIGTERM, SIGHUP, and SIGKILL of
//! netrepro itself. Checked by pid against a Python target (not one of
//! netrepro's servers) that starts a plain child and a double-forked
//! `setsid` grandchild: the two escapes a process-group kill cannot reach
//! (the grandchild is in another session and, its parent gone, no longer
//! netrepro's descendant by parent links either).
#![cfg(target_os = "linux")]

mod common;

use common::procs::is_alive;

use netrepro_report::schema;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An echo server (thread per connection) that first starts `sleep 300` as
/// a child and a double-forked, setsid'ed `sleep 300`, then prints
/// `PIDS <self> <child> <grandchild>` on stderr and appends the same to
/// `<dir>/pids`.
const TARGET: &str = r#"
import os, socket, subprocess, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
child = subprocess.Popen(["sleep", "300"])
r, w = os.pipe()
if os.fork() == 0:              # double fork: the grandchild's parent exits
    os.setsid()
    gc = subprocess.Popen(["sleep", "300"])
    os.write(w, b"%d" % gc.pid)
    os._exit(0)
os.close(w)
grandchild = int(os.read(r, 32))
os.wait()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
with open(os.path.join(out, "pids"), "a") as f:
    f.write("%d %d %d\n" % (os.getpid(), child.pid, grandchild))
def serve(c):
    while True:
        b = c.recv(65536)
        if not b:
            break
        c.sendall(b)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// A one-client scenario: connect, send 8 bytes, receive `recv` bytes
/// (`extra`: more keys of the recv step).
fn scenario(name: &str, recv: usize, extra: &str) -> String {
    format!(
        r#"name = "{name}"
summary = "one client, one request"
actors = ["a"]
[target]
proto = "tcp"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "a"
op = "send"
bytes = 8
[[steps]]
actor = "a"
op = "recv"
bytes = {recv}
{extra}
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#
    )
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target.py"), TARGET).unwrap();
        // One echo of 8 bytes: done in well under a second.
        let quick = scenario("lifecycle-quick", 8, "");
        // Waits 30 s for 16 bytes of which the echo server sends 8: still
        // running when the test signals netrepro.
        let slow = scenario("lifecycle-slow", 16, "timeout_ms = 30000");
        std::fs::write(dir.path().join("a-quick.toml"), quick).unwrap();
        std::fs::write(dir.path().join("b-slow.toml"), slow).unwrap();
        Setup { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn report(&self) -> PathBuf {
        self.path("r.json")
    }
    /// `netrepro run <scenarios> --target-cmd 'python3 target.py {port} dir'`.
    fn start(&self, scenarios: &[&str]) -> Child {
        let d = self.dir.path().display().to_string();
        Command::new(env!("CARGO_BIN_EXE_netrepro"))
            .arg("run")
            .args(scenarios.iter().map(|s| self.path(s)))
            .args(["--proto", "tcp", "-q", "-j", "1", "--report"])
            .arg(self.report())
            .arg("--target-cmd")
            .arg(format!("python3 {d}/target.py {{port}} {d}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netrepro")
    }
    /// Every pid the targets wrote (target, child, setsid grandchild).
    fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.path("pids"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect()
    }
}

/// Wait until `pids` are all dead, at most `within`. These processes are
/// not our children (we cannot wait(2) for them, and a pidfd would only
/// tell about one we already found alive), so their death is observed by
/// polling /proc with a bounded deadline.
fn all_dead_within(pids: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| is_alive(p)).collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Results in the report on disk (written atomically, so never torn).
fn results_on_disk(s: &Setup) -> usize {
    std::fs::read(s.report())
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["results"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// Block until the second target (the slow scenario's) has written its
/// pids and the quick scenario's result is in the report on disk: the run
/// is then mid-scenario with one result kept. (The result reaches the file
/// a moment after its job ends, possibly after the next target started, so
/// both conditions are needed.) Polls the two files, bounded by 60 s;
/// netrepro's own exit ends the wait with a failure.
/// Returns netrepro's stderr, drained on a thread (so it never blocks on a
/// full pipe) and handed over when the pipe closes, for failure messages.
fn wait_for_second_target(s: &Setup, child: &mut Child) -> std::thread::JoinHandle<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });
    while s.pids().len() < 6 || results_on_disk(s) < 1 {
        assert!(Instant::now() < deadline, "second target never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "netrepro ended before the second target started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stderr
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(&schema::report_schema()).unwrap();
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    v.iter_errors(doc).map(|e| e.to_string()).collect()
}

#[test]
fn a_setsid_grandchild_and_a_child_of_the_target_are_gone_after_the_run() {
    let s = Setup::new();
    let mut n = s.start(&["a-quick.toml"]);
    let status = n.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let pids = s.pids();
    assert_eq!(pids.len(), 3, "target wrote {pids:?}");
    // No wait: the run is over only once every tree has been swept.
    let alive: Vec<u32> = pids.iter().copied().filter(|&p| is_alive(p)).collect();
    assert!(alive.is_empty(), "still alive after the run: {alive:?}");
}

/// netrepro gets `sig` mid-run: it exits with 128 + sig, the report on disk
/// is valid and partial (the finished scenario in, `complete: false`), and
/// no process of either target is left.
fn interrupted_run_leaves_a_partial_report_and_no_process(sig: i32) {
    let s = Setup::new();
    let mut n = s.start(&["a-quick.toml", "b-slow.toml"]);
    let t0 = Instant::now();
    let stderr = wait_for_second_target(&s, &mut n);
    let waited = t0.elapsed();
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(n.id() as libc::pid_t, sig) }, 0);
    let status = n.wait().unwrap();
    let stderr = stderr.join().unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(128 + sig),
        "{status:?}; signalled after {waited:?}, exited after {:?}; stderr:\n{stderr}\nreport:\n{}",
        t0.elapsed(),
        std::fs::read_to_string(s.report()).unwrap_or_default()
    );
    let alive = all_dead_within(&s.pids(), Duration::ZERO);
    assert!(
        alive.is_empty(),
        "still alive when netrepro exited: {alive:?}"
    );
    let rep: Value = serde_json::from_slice(&std::fs::read(s.report()).unwrap()).unwrap();
    assert_eq!(rep["complete"], Value::Bool(false));
    let results = rep["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0]["scenario"]["name"], "lifecycle-quick");
    let errs = schema_errors(&rep);
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn sigterm_mid_run_leaves_a_partial_report_and_no_process() {
    interrupted_run_leaves_a_partial_report_and_no_process(libc::SIGTERM);
}

#[test]
fn sighup_mid_run_leaves_a_partial_report_and_no_process() {
    interrupted_run_leaves_a_partial_report_and_no_process(libc::SIGHUP);
}

#[test]
fn sigint_mid_run_leaves_a_partial_report_and_no_process() {
    interrupted_run_leaves_a_partial_report_and_no_process(libc::SIGINT);
}

/// SIGKILL: netrepro runs no code, its supervisors sweep (parent-death
/// signal). They are not our children: bounded wait for them to finish.
#[test]
fn sigkill_of_netrepro_leaves_no_process() {
    let s = Setup::new();
    let mut n = s.start(&["a-quick.toml", "b-slow.toml"]);
    let _stderr = wait_for_second_target(&s, &mut n);
    n.kill().unwrap();
    n.wait().unwrap();
    let alive = all_dead_within(&s.pids(), Duration::from_secs(10));
    assert!(
        alive.is_empty(),
        "still alive 10 s after netrepro was killed: {alive:?}"
    );
}
