//! Test-only: stall the harness's async runtime on purpose, so a test can
//! check that the watchdog (`watchdog`) still ends the run, with a report.
//! With `NETREPRO_TEST_ONLY_STALL_RUNTIME=<scenario name>` in the
//! environment, the run of that scenario, once its server is up, blocks
//! every worker thread of the runtime in a plain std wait (what a socket
//! call that never returns does to a worker) and says so on stderr with the
//! server's pid, for the test to check that the server is gone afterwards.
//! Nobody sets a variable of that name by accident, and it names the one
//! scenario it stalls.

use std::time::Duration;

/// The variable; its value is the name of the scenario to stall.
pub const ENV: &str = "NETREPRO_TEST_ONLY_STALL_RUNTIME";

/// How long each worker stays blocked: far past any test's own wait, and
/// still bounded, so a broken watchdog cannot leave a process stuck for good.
const HOLD: Duration = Duration::from_secs(600);

/// Stall the runtime if the environment asks for it for `scenario`.
pub fn maybe_stall(scenario: &str, server_pid: Option<u32>) {
    if std::env::var_os(ENV).map_or(true, |v| v != scenario) {
        return;
    }
    let handle = tokio::runtime::Handle::current();
    let workers = handle.metrics().num_workers();
    let pid = server_pid.map_or("none".to_string(), |p| p.to_string());
    netrepro_sys::errln!(
        "test hook ({ENV}): blocking the runtime's {workers} worker thread(s); server pid {pid}"
    );
    // One more than there are other workers: the first task spawned from
    // here may sit in this worker's own next-task slot, which the others
    // cannot steal; each of the rest blocks the worker that takes it.
    for _ in 0..workers {
        handle.spawn(async { block() });
    }
    block();
}

fn block() {
    // The sender stays alive, so this waits the whole HOLD.
    let (_tx, rx) = std::sync::mpsc::channel::<()>();
    let _ = rx.recv_timeout(HOLD);
}
