//! Process control where the tree is handled otherwise: on Windows every
//! target lives in a kill-on-close Job object (`job.rs`), which kills the
//! whole tree at once; nothing here needs a walk. Suspend / resume for a
//! scenario's `pause`, and waiting for a killed target to be gone, are the
//! things Windows does per process here.

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

/// Windows: wait on each process until it has exited or `timeout` passes
/// (a Job's termination is asked for, not awaited, by TerminateJobObject).
/// A pid that cannot be opened is gone; a pid of ours is not reused while
/// our child handle to it is open. Elsewhere: nothing to wait for. True if
/// all exited in time.
pub fn wait_exited(pids: &[u32], timeout: Duration) -> bool {
    #[cfg(windows)]
    return wait_nt(pids, timeout);
    #[cfg(not(windows))]
    {
        let _ = (pids, timeout);
        true
    }
}

#[cfg(windows)]
fn wait_nt(pids: &[u32], timeout: Duration) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };
    let deadline = std::time::Instant::now() + timeout;
    let mut all = true;
    for &pid in pids {
        // SAFETY: a handle opened, waited on and closed here.
        unsafe {
            let h = OpenProcess(PROCESS_SYNCHRONIZE, 0, pid);
            if h.is_null() {
                continue;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // INFINITE is u32::MAX: stay below it.
            let ms = left.as_millis().min(u128::from(u32::MAX - 1)) as u32;
            all &= WaitForSingleObject(h, ms) == WAIT_OBJECT_0;
            CloseHandle(h);
        }
    }
    all
}

/// Windows: NtSuspendProcess returns once the threads are suspended;
/// elsewhere nothing is paused. True.
pub fn wait_stopped(_pids: &[u32], _timeout: Duration) -> bool {
    true
}
