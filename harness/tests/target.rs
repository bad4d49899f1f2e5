//! RunningTarget against small sh / python3 children (Linux: uses /proc).
#![cfg(target_os = "linux")]

mod common;

use common::procs::is_alive;

use netrepro_runner::subject::{
    live_target_pids, self_exe_command, RunningTarget, TargetCommand, TargetError,
};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const READY: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(10);

fn cmd(program: &str, args: &[&str]) -> TargetCommand {
    TargetCommand {
        program: program.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        max_fds: None,
    }
}

fn sh(script: &str) -> TargetCommand {
    cmd("sh", &["-c", script])
}

fn python(script: &str) -> TargetCommand {
    cmd("python3", &["-u", "-c", script])
}

/// Poll `f` until true or `within` elapses; returns the last result.
async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The first stderr line that is a number (a pid the script echoed).
async fn echoed_pid(t: &RunningTarget) -> u32 {
    let mut pid = None;
    let found = eventually(WAIT, || {
        pid = t
            .stderr_lines()
            .iter()
            .find_map(|l| l.trim().parse::<u32>().ok());
        pid.is_some()
    })
    .await;
    assert!(found, "no pid on stderr: {:?}", t.stderr_lines());
    pid.unwrap()
}

const TCP_SERVER: &str = r#"
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print("banner line")
print("LISTENING %s:%d" % s.getsockname())
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
"#;

#[tokio::test]
async fn ready_line_gives_the_bound_address() {
    let mut t = RunningTarget::spawn(&python(TCP_SERVER), READY)
        .await
        .expect("spawn");
    assert_eq!(t.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(t.addr().port(), 0);
    // The address is real: we can connect.
    TcpStream::connect_timeout(&t.addr(), WAIT).expect("connect to announced address");
    assert!(t.stdout_lines().contains(&"banner line".to_string()));
    assert!(live_target_pids().contains(&t.pid()));
    assert_eq!(t.try_exit(), None);
    let exit = t.kill().await.expect("reaped");
    assert_eq!(exit.signal, Some(9));
    assert!(!live_target_pids().contains(&t.pid()));
}

#[tokio::test]
async fn early_exit_reports_code_and_stderr() {
    let err = RunningTarget::spawn(&sh("echo 'bind failed: address in use' >&2; exit 3"), READY)
        .await
        .err()
        .expect("must fail");
    match err {
        TargetError::ExitedEarly { exit, stderr } => {
            assert!(exit.contains("exit code 3"), "{exit}");
            assert!(stderr.contains("bind failed: address in use"), "{stderr}");
        }
        other => panic!("expected ExitedEarly, got {other:?}"),
    }
}

#[tokio::test]
async fn early_exit_by_signal() {
    let err = RunningTarget::spawn(&sh("kill -SEGV $$"), READY)
        .await
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(matches!(err, TargetError::ExitedEarly { .. }), "{text}");
    assert!(text.contains("signal 11"), "{text}");
}

#[tokio::test]
async fn missing_program_is_a_spawn_error() {
    let err = RunningTarget::spawn(&cmd("/nonexistent/netrepro-target", &[]), READY)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, TargetError::Spawn { .. }), "{err:?}");
}

#[tokio::test]
async fn silent_server_is_not_ready_and_gets_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > '{}'; exec sleep 30", pidfile.display());
    let start = Instant::now();
    let err = RunningTarget::spawn(&sh(&script), Duration::from_millis(300))
        .await
        .err()
        .expect("must fail");
    assert!(
        matches!(err, TargetError::NotReady(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        eventually(WAIT, || !is_alive(pid)).await,
        "pid {pid} survived NotReady"
    );
}

#[tokio::test]
async fn garbage_ready_line_is_rejected() {
    let err = RunningTarget::spawn(
        &sh("echo hello; echo 'LISTENING not-an-address'; exec sleep 30"),
        READY,
    )
    .await
    .err()
    .expect("must fail");
    match err {
        TargetError::BadReadyLine(line) => assert_eq!(line, "LISTENING not-an-address"),
        other => panic!("expected BadReadyLine, got {other:?}"),
    }
}

#[tokio::test]
async fn stderr_events_and_lines_are_collected_after_exit() {
    let script = r#"echo LISTENING 127.0.0.1:1
echo 'plain text' >&2
echo '{"op":"recv","raw":104,"name":"ECONNRESET","class":"reset","fatal":true,"t_ms":5}' >&2
exit 7"#;
    let mut t = RunningTarget::spawn(&sh(script), READY)
        .await
        .expect("spawn");
    let exit = t.wait_exit(WAIT).await.expect("exited");
    assert_eq!(exit.code, Some(7));
    assert_eq!(exit.signal, None);
    assert!(t.settle_logs(WAIT).await, "stderr never reached EOF");
    let events = t.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "ECONNRESET");
    assert!(events[0].fatal);
    assert_eq!(t.stderr_lines(), vec!["plain text".to_string()]);
    assert_eq!(t.try_exit(), Some(exit.clone()));
    // kill after exit returns the recorded status.
    assert_eq!(t.kill().await, Some(exit));
}

