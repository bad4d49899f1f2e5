//! Running the netrepro binary from an integration test without ever
//! hanging the suite (`mod bounded;` in each test file that needs it).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run `cmd` (stdin closed, stdout and stderr captured) to its end, or kill
/// it after `limit` and fail: a regression that blocks (on a FIFO, reading
/// /dev/zero) fails the test instead of hanging it.
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} did not finish in {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // std has no timed wait on a child; bounded by the deadline above.
        std::thread::sleep(Duration::from_millis(20));
    }
}
