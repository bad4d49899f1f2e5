//! RunningTarget under `netrepro __supervise` (Linux): the supervisor is
//! invisible (the target's own pid, exit code and signal come through) and
//! every descendant, a double-forked `setsid` one included, is gone when
//! `kill` or drop returns or when the target itself exits.
#![cfg(target_os = "linux")]

mod common;

use common::procs::is_alive;

use netrepro_runner::subject::{supervise_with, RunningTarget, TargetCommand, TargetError};
use std::time::Duration;

const READY: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(10);

fn supervised_sh(script: &str) -> TargetCommand {
    assert!(supervise_with(env!("CARGO_BIN_EXE_netrepro").into()));
    TargetCommand {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        max_fds: None,
    }
}

/// A subshell starts a setsid'ed `sleep` and exits at once: the sleep is in
/// another session and its parent is gone (a double fork).
const DOUBLE_FORK: &str = "(setsid sleep 300 >/dev/null 2>&1 & echo $! >&2); ";

/// The grandchild's pid, from the first stderr line (bounded).
async fn grandchild(t: &RunningTarget) -> u32 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(p) = t.stderr_lines().iter().find_map(|l| l.trim().parse().ok()) {
            return p;
        }
        assert!(tokio::time::Instant::now() < deadline, "no pid on stderr");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_pid_is_the_targets_own() {
    let mut t = RunningTarget::spawn(
        // The readiness line comes from the exec'ed program itself, so the
        // pid's command line is settled by then.
        &supervised_sh(
            "exec python3 -c 'import time; print(\"LISTENING 127.0.0.1:1\", flush=True); time.sleep(300)'",
        ),
        READY,
    )
    .await
    .expect("spawn");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", t.pid())).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains("time.sleep(300)") && !cmdline.contains("__supervise"),
        "pid {} is {cmdline:?}",
        t.pid()
    );
    t.kill().await.expect("reaped");
}

#[tokio::test]
async fn the_exit_code_is_the_targets_own() {
    let mut t = RunningTarget::spawn(&supervised_sh("echo LISTENING 127.0.0.1:1; exit 3"), READY)
        .await
        .expect("spawn");
    assert_eq!(t.wait_exit(WAIT).await.and_then(|e| e.code), Some(3));
}

#[tokio::test]
async fn a_crash_signal_comes_through() {
    let mut t = RunningTarget::spawn(
        &supervised_sh("echo LISTENING 127.0.0.1:1; kill -ABRT $$"),
        READY,
    )
    .await
    .expect("spawn");
    let exit = t.wait_exit(WAIT).await.expect("exited");
    assert_eq!((exit.code, exit.signal), (None, Some(libc::SIGABRT)));
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error_with_the_os_code() {
    assert!(supervise_with(env!("CARGO_BIN_EXE_netrepro").into()));
    let c = TargetCommand {
        program: "/nonexistent/netrepro-target".into(),
        args: vec![],
        max_fds: None,
    };
    match RunningTarget::spawn(&c, READY).await.err() {
        Some(TargetError::Spawn { source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT), "{source:?}")
        }
        other => panic!("expected a spawn error, got {other:?}"),
    }
}

#[tokio::test]
async fn kill_sweeps_a_double_forked_setsid_grandchild() {
    let script = format!("{DOUBLE_FORK}echo LISTENING 127.0.0.1:9; exec sleep 300");
    let mut t = RunningTarget::spawn(&supervised_sh(&script), READY)
        .await
        .expect("spawn");
    let (pid, gc) = (t.pid(), grandchild(&t).await);
    assert!(is_alive(pid) && is_alive(gc));
    let exit = t.kill().await.expect("reaped");
    assert_eq!(exit.signal, Some(libc::SIGKILL));
    // No waiting: the supervisor sweeps before it exits, kill waits for it.
    assert!(!is_alive(pid) && !is_alive(gc), "left: {pid} {gc}");
}

#[tokio::test]
async fn drop_sweeps_a_double_forked_setsid_grandchild() {
    let script = format!("{DOUBLE_FORK}echo LISTENING 127.0.0.1:9; exec sleep 300");
    let t = RunningTarget::spawn(&supervised_sh(&script), READY)
        .await
        .expect("spawn");
    let (pid, gc) = (t.pid(), grandchild(&t).await);
    drop(t);
    assert!(!is_alive(pid) && !is_alive(gc), "left: {pid} {gc}");
}

#[tokio::test]
async fn the_targets_own_exit_sweeps_what_it_left_behind() {
    let script = format!("{DOUBLE_FORK}echo LISTENING 127.0.0.1:9; read x < /dev/null; exit 1");
    let mut t = RunningTarget::spawn(&supervised_sh(&script), READY)
        .await
        .expect("spawn");
    let gc = grandchild(&t).await;
    assert_eq!(t.wait_exit(WAIT).await.and_then(|e| e.code), Some(1));
    assert!(!is_alive(gc), "grandchild {gc} outlived the target");
}

/// The double-forked grandchild's parent is gone: it is the supervisor's
/// (subreaper) now, not the target's, and still counts as the target's.
#[tokio::test]
async fn samples_count_the_orphans_the_supervisor_adopted() {
    let script = format!("{DOUBLE_FORK}echo LISTENING 127.0.0.1:9; exec sleep 300");
    let mut t = RunningTarget::spawn(&supervised_sh(&script), READY)
        .await
        .expect("spawn");
    let gc = grandchild(&t).await;
    assert!(is_alive(gc));
    // The subshell exited before `echo LISTENING` ran: the grandchild was
    // adopted before readiness, so the first sample sees both processes.
    assert_eq!(t.sample("x").processes, Some(2));
    t.kill().await.expect("reaped");
}
