//! The watchdog (`netrepro_runner::watchdog`): a run whose async runtime
//! stalls still ends, bounded, with a report. The test-only hook
//! `NETREPRO_TEST_ONLY_STALL_RUNTIME` blocks every worker thread of the
//! runtime once the named scenario's server is up (and prints that
//! server's pid); the watchdog's bound is shortened with
//! `NETREPRO_TEST_ONLY_WATCHDOG_MS`. Checked: the process exits with the
//! harness-error code within the bound plus the servers' sweep, the report
//! is there, incomplete, with the result that came before the stall and
//! the stalled run as the harness's error, and the stalled run's server is
//! gone. `explore` and a case of the testing API (`netrepro-testing`, in
//! a test process of its own: this binary run again) get the same end.

use netrepro_report::{json, Status};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The shortened bound: longer than the first scenario takes on a loaded
/// machine (it must finish before the stall for its result to be there),
/// and than a server takes to start (the hook runs once it is up). A
/// one-connect run against the built-in hardened server, process start
/// included, takes ~0.1 s inside a loaded nextest run (the scenarios
/// tests' junit times), so 3 s leaves 30x; each test here lasts about
/// this bound, and 8 s made them three of the suite's slowest (issue 16.2).
const BOUND: Duration = Duration::from_secs(3);

/// What the watchdog may take after its bound: killing the servers waits
/// up to `SWEEP_WAIT` for their supervisors, plus slack for a loaded
/// machine (and Wine) to write the report and exit.
fn exit_limit() -> Duration {
    BOUND + netrepro_sys::process::group::SWEEP_WAIT + Duration::from_secs(10)
}

mod common;

#[cfg(target_os = "linux")]
use common::procs::is_alive as alive;

/// Whether the process `pid` still runs: it can be opened and has not
/// signalled its exit.
#[cfg(windows)]
fn alive(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_TIMEOUT};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };
    // SAFETY: a handle this function opens and closes.
    unsafe {
        let h = OpenProcess(PROCESS_SYNCHRONIZE, 0, pid);
        if h.is_null() {
            return false;
        }
        let running = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
        CloseHandle(h);
        running
    }
}

/// Other Unix: `kill(pid, 0)` (a zombie would count as alive: stricter).
#[cfg(all(unix, not(target_os = "linux")))]
fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// What a stalled command did: its exit code, how long after the hook's
/// line it exited, the stalled server's pid, and its stderr.
struct Ended {
    code: Option<i32>,
    after_stall: Duration,
    server_pid: u32,
    stderr: String,
}

/// Run netrepro with `args` and the stall hook on `scenario` (see
/// [`run_stalled_command`]).
fn run_stalled(dir: &Path, scenario: &str, args: &[&str]) -> Ended {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netrepro"));
    cmd.args(args).current_dir(dir);
    run_stalled_command(cmd, scenario)
}

/// Run `cmd` with the stall hook on `scenario`; every wait is bounded and
/// a process that does not end in time is killed and fails the test.
fn run_stalled_command(mut cmd: Command, scenario: &str) -> Ended {
    let mut child = cmd
        .env("NETREPRO_TEST_ONLY_STALL_RUNTIME", scenario)
        .env(
            "NETREPRO_TEST_ONLY_WATCHDOG_MS",
            BOUND.as_millis().to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start netrepro");
    let (tx, rx) = mpsc::channel::<Option<String>>();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None); // EOF: netrepro is gone
    });
    let mut text = String::new();
    // The process's own stdout is not read: null (libtest prints there).
    let mut server_pid = None;
    let mut stalled_at = None;
    // Until EOF on stderr, at most: the first scenario (< BOUND), the
    // stall (BOUND) and the exit.
    let limit = BOUND + exit_limit();
    let deadline = Instant::now() + limit;
    let eof = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Some(line)) => {
                if let Some(pid) = line
                    .strip_prefix("test hook (NETREPRO_TEST_ONLY_STALL_RUNTIME)")
                    .and_then(|rest| rest.rsplit_once("server pid "))
                    .and_then(|(_, pid)| pid.trim().parse::<u32>().ok())
                {
                    server_pid = Some(pid);
                    stalled_at = Some(Instant::now());
                }
                text.push_str(&line);
                text.push('\n');
            }
            Ok(None) => break true,
            Err(_) => break false,
        }
    };
    if !eof {
        let _ = child.kill();
        let _ = child.wait();
        panic!("netrepro did not end within {limit:?} of its start; stderr:\n{text}");
    }
    // stderr closed: the process has exited (or is exiting).
    let status = child.wait().expect("wait for netrepro");
    let stalled_at = stalled_at.unwrap_or_else(|| panic!("the hook never ran; stderr:\n{text}"));
    Ended {
        code: status.code(),
        after_stall: stalled_at.elapsed(),
        server_pid: server_pid.expect("the hook names the server pid"),
        stderr: text,
    }
}

