//! External targets (`run --target-cmd / --target-addr`) with the example
//! programs in examples/targets/, socat as a third-party target, the clear
//! errors for targets that do not start, and `explore`.
//!
//! Setup failures of an external target are per-scenario results with
//! `setup_error` set and status failed (exit code 1), like a built-in
//! server that fails to start; bad flags are usage errors (exit code 2).

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn netrepro() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_netrepro"));
    c.current_dir(root());
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `run` with extra args; returns the process output and the results.
fn run(args: &[&str], dir: &Path) -> (Output, Vec<Value>) {
    common::run_report(args, dir)
}

#[cfg(target_os = "linux")]
fn server_error_names(r: &Value) -> Vec<String> {
    r["server_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[cfg(unix)]
use common::socat_installed;

/// socat as a third-party TCP echo server.
#[cfg(unix)]
const SOCAT_ECHO: &str = "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork EXEC:cat";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[cfg(target_os = "linux")]
/// The paused form: deterministic whatever the load (the delay form,
/// tribler-vanished-client-recverr with --reply-delay-ms 150, lost the race
/// when the harness was descheduled for longer than the delay).
const TRIBLER: &str = "scenarios/udp/tribler-vanished-client-paused.toml";

#[cfg(target_os = "linux")]
#[test]
fn tribler_style_program_crashes_with_econnrefused_and_the_fixed_one_survives() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = "python3 examples/targets/tribler_udp_echo.py --port {port} --recverr";
    let (out, res) = run(
        &[TRIBLER, "--target-cmd", cmd, "--expect", "crashed"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = &res[0];
    assert_eq!(r["impl"], "external");
    assert_eq!(r["verdict"], "crashed");
    assert_eq!(r["status"], "passed");
    assert_eq!(r["exit"]["code"], 1);
    assert_eq!(r["target"]["kind"], "cmd");
    assert!(
        server_error_names(r).contains(&"ECONNREFUSED".to_string()),
        "{r}"
    );
    // ip_recverr cannot be applied to a foreign program: said so.
    let notes = r["notes"].to_string();
    assert!(notes.contains("ip_recverr"), "{notes}");

    let fixed = "python3 examples/targets/tribler_udp_echo_fixed.py --port {port} --recverr";
    let (out, res) = run(
        &[TRIBLER, "--target-cmd", fixed, "--expect", "survived"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(res[0]["verdict"], "survived");
    // It met the same error and carried on.
    assert!(server_error_names(&res[0]).contains(&"ECONNREFUSED".to_string()));

    // reply_delay_ms cannot be applied to a foreign program either: said so
    // (the fixed program survives either way, so no race is involved).
    let delayed = "scenarios/udp/tribler-vanished-client-recverr.toml";
    let (_, res) = run(
        &[delayed, "--target-cmd", fixed, "--expect", "survived"],
        dir.path(),
    );
    let notes = res[0]["notes"].to_string();
    assert!(
        notes.contains("ip_recverr") && notes.contains("reply_delay_ms"),
        "{notes}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn natter_style_forwarder_never_tells_the_upstream_and_the_fixed_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let sc = "examples/targets/natter-client-abort-upstream-eof.toml";
    let mut told = Vec::new();
    let mut classes = Vec::new();
    for prog in ["natter_forward.py", "natter_forward_fixed.py"] {
        // No LISTENING line: readiness is the port accepting.
        let cmd =
            format!("python3 examples/targets/{prog} --port {{port}} --upstream {{upstream}}");
        let (out, res) = run(
            &[sc, "--target-cmd", &cmd, "--expect", "survived"],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{prog}: {}", stderr(&out));
        let r = &res[0];
        assert_eq!(r["verdict"], "survived", "{prog}: {r}");
        let step = r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "upstream-closed")
            .unwrap_or_else(|| panic!("{prog}: no upstream-closed step: {r}"));
        told.push(step["outcome"]["kind"].as_str().unwrap().to_string());
        classes.push(
            r["server_errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["class"].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
        );
    }
    // Broken: the thread that saw the client's RST closes the upstream
    // socket under its sibling, which stays blocked in recv on it (Linux
    // keeps the socket open while a recv is in progress), so the upstream
    // is never told. Fixed: the upstream reads EOF.
    assert_eq!(told, ["timeout", "eof"], "{classes:?}");
    assert!(classes[0].contains(&"reset".to_string()), "{classes:?}");
    // Closing a socket under a sibling (EBADF here, WSAECONNABORTED 10053 on
    // Windows, Natter issue #41) never happens in the fixed one.
    assert!(
        !classes[1].contains(&"bad-descriptor".to_string()),
        "{classes:?}"
    );
}

#[cfg(unix)]
#[test]
fn socat_as_a_third_party_tcp_echo_survives() {
    if !socat_installed() {
        return;
    }
    let res = socat_echo_survives("scenarios/tcp/rst-mid-request.toml");
    assert_eq!(res["status"], "passed");
}

/// Runs `scenario` against socat's echo expecting `survived`; checks the
/// exit code and the verdict, returns the result.
#[cfg(unix)]
fn socat_echo_survives(scenario: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (out, res) = run(
        &[scenario, "--target-cmd", SOCAT_ECHO, "--expect", "survived"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(res[0]["verdict"], "survived");
    res[0].clone()
}

/// Socket options against a program netrepro did not write: a client
/// with SO_LINGER {on, 0} set before connect closes (an RST, socket(7));
/// socat (one child per connection) loses only that child and serves the
/// next client. The report records the linger the OS granted. (socat
/// prints the reset as message text only, which netrepro does not read;
/// the server-side ECONNRESET is checked against Python's socketserver in
/// tests/sockopts.rs.)
#[cfg(unix)]
#[test]
fn socat_serves_on_after_a_client_whose_close_is_a_reset() {
    if !socat_installed() {
        return;
    }
    let res = socat_echo_survives("scenarios/tcp/linger-zero-close.toml");
    let served = res["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "b-served")
        .expect("a b-served record");
    assert_eq!(served["outcome"]["kind"], "ok", "{served}");
    assert_eq!(
        res["granted_sockopts"]["a"]["linger"],
        serde_json::json!({"on": true, "s": 0}),
        "{res}"
    );
}

/// wait_readable against a program netrepro did not write: socat's echo
/// arrives, the peek sees it, and the close with it unread (RST) leaves
/// socat (one child per connection) serving.
#[cfg(unix)]
#[test]
fn wait_readable_sees_socats_echo_before_the_unread_close() {
    if !socat_installed() {
        return;
    }
    let res = socat_echo_survives("scenarios/tcp/close-unread-reply-wait-readable.toml");
    let arrived = res["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["op"] == "wait_readable")
        .expect("a wait_readable record");
    assert_eq!(arrived["outcome"]["kind"], "ok", "{arrived}");
    assert!(
        arrived["outcome"]["bytes"].as_u64().unwrap() >= 1,
        "{arrived}"
    );
}

/// UDP to a closed loopback port and past the IPv4 size limit, with a
/// Python UDP echo as the server: the client-side outcomes are the
/// kernel's (ECONNREFUSED on the connected socket, EMSGSIZE), the server
/// sees none of it and survives.
#[cfg(target_os = "linux")]
#[test]
fn udp_to_a_closed_port_and_oversize_leave_a_python_echo_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let echo = "python3 examples/targets/tribler_udp_echo_fixed.py --port {port}";
    let (out, res) = run(
        &[
            "scenarios/udp/send-to-closed-port.toml",
            "--target-cmd",
            echo,
            "--expect",
            "survived",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(res[0]["verdict"], "survived");
    let outcome = |id: &str| -> Value {
        res[0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))["outcome"]
            .clone()
    };
    assert_eq!(outcome("tied-recv")["error"]["name"], "ECONNREFUSED");
    assert_eq!(outcome("too-big")["error"]["name"], "EMSGSIZE");
    assert_eq!(outcome("loose-recv")["kind"], "timeout");
}

/// Scenario options netrepro cannot apply to someone else's program are
/// named in the notes (idle_timeout_ms was dropped silently); max_fds is
/// applied to a started command, so it is not.
#[cfg(unix)]
#[test]
fn options_not_applied_to_socat_are_named_in_the_notes() {
    if !socat_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, res) = run(
        &[
            "scenarios/tcp/idle-clients-fd-limit.toml",
            "--target-cmd",
            SOCAT_ECHO,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes: Vec<String> = res[0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("idle_timeout_ms = 500")),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|n| n.contains("max_fds")), "{notes:?}");
}

/// An echo server is not run through forward scenarios (each failed to set
/// up, so every echo-server run exited 1): they are skipped with a note, and
/// echo scenarios against a forwarder likewise. The mode comes from
/// `{upstream}` in the command, or `--mode`, which must agree with it.
#[cfg(unix)]
#[test]
fn scenarios_of_the_other_mode_are_skipped_with_a_note() {
    if !socat_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fwd_sc = "scenarios/forward/client-half-close.toml";
    let tcp_sc = "scenarios/tcp/rst-mid-request.toml";
    for extra in [&[][..], &["--mode", "echo"][..]] {
        let mut args = vec![fwd_sc, tcp_sc, "--proto", "tcp", "--target-cmd", SOCAT_ECHO];
        args.extend_from_slice(extra);
        let (out, res) = run(&args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
        let fwd = &res[0];
        assert_eq!(fwd["scenario"]["mode"], "forward");
        assert_eq!(fwd["status"], "skipped", "{fwd}");
        assert_eq!(fwd["setup_error"], Value::Null, "{fwd}");
        assert!(fwd["notes"].to_string().contains("echo mode"), "{fwd}");
        assert_eq!(res[1]["verdict"], "survived", "{}", res[1]);
    }
    // socat as a forwarder: the echo scenario is skipped, not run.
    let forwarder = "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork TCP:{upstream}";
    let (out, res) = run(&[tcp_sc, "--target-cmd", forwarder], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(res[0]["status"], "skipped", "{}", res[0]);
    assert!(
        res[0]["notes"].to_string().contains("forward mode"),
        "{}",
        res[0]
    );
    // A --mode that contradicts the command is a usage error.
    for (cmd, mode) in [(SOCAT_ECHO, "forward"), (forwarder, "echo")] {
        let (out, _) = run(&[tcp_sc, "--target-cmd", cmd, "--mode", mode], dir.path());
        assert_eq!(out.status.code(), Some(2), "{mode}: {}", stderr(&out));
    }
    let (out, _) = run(
        &[tcp_sc, "--target-addr", "127.0.0.1:9", "--mode", "forward"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A Python interpreter to write tiny targets with: `python3` (Unix) or
/// `python` (Windows runners). `None` where there is none, e.g. under Wine,
/// which cannot run the host's Linux python3.
fn python() -> Option<&'static str> {
    ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn a_target_that_cannot_start_exits_early_or_never_listens_is_a_clear_setup_error() {
    let Some(py) = python() else {
        println!("SKIP: no python interpreter on this host to write the test targets with");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sc = "scenarios/tcp/rst-mid-request.toml";
    let cases: [(String, &[&str]); 3] = [
        (
            "/nonexistent/netrepro-no-such-server {port}".to_string(),
            &["could not start"],
        ),
        (
            format!("{py} -c \"import sys; sys.stderr.write('boom on {{port}}\\n'); sys.exit(3)\""),
            &["exited before it was ready", "exit code 3", "boom on"],
        ),
        (
            format!("{py} -c \"import time; time.sleep(30)\" {{port}}"),
            &["did not accept a TCP connection"],
        ),
    ];
    for (cmd, wanted) in &cases {
        let cmd = cmd.as_str();
        let (out, res) = run(&[sc, "--target-cmd", cmd], dir.path());
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        let err = res[0]["setup_error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for w in wanted.iter() {
            assert!(err.contains(w), "{cmd}: {w:?} not in {err:?}");
        }
        assert_eq!(res[0]["status"], "failed");
        assert!(stderr(&out).contains("setup error"), "{}", stderr(&out));
    }
}

#[test]
fn target_addr_is_loopback_only_and_a_dead_port_counts_as_crashed_by_probe() {
    let dir = tempfile::tempdir().unwrap();
    let sc = "scenarios/tcp/rst-mid-request.toml";
    let (out, _) = run(&[sc, "--target-addr", "192.0.2.1:9"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--allow-remote"));
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let (_, res) = run(&[sc, "--target-addr", &addr], dir.path());
    let r = &res[0];
    assert_eq!(r["verdict"], "crashed", "{r}");
    assert_eq!(r["status"], "unverified");
    assert!(r["notes"].to_string().contains("probe only"), "{r}");
}

/// `--target-addr` with UDP: the probe's socket is connected, so a server
/// that is gone is refused (ICMP port unreachable: ECONNREFUSED on
/// Linux/macOS, WSAECONNRESET on Windows) and reads as crashed, not hung.
/// The server is a Python one-liner: alive it survives, after it exited its
/// port is dead.
#[test]
fn target_addr_udp_dead_server_is_crashed_by_a_refused_probe() {
    use std::io::BufRead;
    let Some(py) = python() else {
        println!("SKIP: no python interpreter on this host to write the test target with");
        return;
    };
    if netrepro_sys::platform::under_wine() {
        println!(
            "SKIP: Wine never reports the ICMP port unreachable (docs/os.md, Windows under Wine)"
        );
        return;
    }
    let echo = "import socket\n\
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                s.bind(('127.0.0.1', 0))\n\
                print(s.getsockname()[1], flush=True)\n\
                while True:\n    d, a = s.recvfrom(65536)\n    s.sendto(d, a)\n";
    let mut server = Command::new(py)
        .args(["-c", echo])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = format!("127.0.0.1:{}", line.trim());
    let dir = tempfile::tempdir().unwrap();
    let sc = "scenarios/udp/zero-length-datagram.toml";
    let (_, res) = run(&[sc, "--target-addr", &addr], dir.path());
    assert_eq!(res[0]["verdict"], "survived", "{}", res[0]);
    server.kill().unwrap();
    server.wait().unwrap();

    let (out, res) = run(
        &[sc, "--target-addr", &addr, "--expect", "crashed"],
        dir.path(),
    );
    let r = &res[0];
    assert_eq!(r["verdict"], "crashed", "{r}");
    assert_eq!(r["probe"]["outcome"]["kind"], "error", "{r}");
    let class = r["probe"]["outcome"]["error"]["class"].as_str().unwrap();
    let want = if cfg!(windows) { "reset" } else { "refused" };
    assert_eq!(class, want, "{r}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The loopback rule holds for the address a target announces, as for
/// --target-addr: `LISTENING 192.0.2.1:9` is refused (exit 2, no step, no
/// probe), and nothing connects to it.
#[test]
fn a_target_announcing_a_non_loopback_address_is_refused_before_any_connect() {
    let Some(py) = python() else {
        println!("SKIP: no python interpreter on this host to write the test target with");
        return;
    };
    let announce = |addr: &str| {
        format!("{py} -c \"import time; print('LISTENING {addr}', flush=True); time.sleep(60)\"")
    };
    let dir = tempfile::tempdir().unwrap();
    let sc = "scenarios/tcp/rst-mid-request.toml";
    let (out, res) = run(&[sc, "--target-cmd", &announce("192.0.2.1:9")], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-remote"), "{}", stderr(&out));
    let r = &res[0];
    assert_eq!(r["input_error"], true, "{r}");
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["verdict"], Value::Null, "{r}");
    assert_eq!(r["steps"].as_array().map(Vec::len), Some(0), "{r}");
    assert_eq!(r["probe"], Value::Null, "{r}");

    // Proof that nothing connects: on Linux a connect to 0.0.0.0 reaches a
    // listener on 127.0.0.1, so a test listener there sees any attempt (and
    // the traffic stays on this machine). Refused: no connection queued.
    // With --allow-remote the same target is connected to, so the listener
    // does see it when it happens.
    if cfg!(target_os = "linux") {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cmd = announce(&format!("0.0.0.0:{port}"));
        let (out, _) = run(&[sc, "--target-cmd", &cmd], dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let e = listener
            .accept()
            .expect_err("refused, yet something connected");
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);

        let (out, res) = run(&[sc, "--target-cmd", &cmd, "--allow-remote"], dir.path());
        assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(res[0]["input_error"], Value::Null, "{}", res[0]);
        assert!(listener.accept().is_ok(), "allowed, yet nothing connected");
    }
}

/// The explore budget both forwarder tests use: small enough for a test,
/// fixed seed so the result is the same every run. Seed 7's first case, 8
/// steps, leaks on the naive forwarder, and 16 shrink iterations take it
/// to the 2-step minimum (a client connects, the upstream accepts the
/// forwarder's connection) in 12 runs (48 end at the same 2 steps): ~7 s
/// alone. Seed 1, used before, failed in case 1 too, but its runs each
/// waited out an `upstream accept` with nothing to accept (the generated
/// scenario's 3 s bound), and 4 shrink iterations left 5 steps: 17-24 s.
/// Seeds 0-99 were tried; the faster ones (seed 16: 5.5 s) fail on a case
/// that is already minimal, which proves no shrinking.
const EXPLORE_FORWARD_SEED: &str = "7";
const EXPLORE_FORWARD_BUDGET: [&str; 10] = [
    "--proto",
    "tcp",
    "--mode",
    "forward",
    "--cases",
    "3",
    "--seed",
    EXPLORE_FORWARD_SEED,
    "--time-limit",
    "40s",
];
const EXPLORE_FORWARD_SHRINK: [&str; 2] = ["--max-shrink-iters", "16"];

// The naive and the hardened forwarder are two tests so that they run side
// by side (issue 16.2): same budget, same seed, independent processes.
#[test]
fn explore_finds_and_shrinks_a_naive_failure_that_run_reproduces() {
    // The naive forwarder's failure is a leak; under Wine the harness cannot
    // sample a process's handles or sockets (docs/os.md, "Windows under Wine").
    if netrepro_sys::platform::under_wine() {
        println!("SKIP: leaks cannot be observed under Wine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The same search without shrinking, beside the real one (checked at
    // the end): it writes the failing case as found.
    let unshrunk = dir.path().join("unshrunk.toml");
    let as_found = netrepro()
        .arg("explore")
        .args(EXPLORE_FORWARD_BUDGET)
        .args(["--max-shrink-iters", "0", "--impl", "naive", "--out"])
        .arg(&unshrunk)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out_file = dir.path().join("found.toml");
    let out = netrepro()
        .arg("explore")
        .args(EXPLORE_FORWARD_BUDGET)
        .args(EXPLORE_FORWARD_SHRINK)
        .args(["--impl", "naive", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(&out));
    let sc = netrepro_scenario::load_file(&out_file).expect("written file parses");
    // Shrunk to the minimum: a client connects and the upstream accepts
    // the forwarder's connection, which the naive forwarder never closes.
    assert!(sc.steps.len() <= 2, "not shrunk: {} steps", sc.steps.len());
    assert!(
        sc.refs
            .iter()
            .any(|r| r.contains(&format!("seed {EXPLORE_FORWARD_SEED} "))),
        "{:?}",
        sc.refs
    );
    let (run_out, res) = run(&[out_file.to_str().unwrap(), "--impl", "naive"], dir.path());
    assert_eq!(run_out.status.code(), Some(0), "{}", stderr(&run_out));
    assert_eq!(res[0]["status"], "passed", "{}", res[0]);
    assert_ne!(res[0]["verdict"], "survived");

    // The failing case as found was longer: the 2 steps above are the
    // shrinker's work.
    let out = as_found.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = netrepro_scenario::load_file(&unshrunk).expect("written file parses");
    assert!(
        found.steps.len() > sc.steps.len(),
        "found {} steps, shrunk {}",
        found.steps.len(),
        sc.steps.len()
    );
}

#[test]
fn explore_finds_no_failure_in_the_hardened_forwarder_with_the_same_budget() {
    if netrepro_sys::platform::under_wine() {
        println!("SKIP: leaks cannot be observed under Wine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = netrepro()
        .arg("explore")
        .args(EXPLORE_FORWARD_BUDGET)
        .args(EXPLORE_FORWARD_SHRINK)
        .args(["--impl", "hardened", "--out"])
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!dir.path().join("none.toml").exists());
}

#[test]
fn explore_finds_the_sequential_naive_echo_dying_of_one_reset_within_ten_cases() {
    // Issue 13's acceptance: the crash of a Rust-book style server is one
    // of the first things random TCP sequences hit.
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("found.toml");
    let out = netrepro()
        .arg("explore")
        .args(["--proto", "tcp", "--impl", "naive-seq", "--seed", "7"])
        .args(["--cases", "10", "--time-limit", "60s", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(&out));
    let sc = netrepro_scenario::load_file(&out_file).expect("written file parses");
    assert!(sc.steps.len() <= 3, "not shrunk: {} steps", sc.steps.len());
    let (run_out, res) = run(
        &[out_file.to_str().unwrap(), "--impl", "naive-seq"],
        dir.path(),
    );
    assert_eq!(run_out.status.code(), Some(0), "{}", stderr(&run_out));
    assert_eq!(res[0]["verdict"], "crashed", "{}", res[0]);
}
