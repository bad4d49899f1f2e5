//! Link faults in the run's own network namespace (issue 14.6): the
//! vanished-idle-client, vanished-mid-transfer, fin-lost and forward
//! upstream-vanishes scenarios give hardened `survived` and naive `leaked`
//! 10 of 10 runs, and without their blackhole they do not (the controls);
//! socat, a forwarder nobody here wrote, waits on a vanished upstream
//! unless given an inactivity timeout; the skip path (no privilege, no `nft` on PATH)
//! says why; no namespace outlives a run, a SIGKILLed one included; netem,
//! blackhole and heal change what a client observes.
#![cfg(target_os = "linux")]

use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const VANISHED: &str = "scenarios/tcp/vanished-idle-client.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Can this test process create a network namespace (root here)?
fn namespaces_here() -> bool {
    std::thread::spawn(|| netrepro_sys::netns::enter_new().is_ok())
        .join()
        .unwrap()
}

/// `[prefix...] netrepro run <args> --report <dir>/r.json`, with `path` as
/// PATH if given: exit code and the report's results.
fn run(
    prefix: &[&str],
    args: &[&str],
    dir: &Path,
    path: Option<&str>,
) -> (Option<i32>, Vec<Value>) {
    let report = dir.join("r.json");
    let _ = std::fs::remove_file(&report);
    let exe = env!("CARGO_BIN_EXE_netrepro");
    let mut cmd = match prefix.split_first() {
        None => Command::new(exe),
        Some((p, rest)) => {
            let mut c = Command::new(p);
            c.args(rest).arg(exe);
            c
        }
    };
    cmd.current_dir(root())
        .arg("run")
        .args(args)
        .arg("--quiet")
        .arg("--report")
        .arg(&report);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd.output().unwrap();
    let rep: Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap_or_default()).unwrap_or(Value::Null);
    let results = rep["results"].as_array().cloned().unwrap_or_default();
    assert!(
        !results.is_empty(),
        "no report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), results)
}

fn notes(r: &Value) -> String {
    r["notes"].to_string()
}

/// The network namespaces any thread of any process is in now.
fn namespaces_in_use() -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(tasks) = std::fs::read_dir(e.path().join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Ok(m) = std::fs::metadata(t.path().join("ns/net")) {
                set.insert(m.ino());
            }
        }
    }
    set
}

/// Runs of [`ten_of_ten`] at once. Each run has its own network namespace
/// (its own loopback, ports and nft rules), processes and report, so runs
/// side by side share nothing but the CPUs; one at a time, the four tests
/// took 12-31 s each, mostly waiting out their scenario's timeouts
/// (issue 16.2).
const AT_ONCE: usize = 5;