#[test]
fn a_stalled_runtime_ends_the_run_with_an_incomplete_report_and_no_server_left() {
    let dir = tempfile::tempdir().unwrap();
    // The first run's result comes before the stall; the second stalls.
    let stalled = common::ONE_CONNECT.replace("one-connect", "watchdog-stalled");
    std::fs::write(dir.path().join("a-first.toml"), common::ONE_CONNECT).unwrap();
    std::fs::write(dir.path().join("b-stalled.toml"), stalled).unwrap();
    let ended = run_stalled(
        dir.path(),
        "watchdog-stalled",
        &[
            "run",
            "--impl",
            "hardened",
            "--jobs",
            "1",
            "--report",
            "r.json",
            "a-first.toml",
            "b-stalled.toml",
        ],
    );
    let text = &ended.stderr;
    assert_eq!(ended.code, Some(5), "harness-error exit; stderr:\n{text}");
    assert!(
        ended.after_stall <= exit_limit(),
        "exited {:?} after the stall (bound {BOUND:?}); stderr:\n{text}",
        ended.after_stall
    );
    assert!(
        text.contains("error: the harness's runtime stalled"),
        "{text}"
    );
    assert!(
        !alive(ended.server_pid),
        "the stalled run's server {} outlived the run",
        ended.server_pid
    );

    let rep = json::read(&dir.path().join("r.json")).expect("the report was written");
    assert!(!rep.complete, "a stalled run's report is incomplete");
    let got: Vec<(&str, Status)> = rep
        .results
        .iter()
        .map(|r| (r.scenario.name.as_str(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            ("one-connect", Status::Passed),
            ("watchdog-stalled", Status::Error)
        ]
    );
    let stalled = &rep.results[1];
    assert_eq!(stalled.verdict, None, "no verdict about the server");
    let why = stalled.harness_error.as_deref().expect("harness error");
    assert!(why.contains("stalled"), "{why}");
    assert_eq!(rep.results[0].harness_error, None);
    assert_eq!((rep.summary.passed, rep.summary.errors), (1, 1));
}

#[test]
fn a_stalled_explore_ends_with_the_harness_error_and_no_server_left() {
    let dir = tempfile::tempdir().unwrap();
    let ended = run_stalled(
        dir.path(),
        // The name explore gives its generated scenarios for this seed.
        "explored-tcp-echo-seed-0",
        &[
            "explore", "--proto", "tcp", "--impl", "hardened", "--cases", "2", "--out", "x.toml",
        ],
    );
    let text = &ended.stderr;
    assert_eq!(ended.code, Some(5), "harness-error exit; stderr:\n{text}");
    assert!(ended.after_stall <= exit_limit(), "{:?}", ended.after_stall);
    assert!(
        text.contains("error: the harness's runtime stalled"),
        "{text}"
    );
    assert!(!alive(ended.server_pid), "server {}", ended.server_pid);
    assert!(!dir.path().join("x.toml").exists(), "nothing is written");
}

/// The testing API's case: `tcp/rst-mid-request` against the built-in
/// hardened server, started as the user's own program would be.
fn api_case() -> netrepro_testing::Case {
    let server = netrepro_testing::Target::program(env!("CARGO_BIN_EXE_netrepro")).args([
        "serve", "--impl", "hardened", "--proto", "tcp", "--port", "{port}",
    ]);
    let mut cases = netrepro_testing::Suite::new()
        .catalog_only(["tcp/rst-mid-request"])
        .target("hardened", server)
        .cases()
        .expect("a valid suite");
    assert_eq!(cases.len(), 1);
    cases.remove(0)
}

/// Run as is, the case passes; the next test runs this same test again in
/// a process of its own with its runtime stalled.
#[test]
fn a_testing_api_case_passes() {
    let passed = api_case().run().unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(passed.verdict, Some(netrepro_testing::Verdict::Survived));
}

#[test]
fn a_stalled_testing_api_case_ends_its_test_process_and_no_server_is_left() {
    let mut cmd = Command::new(std::env::current_exe().expect("this test binary"));
    cmd.args([
        "--exact",
        "a_testing_api_case_passes",
        "--test-threads",
        "1",
    ]);
    let ended = run_stalled_command(cmd, "tcp-rst-mid-request");
    let text = &ended.stderr;
    assert_eq!(
        ended.code,
        Some(101),
        "a failed test process; stderr:\n{text}"
    );
    assert!(ended.after_stall <= exit_limit(), "{:?}", ended.after_stall);
    assert!(
        text.contains("FAIL tcp/rst-mid-request::hardened: the harness's runtime stalled"),
        "{text}"
    );
    assert!(!alive(ended.server_pid), "server {}", ended.server_pid);
}
