//! macOS: the fd count comes from libproc, `proc_pidinfo(PROC_PIDLISTFDS)`,
//! which fills an array of `proc_fdinfo`; the count is the returned byte
//! count / `size_of::<proc_fdinfo>()` (see `proc_pidinfo` in
//! https://github.com/apple-oss-distributions/xnu/blob/main/bsd/sys/proc_info.h).
//!
//! CLOSE_WAIT is not sampled (`None`): it needs `proc_pidfdinfo(fd,
//! PROC_PIDFDSOCKETINFO)` into a `socket_fdinfo`, a ~800-byte struct of
//! nested unions that the libc crate does not bind. The `libproc` crate
//! generates it with bindgen, which needs the macOS SDK at build time and so
//! cannot be cross-checked from Linux, and a hand-written layout could not be
//! verified here. Leaks still show up on macOS through the fd count.

use super::Counts;

/// The fd table can grow between the size query and the fill: ask for this
/// many entries more than the size query said, and retry a bounded number
/// of times if even that was too small.
const SLACK_ENTRIES: usize = 32;
const ATTEMPTS: usize = 3;

pub(super) fn sample(pid: u32, _child: &tokio::process::Child) -> Counts {
    Counts {
        fds: fd_count(pid),
        close_wait: None,
    }
}

fn fd_count(pid: u32) -> Option<u64> {
    let pid = libc::c_int::try_from(pid).ok()?;
    let entry = std::mem::size_of::<libc::proc_fdinfo>();
    for _ in 0..ATTEMPTS {
        // SAFETY: a null buffer of size 0 asks for the size needed, in bytes.
        let needed =
            unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0) };
        if needed <= 0 {
            // Gone, a zombie (no fd table to list), or not ours: unknown.
            return None;
        }
        let cap = needed as usize / entry + SLACK_ENTRIES;
        let mut buf: Vec<libc::proc_fdinfo> = Vec::with_capacity(cap);
        let bytes = (cap * entry) as libc::c_int;
        // SAFETY: `buf` has room for `cap` entries = `bytes` bytes; the call
        // writes at most `bytes` bytes and returns how many it wrote.
        let filled = unsafe {
            libc::proc_pidinfo(
                pid,
                libc::PROC_PIDLISTFDS,
                0,
                buf.as_mut_ptr().cast(),
                bytes,
            )
        };
        if filled <= 0 {
            return None;
        }
        // A completely full buffer may have been truncated: ask again.
        if filled < bytes {
            return Some(filled as u64 / entry as u64);
        }
    }
    None
}
