//! Process control where the tree is handled otherwise: on Windows every
//! target lives in a kill-on-close Job object (`job.rs`), which kills the
//! whole tree at once; nothing here needs a walk. Suspend / resume for a
//! scenario's `pause` are the one thing Windows does per process here.

use std::time::Duration;

pub const SUPERVISOR_AVAILABLE: bool = false;

#[allow(dead_code)] // only the Linux supervisor becomes one
pub fn become_subreaper() -> bool {
    false
}

pub fn descendants(_root: u32, _max: usize) -> Vec<u32> {
    Vec::new()
}

pub fn stop(_pid: u32) {}

pub fn kill(_pid: u32) {}

pub fn kill_group(_pgid: u32) {}

pub fn terminate(_pid: u32) {}

/// Windows: NtSuspendProcess (see `suspend_nt`); elsewhere nothing.
pub fn suspend(pid: u32) {
    #[cfg(windows)]
    super::suspend_nt::call(pid, super::suspend_nt::Which::Suspend);
    #[cfg(not(windows))]
    let _ = pid;
}

/// Windows: NtResumeProcess; elsewhere nothing.
pub fn resume(pid: u32) {
    #[cfg(windows)]
    super::suspend_nt::call(pid, super::suspend_nt::Which::Resume);
    #[cfg(not(windows))]
    let _ = pid;
}

pub fn wait_exited(_pids: &[u32], _timeout: Duration) -> bool {
    true
}

/// Windows: NtSuspendProcess returns once the threads are suspended;
/// elsewhere nothing is paused. True.
pub fn wait_stopped(_pids: &[u32], _timeout: Duration) -> bool {
    true
}