/// `scenario` against naive and hardened, 10 times: every result meets
/// its expectations and the verdicts are `want` (naive, hardened). Without
/// the privilege the same run is skipped with the reason.
fn ten_of_ten(scenario: &str, want: [&str; 2]) {
    let dir = tempfile::tempdir().unwrap();
    if !namespaces_here() {
        // Not privileged: the same run is skipped with the reason.
        let (code, results) = run(&[], &[scenario, "--impl", "hardened"], dir.path(), None);
        assert_eq!(code, Some(0));
        assert_eq!(results[0]["status"], "skipped", "{:#}", results[0]);
        assert!(notes(&results[0]).contains("EPERM"), "{:#}", results[0]);
        eprintln!("SKIP: no network namespaces here (needs root); skip path checked");
        return;
    }
    let one = |i: usize| {
        let own = dir.path().join(format!("run-{i}"));
        std::fs::create_dir(&own).unwrap();
        let (code, results) = run(
            &[],
            &[
                scenario, "--impl", "naive", "--impl", "hardened", "--jobs", "2",
            ],
            &own,
            None,
        );
        for r in &results {
            assert_eq!(r["status"], "passed", "{scenario} run {i}: {r:#}");
        }
        let verdicts: Vec<&str> = results
            .iter()
            .map(|r| r["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts, want, "{scenario} run {i}");
        assert_eq!(code, Some(0));
    };
    for batch in (0..10).collect::<Vec<_>>().chunks(AT_ONCE) {
        std::thread::scope(|s| {
            for &i in batch {
                s.spawn(move || one(i));
            }
        });
    }
}

/// `scenario` with its `blackhole` step (on `actor`) replaced by a no-op,
/// run against `imp`: the control that shows the blackhole made the
/// difference. Returns the result.
fn without_the_blackhole(scenario: &str, actor: &str, imp: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(scenario)).unwrap();
    let step = format!("actor = \"{actor}\"\nop = \"blackhole\"");
    let control = text
        .replace(&format!("{step}\nonly = \"fin\""), "op = \"wait\"\nms = 1")
        .replace(&step, "op = \"wait\"\nms = 1");
    assert_ne!(control, text, "the blackhole step was found");
    let p = dir.path().join("control.toml");
    std::fs::write(&p, control).unwrap();
    let (_, results) = run(&[], &[p.to_str().unwrap(), "--impl", imp], dir.path(), None);
    results[0].clone()
}

#[test]
fn vanished_idle_client_hardened_survives_naive_leaks_10_of_10() {
    ten_of_ten(VANISHED, ["leaked", "survived"]);
}

#[test]
fn without_the_blackhole_the_naive_server_sees_the_close() {
    // The control: the same scenario with the blackhole step replaced by a
    // no-op, so naive's `leaked` above is the blackhole's doing.
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let r = without_the_blackhole(VANISHED, "idle", "naive");
    assert_eq!(r["verdict"], "survived", "{r:#}");
}

const MID_TRANSFER: &str = "scenarios/tcp/vanished-mid-transfer.toml";

#[test]
fn vanished_mid_transfer_hardened_gives_up_naive_blocks_10_of_10() {
    ten_of_ten(MID_TRANSFER, ["leaked", "survived"]);
}

#[test]
fn mid_transfer_without_the_blackhole_the_naive_server_sees_the_reset() {
    // The client's close with unread data sends an RST, which ends the
    // naive server's blocked write: its `leaked` above is the blackhole's.
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let r = without_the_blackhole(MID_TRANSFER, "gone", "naive");
    assert_eq!(r["verdict"], "survived", "{r:#}");
}

const FIN_LOST: &str = "scenarios/tcp/fin-lost.toml";

#[test]
fn fin_lost_hardened_times_out_naive_holds_the_socket_10_of_10() {
    ten_of_ten(FIN_LOST, ["leaked", "survived"]);
}

#[test]
fn fin_lost_without_the_blackhole_the_naive_server_sees_the_fin() {
    // The control: the FIN arrives, the naive server's read returns EOF
    // and it closes, so its `leaked` above is the lost FIN's doing.
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let r = without_the_blackhole(FIN_LOST, "c", "naive");
    assert_eq!(r["verdict"], "survived", "{r:#}");
}

#[test]
fn blackhole_only_fin_lets_data_through_and_loses_the_close() {
    // The FIN-only rules drop the closing handshake and nothing else: data
    // sent after the blackhole is still echoed, while the server never
    // sees the client's close (shutdown(write)) and so sends no EOF back.
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let after = "[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 8\n[[steps]]\nid = \"data\"\nactor = \"a\"\nop = \"recv\"\nbytes = 8\ntimeout_ms = 5000\n[[steps]]\nactor = \"a\"\nop = \"shutdown\"\nhow = \"write\"\n[[steps]]\nid = \"eof\"\nactor = \"a\"\nop = \"recv\"\nuntil = \"eof\"\ntimeout_ms = 300\n";
    for (only, want_eof) in [("only = \"fin\"\n", "timeout"), ("", "eof")] {
        let hole = if only.is_empty() {
            // No blackhole at all: the FIN arrives and the echo server
            // closes back.
            String::new()
        } else {
            format!("[[steps]]\nactor = \"a\"\nop = \"blackhole\"\n{only}")
        };
        let body = format!("{ECHO}{hole}{after}");
        let sc = write(dir.path(), "fin", &body);
        let (_, results) = run(&[], &[&sc, "--impl", "naive"], dir.path(), None);
        let r = &results[0];
        assert_eq!(outcome(r, "first"), "ok", "{r:#}");
        assert_eq!(outcome(r, "data"), "ok", "{only}: {r:#}");
        assert_eq!(outcome(r, "eof"), want_eof, "{only}: {r:#}");
    }
}

const UPSTREAM_VANISHES: &str = "scenarios/forward/upstream-vanishes.toml";

#[test]
fn vanished_upstream_hardened_closes_naive_leaves_the_client_waiting_10_of_10() {
    ten_of_ten(UPSTREAM_VANISHES, ["leaked", "survived"]);
}

#[test]
fn without_the_blackhole_the_upstreams_answer_reaches_the_client() {
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    for imp in ["naive", "hardened"] {
        let r = without_the_blackhole(UPSTREAM_VANISHES, "upstream", imp);
        assert_eq!(outcome(&r, "after-vanish"), "ok", "{imp}: {r:#}");
    }
}

#[test]
fn socat_waits_on_a_vanished_upstream_unless_given_an_inactivity_timeout() {
    // An independent forwarder: socat has no inactivity timeout unless
    // told (-T, socat(1)); with one it closes the client's side. Half the
    // scenario's 1000 ms `after-vanish` wait: at -T 1 the two timers raced
    // (the recv timed out first under load, once 8ce5434 cut the wait from
    // 1500 ms).
    if !namespaces_here() || Command::new("socat").arg("-V").output().is_err() {
        eprintln!("SKIP: needs root (network namespaces) and socat");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (opts, want) in [("", "timeout"), ("-T 0.5 ", "eof")] {
        let cmd = format!(
            "socat {opts}TCP-LISTEN:{{port}},bind=127.0.0.1,reuseaddr,fork TCP:{{upstream}}"
        );
        let (_, results) = run(
            &[],
            &[
                UPSTREAM_VANISHES,
                "--target-cmd",
                &cmd,
                "--expect",
                "survived",
            ],
            dir.path(),
            None,
        );
        let r = &results[0];
        assert_eq!(outcome(r, "served"), "ok", "{cmd}: {r:#}");
        assert_eq!(outcome(r, "after-vanish"), want, "{cmd}: {r:#}");
        assert_eq!(r["status"], "passed", "{cmd}: {r:#}");
    }
}

#[test]
fn without_privilege_or_tools_the_scenario_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    // No nft on PATH (an empty directory is all of PATH).
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, results) = run(
        &[],
        &[VANISHED, "--impl", "hardened"],
        dir.path(),
        Some(empty.to_str().unwrap()),
    );
    assert_eq!(code, Some(0), "a skip is not a failure");
    assert_eq!(results[0]["status"], "skipped", "{:#}", results[0]);
    let n = notes(&results[0]);
    assert!(n.contains("nft") || n.contains("EPERM"), "{n}");
    assert!(results[0]["verdict"].is_null(), "no verdict without a run");

    // As an unprivileged user (nobody): no namespace can be created.
    if namespaces_here() && Path::new("/usr/bin/setpriv").exists() {
        let (code, results) = run(
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            &[VANISHED, "--impl", "hardened"],
            dir.path(),
            None,
        );
        assert_eq!(code, Some(0));
        assert_eq!(results[0]["status"], "skipped", "{:#}", results[0]);
        assert!(notes(&results[0]).contains("EPERM"), "{:#}", results[0]);
    }
}

