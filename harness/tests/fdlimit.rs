//! The harness raises its own descriptor limit, and its targets still get
//! the limit the harness was started with (issue 11.8). Changes this test
//! process's limits: its own test binary.
#![cfg(unix)]

use netrepro_runner::subject::{RunningTarget, TargetCommand};
use netrepro_sys::fdlimit;
use std::time::Duration;

/// Start with soft = 256 (below any hard limit a CI runner has), raise, and
/// check both sides: ours at the hard limit (or the macOS cap), the child's
/// back at 256. A scenario's `max_fds` still wins in the child.
#[tokio::test]
async fn raised_for_the_harness_restored_for_the_target() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on our own process.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut l), 0);
        assert!(
            l.rlim_max > 256,
            "hard limit {} too low for this test",
            l.rlim_max
        );
        l.rlim_cur = 256;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &l), 0);
    }
    let r = fdlimit::raise().expect("a limit on Unix");
    assert_eq!(r.before.soft, 256);
    assert!(r.after.soft > 256, "{r:?}");
    assert_eq!(fdlimit::available(), Some(r.after.soft));

    let ulimit = |max_fds| TargetCommand {
        program: "sh".into(),
        args: vec![
            "-c".into(),
            "echo LISTENING 127.0.0.1:1; ulimit -n >&2".into(),
        ],
        max_fds,
    };
    for (max_fds, want) in [(None, "256"), (Some(64), "64")] {
        let mut t = RunningTarget::spawn(&ulimit(max_fds), Duration::from_secs(10))
            .await
            .expect("spawn");
        assert_eq!(
            t.wait_exit(Duration::from_secs(10))
                .await
                .and_then(|e| e.code),
            Some(0)
        );
        assert!(t.settle_logs(Duration::from_secs(10)).await);
        assert_eq!(
            t.stderr_lines(),
            vec![want.to_string()],
            "max_fds {max_fds:?}"
        );
    }
}
