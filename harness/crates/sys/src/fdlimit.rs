//! netrepro's own descriptor limit (issue 11.8): the harness's limits must
//! never become the server's verdict.
//!
//! - At start-up `run` / `explore` raise the harness's soft RLIMIT_NOFILE to
//!   its hard limit, as build tools and test runners commonly do (Go's
//!   runtime does it for every Go program since Go 1.19, `os/rlimit.go`;
//!   on macOS capped at `kern.maxfilesperproc`, see `fdlimit/unix.rs`).
//! - Child targets get the *original* soft limit back before exec (unless
//!   the scenario sets `max_fds`, which sets both limits): a server under
//!   test must see the limit its user gave it, not one the harness raised,
//!   or a run under `ulimit -n 1024` would silently test a different server
//!   (the hardened servers size their connection limit from it). The hard
//!   limit is inherited unchanged, so a target may still raise its own.
//! - [`available`] is what the runner checks a scenario's needs against.
//!
//! Windows has no per-process descriptor limit (handles are bounded by
//! memory), so there every function reports "no limit".

#[cfg(unix)]
#[path = "fdlimit/unix.rs"]
mod os;

#[cfg(not(unix))]
#[path = "fdlimit/other.rs"]
mod os;

use std::sync::OnceLock;

/// A (soft, hard) RLIMIT_NOFILE pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    pub soft: u64,
    pub hard: u64,
}

/// The limit netrepro started with, recorded by [`raise`].
static ORIGINAL: OnceLock<NoFile> = OnceLock::new();

/// What [`raise`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    pub before: NoFile,
    pub after: NoFile,
}

/// Raise the soft limit to the hard limit (macOS: capped, see module doc).
/// Call once at start-up, before any target is spawned. `None` where there
/// is no limit (Windows) or it cannot be read.
pub fn raise() -> Option<Raised> {
    let before = os::get()?;
    let _ = ORIGINAL.set(before);
    let want = os::cap(before.hard);
    if want > before.soft {
        // Failure just keeps the old limit; `available` reports the truth.
        let _ = os::set(NoFile {
            soft: want,
            hard: before.hard,
        });
    }
    Some(Raised {
        before,
        after: os::get().unwrap_or(before),
    })
}

/// The harness's current soft limit (`None`: no limit / unknown).
pub fn available() -> Option<u64> {
    os::get().map(|l| l.soft)
}

/// The limit a child target gets before exec: the scenario's `max_fds`
/// (soft = hard = n), else the original soft limit if [`raise`] changed it,
/// else nothing to set. `hard` never rises above the current hard limit.
#[allow(dead_code)] // used by the Unix spawn path only
pub(crate) fn for_child(max_fds: Option<u64>) -> Option<NoFile> {
    if let Some(n) = max_fds {
        return Some(NoFile { soft: n, hard: n });
    }
    let orig = ORIGINAL.get()?;
    let now = os::get()?;
    (now.soft != orig.soft).then_some(NoFile {
        soft: orig.soft.min(now.hard),
        hard: now.hard,
    })
}
