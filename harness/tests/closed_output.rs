//! Issue 11.1: printing never panics. A stdout whose reader is gone (a
//! real pipe with its read end closed before the program starts) ends
//! quietly with the work's own exit code; a stdout that cannot be written
//! (`/dev/full`) is one error line and exit 3; `run` writes its report
//! either way.

mod common;

use common::ONE_CONNECT;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[cfg(target_os = "linux")]
const EXIT_OUTPUT: i32 = 3;

fn netrepro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
}

fn catalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn report_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-linux.json")
}

/// The write end of a pipe whose read end is already closed: the first
/// write fails with EPIPE (ERROR_NO_DATA on Windows), every time. The read
/// end is the stdin of a process that exited (portable, and no
/// `std::io::pipe` below the MSRV).
fn dead_pipe() -> Stdio {
    let mut reader = netrepro()
        .arg("--version")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let writer = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(writer)
}

/// Run with stdout a pipe nobody reads any more.
fn with_closed_stdout(cmd: &mut Command) -> Output {
    cmd.stdout(dead_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn assert_no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

/// A closed pipe is not an error: nothing on stderr, the usual exit code.
fn assert_quiet(out: &Output, code: i32) {
    assert_no_panic(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_into_a_closed_pipe_is_quiet() {
    assert_quiet(
        &with_closed_stdout(netrepro().arg("list").arg(catalog())),
        0,
    );
    assert_quiet(
        &with_closed_stdout(netrepro().args(["list", "--markdown"]).arg(catalog())),
        0,
    );
}

#[test]
fn validate_into_a_closed_pipe_is_quiet() {
    assert_quiet(
        &with_closed_stdout(netrepro().arg("validate").arg(catalog())),
        0,
    );
}

#[test]
fn help_into_a_closed_pipe_is_quiet() {
    assert_quiet(&with_closed_stdout(netrepro().arg("--help")), 0);
}

#[test]
fn report_markdown_and_diff_into_a_closed_pipe_are_quiet() {
    let f = report_fixture();
    assert_quiet(
        &with_closed_stdout(netrepro().args(["report", "markdown"]).arg(&f)),
        0,
    );
    assert_quiet(
        &with_closed_stdout(netrepro().args(["report", "diff"]).arg(&f).arg(&f)),
        0,
    );
}

fn run_one(dir: &Path) -> (Command, PathBuf) {
    let sc = dir.join("one.toml");
    std::fs::write(&sc, ONE_CONNECT).unwrap();
    let report = dir.join("report.json");
    let mut cmd = netrepro();
    cmd.arg("run").arg(&sc).arg("--report").arg(&report);
    (cmd, report)
}

fn assert_complete_report(path: &Path) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(json["complete"], true);
    // naive, naive-seq (unverified: no [expect.naive-seq]), hardened
    assert_eq!(json["summary"]["total"], 3);
}

#[test]
fn run_into_a_closed_pipe_still_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cmd, report) = run_one(dir.path());
    let out = with_closed_stdout(&mut cmd);
    assert_quiet(&out, 0);
    assert_complete_report(&report);
}

#[cfg(target_os = "linux")]
fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

/// `> /dev/full`: ENOSPC on every write. One error line, exit 3, and the
/// report is still written.
#[cfg(target_os = "linux")]
#[test]
fn run_into_a_full_device_reports_it_and_still_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cmd, report) = run_one(dir.path());
    let out = cmd
        .stdout(dev_full())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(EXIT_OUTPUT));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().filter(|l| l.contains("stdout")).count(),
        1,
        "{err}"
    );
    assert_complete_report(&report);
}

#[cfg(target_os = "linux")]
#[test]
fn list_validate_report_and_help_into_a_full_device_exit_3() {
    let f = report_fixture();
    let mut cmds: Vec<Command> = Vec::new();
    for args in [vec!["list"], vec!["list", "--markdown"], vec!["validate"]] {
        let mut c = netrepro();
        c.args(args).arg(catalog());
        cmds.push(c);
    }
    let mut md = netrepro();
    md.args(["report", "markdown"]).arg(&f);
    cmds.push(md);
    let mut diff = netrepro();
    diff.args(["report", "diff"]).arg(&f).arg(&f);
    cmds.push(diff);
    let mut help = netrepro();
    help.arg("--help");
    cmds.push(help);
    for mut c in cmds {
        let out = c
            .stdout(dev_full())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(EXIT_OUTPUT), "{c:?}");
    }
}

/// stderr closed too: the error lines of a bad scenario go nowhere, and the
/// exit code still says what happened.
#[test]
fn validate_errors_into_a_closed_stderr_keep_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \n").unwrap();
    let out = netrepro()
        .arg("validate")
        .arg(&bad)
        .stdout(Stdio::piped())
        .stderr(dead_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
