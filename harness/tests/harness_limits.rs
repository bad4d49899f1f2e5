//! The harness's own descriptor limit never becomes the server's verdict
//! (issue 11.8): netrepro started under `ulimit -n 1024` with a 1000-member
//! group scenario. With the hard limit also 1024 it cannot raise its own
//! limit: the scenario is refused up front as a harness error (status
//! `error`, no verdict, exit 5), never judged `hung`. With a higher hard
//! limit netrepro raises its soft limit at start-up and the same scenario
//! runs and gets a verdict.
#![cfg(unix)]

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

const GROUP: &str = r#"
name = "harness-limits-group-1000"
summary = "1000 clients connect and each gets an echo"
groups = { g = 1000 }
[target]
proto = "tcp"
[[steps]]
actor = "g"
op = "connect"
[[steps]]
actor = "g"
op = "send"
bytes = 8
[[steps]]
actor = "g"
op = "recv"
bytes = 8
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

/// `netrepro run` on the group scenario against the naive server (no
/// connection cap, unlike the hardened one, so all 1000 are served), with
/// RLIMIT_NOFILE = (1024, `hard`) set in the child before exec.
fn run_with_limit(hard: u64) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("group.toml");
    std::fs::write(&sc, GROUP).unwrap();
    let report = dir.path().join("r.json");
    let mut c = Command::new(env!("CARGO_BIN_EXE_netrepro"));
    c.arg("run")
        .arg(&sc)
        .args(["--impl", "naive", "-q", "--report"])
        .arg(&report);
    // SAFETY: only setrlimit, async-signal-safe, in the forked child.
    unsafe {
        c.pre_exec(move || {
            let l = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: hard as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = c.output().unwrap();
    let rep: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (out, rep["results"][0].clone())
}

fn hard_limit() -> u64 {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) }, 0);
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every Unix
    let hard = l.rlim_max as u64;
    hard
}

#[test]
fn a_group_larger_than_the_harness_limit_is_a_harness_error_not_hung() {
    let (out, r) = run_with_limit(1024);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(r["status"], "error", "{r:#}\n{stderr}");
    assert_eq!(r["verdict"], Value::Null);
    let why = r["harness_error"].as_str().unwrap_or_default();
    assert!(why.contains("1024") && why.contains("1064"), "{why}");
    assert_eq!(out.status.code(), Some(5), "{stderr}");
}

#[test]
fn with_a_higher_hard_limit_the_harness_raises_its_own_and_the_group_runs() {
    let hard = hard_limit();
    assert!(
        hard >= 4096,
        "hard RLIMIT_NOFILE {hard} too low to show the raise"
    );
    let (out, r) = run_with_limit(hard);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(r["status"], "error", "{r:#}\n{stderr}");
    assert_eq!(r["verdict"], "survived", "{r:#}\n{stderr}");
    // Every member of the group connected, sent and got its echo.
    let steps = r["steps"].as_array().unwrap();
    let runs: u64 = steps.iter().map(|s| s["runs"].as_u64().unwrap_or(1)).sum();
    assert_eq!(runs, 3000, "{steps:#?}");
    assert!(
        steps.iter().all(|s| s["outcome"]["kind"] == "ok"),
        "{steps:#?}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
