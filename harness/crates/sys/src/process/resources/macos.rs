//! macOS: libproc.
//!
//! - Tree: the kill path's walk (`procctl::descendants`, built on
//!   `proc_listchildpids`, libproc.h).
//! - Descriptors: `proc_pidinfo(PROC_PIDLISTFDS)` fills an array of
//!   `proc_fdinfo { proc_fd, proc_fdtype }`; the count is the returned byte
//!   count / `size_of::<proc_fdinfo>()`, the type is one of `PROX_FDTYPE_*`
//!   (https://github.com/apple-oss-distributions/xnu/blob/main/bsd/sys/proc_info.h).
//! - Threads and CPU: `proc_pidinfo(PROC_PIDTASKINFO)` fills `proc_taskinfo`
//!   (`pti_threadnum`, `pti_total_user`, `pti_total_system`). The times are
//!   in Mach absolute time units (nanoseconds on Intel, 1/24 µs ticks on
//!   Apple silicon), converted with `mach_timebase_info`
//!   (https://developer.apple.com/documentation/driverkit/3433733-mach_timebase_info).
//!
//! CLOSE_WAIT and TCP-vs-UDP-vs-AF_UNIX are not sampled (`None`): they need
//! `proc_pidfdinfo(fd, PROC_PIDFDSOCKETINFO)` into a `socket_fdinfo`, a
//! ~800-byte struct of nested unions that the libc crate does not bind. The
//! `libproc` crate generates it with bindgen, which needs the macOS SDK at
//! build time and so cannot be cross-checked from Linux, and a hand-written
//! layout could not be verified here. Leaks are judged on the number of
//! socket descriptors (any family), threads and processes.

use super::{Root, MAX_TREE};
use crate::process::sample::{FdKind, ResourceSample};

/// The fd table can grow between the size query and the fill: ask for this
/// many entries more than the size query said, and retry a bounded number
/// of times if even that was too small.
const SLACK_ENTRIES: usize = 32;
const ATTEMPTS: usize = 3;

pub fn sample(root: &Root) -> ResourceSample {
    let mut out = ResourceSample::default();
    // The root's fd table decides whether anything is known (a zombie or a
    // process that is gone has none).
    if fd_kinds(root.pid).is_none() {
        return out;
    }
    let mut fds = 0u64;
    let mut threads = Some(0u64);
    let mut cpu_ns = Some(0u64);
    let mut tree = vec![root.pid];
    tree.extend(crate::process::procctl::descendants(root.pid, MAX_TREE - 1));
    for pid in tree {
        let Some(kinds) = fd_kinds(pid) else {
            continue; // exited since the walk
        };
        out.pids.push(pid);
        fds += kinds.len() as u64;
        for k in kinds {
            *out.fds_by_type.entry(k).or_default() += 1;
        }
        match task_info(pid) {
            Some((t, ns)) => {
                threads = threads.map(|n| n + t);
                cpu_ns = cpu_ns.map(|n| n + ns);
            }
            None => {
                threads = None;
                cpu_ns = None;
            }
        }
    }
    out.fds = Some(fds);
    out.sockets = Some(out.fds_by_type.get(&FdKind::Socket).copied().unwrap_or(0));
    out.processes = Some(out.pids.len() as u64);
    out.threads = threads;
    out.cpu_ms = cpu_ns.map(|n| n / 1_000_000);
    out
}

/// (threads, CPU ns) of `pid`.
fn task_info(pid: u32) -> Option<(u64, u64)> {
    let pid = libc::c_int::try_from(pid).ok()?;
    // SAFETY: zeroed plain-old-data struct, filled by the call below.
    let mut ti: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::proc_taskinfo>() as libc::c_int;
    // SAFETY: `ti` is `size` bytes.
    let n = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTASKINFO,
            0,
            (&mut ti as *mut libc::proc_taskinfo).cast(),
            size,
        )
    };
    if n != size {
        return None;
    }
    let ticks = ti.pti_total_user + ti.pti_total_system;
    let ns = match timebase() {
        Some((numer, denom)) => (u128::from(ticks) * u128::from(numer) / u128::from(denom)) as u64,
        None => ticks,
    };
    Some((u64::try_from(ti.pti_threadnum).unwrap_or(0), ns))
}

/// Mach absolute time -> ns factor (numer, denom). The libc binding is
/// deprecated in favour of the mach2 crate; one call does not justify a crate.
#[allow(deprecated)]
fn timebase() -> Option<(u32, u32)> {
    let mut tb = libc::mach_timebase_info { numer: 0, denom: 0 };
    // SAFETY: `tb` is a valid out pointer.
    let rc = unsafe { libc::mach_timebase_info(&mut tb) };
    (rc == 0 && tb.denom != 0).then_some((tb.numer, tb.denom))
}

/// The type of every open descriptor of `pid`; `None` if unknown.
fn fd_kinds(pid: u32) -> Option<Vec<FdKind>> {
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
            let n = filled as usize / entry;
            // SAFETY: the call initialised the first `n` entries.
            unsafe { buf.set_len(n) };
            return Some(buf.iter().map(|f| kind(f.proc_fdtype)).collect());
        }
    }
    None
}

fn kind(t: u32) -> FdKind {
    match t as libc::c_int {
        libc::PROX_FDTYPE_SOCKET => FdKind::Socket,
        libc::PROX_FDTYPE_PIPE => FdKind::Pipe,
        libc::PROX_FDTYPE_VNODE => FdKind::File,
        libc::PROX_FDTYPE_KQUEUE => FdKind::Kqueue,
        _ => FdKind::Other,
    }
}
