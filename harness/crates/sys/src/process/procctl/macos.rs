//! macOS process control: children from libproc's `proc_listchildpids`
//! (libproc.h in Apple's xnu sources, `libsyscall/wrappers/libproc/libproc.h`;
//! the same call `pgrep -P` / Activity Monitor rely on). macOS has no child
//! subreaper and no parent-death signal, so there is no supervisor: the
//! harness stops the tree, walks it and kills it (see `tree.rs`); a
//! descendant whose parent exited *before* the kill was reparented to
//! launchd and cannot be found by walking (docs/processes.md).

pub use super::signals::{kill, kill_group, resume, stop, suspend, terminate};
use std::time::Duration;

pub const SUPERVISOR_AVAILABLE: bool = false;

#[allow(dead_code)] // only the Linux supervisor becomes one
pub fn become_subreaper() -> bool {
    false
}

/// Children of `pid` (at most 4096 per process).
fn children(pid: u32) -> Vec<u32> {
    const CAP: usize = 4096;
    let mut buf = vec![0 as libc::pid_t; CAP];
    let bytes = (CAP * std::mem::size_of::<libc::pid_t>()) as libc::c_int;
    // SAFETY: `buf` holds `bytes` bytes; the call writes at most that many
    // and returns the number of bytes written (or <= 0 on error).
    let n = unsafe { libc::proc_listchildpids(pid as libc::pid_t, buf.as_mut_ptr().cast(), bytes) };
    if n <= 0 {
        return Vec::new();
    }
    // The return value is a count of pids on some releases and of bytes on
    // others; reading only non-zero entries is right for both.
    let count = (n as usize).min(CAP);
    buf[..count]
        .iter()
        .filter(|&&p| p > 0)
        .map(|&p| p as u32)
        .collect()
}

pub fn descendants(root: u32, max: usize) -> Vec<u32> {
    super::walk(root, max, children)
}

/// No supervisors on macOS: the harness's kills are synchronous SIGKILLs,
/// nothing to wait for.
pub fn wait_exited(_pids: &[u32], _timeout: Duration) -> bool {
    true
}

/// macOS: not checked (no /proc; SIGSTOP is sent, its completion not
/// awaited); true.
pub fn wait_stopped(_pids: &[u32], _timeout: Duration) -> bool {
    true
}