#[tokio::test]
async fn crash_signal_is_reported() {
    let mut t = RunningTarget::spawn(&sh("echo LISTENING 127.0.0.1:1; kill -ABRT $$"), READY)
        .await
        .expect("spawn");
    let exit = t.wait_exit(WAIT).await.expect("exited");
    assert_eq!(
        exit,
        netrepro_observe::ExitInfo {
            code: None,
            signal: Some(6)
        }
    );
}

#[tokio::test]
async fn max_fds_sets_the_child_limit() {
    let mut c = sh("echo LISTENING 127.0.0.1:1; ulimit -n >&2");
    c.max_fds = Some(20);
    let mut t = RunningTarget::spawn(&c, READY).await.expect("spawn");
    assert_eq!(t.wait_exit(WAIT).await.and_then(|e| e.code), Some(0));
    assert!(t.settle_logs(WAIT).await);
    assert_eq!(t.stderr_lines(), vec!["20".to_string()]);
}

const WITH_GRANDCHILD: &str = "sleep 300 & echo $! >&2; echo LISTENING 127.0.0.1:9; wait";

#[tokio::test]
async fn kill_takes_the_whole_group() {
    let mut t = RunningTarget::spawn(&sh(WITH_GRANDCHILD), READY)
        .await
        .expect("spawn");
    let (pid, grandchild) = (t.pid(), echoed_pid(&t).await);
    assert!(is_alive(pid) && is_alive(grandchild));
    let exit = t.kill().await.expect("reaped");
    assert_eq!(exit.signal, Some(9));
    assert!(!is_alive(pid));
    assert!(
        eventually(WAIT, || !is_alive(grandchild)).await,
        "grandchild {grandchild} survived kill"
    );
}

#[tokio::test]
async fn drop_takes_the_whole_group() {
    let t = RunningTarget::spawn(&sh(WITH_GRANDCHILD), READY)
        .await
        .expect("spawn");
    let (pid, grandchild) = (t.pid(), echoed_pid(&t).await);
    assert!(is_alive(pid) && is_alive(grandchild));
    drop(t);
    assert!(!live_target_pids().contains(&pid));
    assert!(
        eventually(WAIT, || !is_alive(pid)).await,
        "child {pid} survived drop"
    );
    assert!(
        eventually(WAIT, || !is_alive(grandchild)).await,
        "grandchild {grandchild} survived drop"
    );
}

/// A child in its own session (`setsid` without a fork: the background
/// job is not a group leader) is out of reach of a group kill; the tree
/// walk finds it.
#[tokio::test]
async fn kill_takes_a_setsid_child_outside_the_group() {
    let script = "setsid sleep 300 & echo $! >&2; echo LISTENING 127.0.0.1:9; wait";
    let mut t = RunningTarget::spawn(&sh(script), READY)
        .await
        .expect("spawn");
    let child = echoed_pid(&t).await;
    assert!(is_alive(child));
    t.kill().await.expect("reaped");
    assert!(
        eventually(WAIT, || !is_alive(child)).await,
        "setsid child {child} survived kill"
    );
}

#[tokio::test]
async fn orphaned_grandchild_of_a_crashed_server_is_killed_on_drop() {
    let script = "sleep 300 & echo $! >&2; echo LISTENING 127.0.0.1:9; exit 1";
    let mut t = RunningTarget::spawn(&sh(script), READY)
        .await
        .expect("spawn");
    let grandchild = echoed_pid(&t).await;
    assert_eq!(t.wait_exit(WAIT).await.and_then(|e| e.code), Some(1));
    assert!(is_alive(grandchild));
    drop(t);
    assert!(
        eventually(WAIT, || !is_alive(grandchild)).await,
        "grandchild {grandchild} survived drop"
    );
}

#[tokio::test]
async fn sample_counts_fds_and_close_wait() {
    let mut t = RunningTarget::spawn(&python(TCP_SERVER), READY)
        .await
        .expect("spawn");
    let base = t.sample("baseline");
    assert_eq!(base.label, "baseline");
    let base_fds = base.fds.expect("fds on linux");
    assert!(base_fds >= 3, "{base:?}");
    assert_eq!(base.close_wait, Some(0), "{base:?}");

    let mut clients: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect_timeout(&t.addr(), WAIT).expect("connect"))
        .collect();
    clients[0].write_all(b"x").unwrap();
    // The server accepts all three: fds grow by 3, none in CLOSE_WAIT yet.
    assert!(
        eventually(WAIT, || t
            .sample("x")
            .fds
            .is_some_and(|n| n >= base_fds + 3))
        .await,
        "fds never grew: {:?}",
        t.sample("x")
    );
    assert_eq!(t.sample("x").close_wait, Some(0));

    // Close two clients: the server never closes its ends -> CLOSE_WAIT.
    clients.truncate(1);
    assert!(
        eventually(WAIT, || t.sample("after").close_wait == Some(2)).await,
        "close_wait never reached 2: {:?}",
        t.sample("after")
    );
    let s = t.sample("settled");
    assert!(s.t_ms >= base.t_ms);
    t.kill().await;
    // A dead process has nothing to sample.
    assert_eq!(t.sample("gone").fds, None);
}

#[test]
fn self_exe_command_runs_this_binary() {
    let c = self_exe_command(["serve", "tcp-echo"]);
    assert_eq!(c.program, std::env::current_exe().unwrap());
    assert_eq!(c.args, vec!["serve".to_string(), "tcp-echo".to_string()]);
    assert_eq!(c.max_fds, None);
}
