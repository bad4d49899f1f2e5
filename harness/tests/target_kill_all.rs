//! `kill_all` kills every live target; in its own test binary because it
//! would kill the targets of concurrently running tests.
#![cfg(target_os = "linux")]

use netrepro_runner::subject::{kill_all, live_target_pids, RunningTarget, TargetCommand};
use std::time::Duration;

#[tokio::test]
async fn kill_all_kills_every_target() {
    let c = TargetCommand {
        program: "sh".into(),
        args: vec![
            "-c".into(),
            "echo LISTENING 127.0.0.1:9; exec sleep 300".into(),
        ],
        max_fds: None,
    };
    let mut a = RunningTarget::spawn(&c, Duration::from_secs(10))
        .await
        .expect("spawn a");
    let mut b = RunningTarget::spawn(&c, Duration::from_secs(10))
        .await
        .expect("spawn b");
    assert!(live_target_pids().contains(&a.pid()) && live_target_pids().contains(&b.pid()));
    kill_all();
    for t in [&mut a, &mut b] {
        let exit = t
            .wait_exit(Duration::from_secs(10))
            .await
            .expect("killed by kill_all");
        assert_eq!(exit.signal, Some(9));
    }
}