/// A scenario file in `dir` with `body` after the head.
fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\nsummary = \"link fault test\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\nnetns = true\n{body}\n[expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n"
    );
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn outcome(r: &Value, id: &str) -> String {
    r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["outcome"]["kind"].as_str().unwrap_or("?").to_string())
        .unwrap_or_default()
}

const ECHO: &str = r#"[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "a"
op = "send"
bytes = 8
[[steps]]
id = "first"
actor = "a"
op = "recv"
bytes = 8
timeout_ms = 2000
"#;

#[test]
fn blackhole_silences_a_connection_and_heal_restores_it() {
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{ECHO}[[steps]]\nactor = \"a\"\nop = \"blackhole\"\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 8\n[[steps]]\nid = \"holed\"\nactor = \"a\"\nop = \"recv\"\nbytes = 8\ntimeout_ms = 300\n[[steps]]\nop = \"heal\"\n[[steps]]\nid = \"healed\"\nactor = \"a\"\nop = \"recv\"\nbytes = 8\ntimeout_ms = 5000\n"
    );
    let sc = write(dir.path(), "hole", &body);
    let (_, results) = run(&[], &[&sc, "--impl", "hardened"], dir.path(), None);
    let r = &results[0];
    assert_eq!(outcome(r, "first"), "ok", "{r:#}");
    assert_eq!(outcome(r, "holed"), "timeout", "{r:#}");
    // TCP retransmits the held bytes once the link is whole again.
    assert_eq!(outcome(r, "healed"), "ok", "{r:#}");
}

