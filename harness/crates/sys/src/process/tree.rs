//! Killing a whole process tree, descendants that left the process group
//! (`setsid`, `setpgid`) included.
//!
//! Freeze, then kill: every process found is SIGSTOPped first, and the walk
//! is repeated until it finds nobody new, so no member can fork a child we
//! have not seen, nor exit and orphan its children (an orphan is reparented
//! away from the tree and could no longer be found) while we walk. Then
//! every frozen process gets SIGKILL (which also ends a stopped process).
//! Under a child subreaper (`netrepro __supervise`, Linux) orphans come back
//! to the root, so `sweep` repeats until the tree is empty.

use super::procctl;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// At most this many processes per walk (a fork bomb stays bounded).
const MAX_TREE: usize = 100_000;
/// At most this many freeze rounds per pass.
const MAX_FREEZE_ROUNDS: usize = 64;

/// One pass: freeze every descendant of `root` (and `root` itself when
/// `include_root`), then SIGKILL them all. Returns how many were killed.
pub fn kill_once(root: u32, include_root: bool) -> usize {
    let mut frozen: HashSet<u32> = HashSet::new();
    if include_root {
        procctl::stop(root);
    }
    for _ in 0..MAX_FREEZE_ROUNDS {
        let found = procctl::descendants(root, MAX_TREE);
        let new: Vec<u32> = found.into_iter().filter(|p| !frozen.contains(p)).collect();
        if new.is_empty() {
            break;
        }
        for &p in &new {
            procctl::stop(p);
        }
        frozen.extend(new);
    }
    for &p in &frozen {
        procctl::kill(p);
    }
    if include_root {
        procctl::kill(root);
    }
    frozen.len() + usize::from(include_root)
}

/// Repeat [`kill_once`] on `root`'s descendants until none is left or
/// `timeout` passes; `settle` is called between passes with the time left
/// (the supervisor waits there for SIGCHLD and reaps) and says whether
/// `root` has no child left at all (waitpid: ECHILD), which ends the sweep:
/// with no child there is no descendant. True if the tree is empty.
///
/// `root` must be a child subreaper (`netrepro __supervise`): `known`, a
/// child of `root` not reaped yet (so its pid cannot name another
/// process), is then killed before any walk. Whatever it forked stays in
/// the tree when it dies (its children are reparented to `root` as it
/// exits, before it can be reaped), so once it is reaped either `root` has
/// no child (done, no walk) or the passes find and sweep the rest as
/// before. A lone target is swept without walking `/proc` (every
/// process's `stat`: 0.5-0.8 ms on this machine), where it took three
/// walks (issue 16's per-result overhead).
#[allow(dead_code)] // only the Linux supervisor sweeps
pub fn sweep(
    root: u32,
    timeout: Duration,
    known: Option<u32>,
    mut settle: impl FnMut(Duration) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    if let Some(k) = known {
        procctl::kill(k);
        if settle(timeout) {
            return true;
        }
    }
    loop {
        if kill_once(root, false) == 0 {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return procctl::descendants(root, MAX_TREE).is_empty();
        }
        if settle(left) {
            return true;
        }
    }
}