#[test]
fn netem_delay_is_felt_by_the_client() {
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 150 ms each way on lo: a round trip takes at least 300 ms, so a
    // 200 ms recv times out while one of 5 s gets the echo.
    let body = format!(
        "{ECHO}[[steps]]\nop = \"netem\"\ndelay_ms = 150\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 8\n[[steps]]\nid = \"slow\"\nactor = \"a\"\nop = \"recv\"\nbytes = 8\ntimeout_ms = 200\n[[steps]]\nid = \"late\"\nactor = \"a\"\nop = \"recv\"\nbytes = 8\ntimeout_ms = 5000\n[[steps]]\nop = \"heal\"\n"
    );
    let sc = write(dir.path(), "delay", &body);
    let (_, results) = run(&[], &[&sc, "--impl", "hardened"], dir.path(), None);
    let r = &results[0];
    if r["status"] == "skipped" {
        // A kernel without sch_netem (some containers): skipped, with tc's
        // own words as the reason, never passed.
        let n = notes(r);
        assert!(n.contains("tc qdisc") && n.contains("netem"), "{r:#}");
        eprintln!("SKIP: this kernel has no netem: {n}");
        return;
    }
    assert_eq!(outcome(r, "first"), "ok", "{r:#}");
    assert_eq!(outcome(r, "slow"), "timeout", "{r:#}");
    assert_eq!(outcome(r, "late"), "ok", "{r:#}");
    assert_eq!(r["status"], "passed", "{r:#}");
}

/// The namespace the run `pid` moved its thread into (any task of it whose
/// namespace is not ours), polled until it shows up (bounded).
fn namespace_of(pid: u32) -> u64 {
    let ours = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
    let limit = Instant::now() + Duration::from_secs(15);
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
        for t in tasks.flatten() {
            if let Ok(m) = std::fs::metadata(t.path().join("ns/net")) {
                if m.ino() != ours {
                    return m.ino();
                }
            }
        }
        assert!(Instant::now() < limit, "the run never entered a namespace");
        std::thread::sleep(Duration::from_millis(20)); // polling /proc, bounded
    }
}

/// Wait (bounded) until no task of any process is in namespace `ns`.
fn assert_gone(ns: u64, what: &str) {
    let limit = Instant::now() + Duration::from_secs(10);
    while namespaces_in_use().contains(&ns) {
        assert!(Instant::now() < limit, "namespace {ns} outlived {what}");
        std::thread::sleep(Duration::from_millis(20)); // polling /proc, bounded
    }
}

#[test]
fn no_namespace_outlives_a_run_even_a_killed_one() {
    if !namespaces_here() {
        eprintln!("SKIP: no network namespaces here (needs root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, recv_ms, kill) in [("ends", 1500, false), ("killed", 20000, true)] {
        // A run that stays inside its namespace for a while (a long recv).
        let body =
            format!("{ECHO}[[steps]]\nactor = \"a\"\nop = \"recv\"\ntimeout_ms = {recv_ms}\n");
        let sc = write(dir.path(), name, &body);
        let mut child = Command::new(env!("CARGO_BIN_EXE_netrepro"))
            .current_dir(root())
            .args(["run", &sc, "--impl", "hardened", "--quiet"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ns = namespace_of(child.id());
        if kill {
            child.kill().unwrap(); // SIGKILL: the harness runs no code after this
        }
        child.wait().unwrap();
        assert_gone(ns, name);
    }
}
