//! A scenario's `pause` / `resume`: freeze the server under test with its
//! whole process tree, and let it run again. Unix: SIGSTOP to the target and
//! every descendant found by the kill path's walk (`procctl::descendants`),
//! repeated until the walk finds nobody new, so a child forked during the
//! walk is frozen too; SIGCONT to the same set (and whoever is in the tree
//! now) on resume. Windows: NtSuspendProcess / NtResumeProcess on every
//! process in the target's Job object (or the target alone without a Job).
//!
//! Resuming is tied to the value, not to the caller's care: dropping a
//! `Pauser` that is paused resumes, and `resume` is idempotent.

use super::procctl;
use std::collections::BTreeSet;

/// Most processes one pause freezes (a fork bomb stays bounded).
const MAX_TREE: usize = 4096;
/// Most walk rounds per pause.
const MAX_ROUNDS: usize = 64;

/// Suspends and resumes one target's tree. Holds pids, not the process:
/// it must not outlive the `RunningTarget` it came from (the runner drops
/// the session that owns it before the target).
#[derive(Debug)]
pub struct Pauser {
    root: u32,
    #[cfg_attr(not(windows), allow(dead_code))]
    job: Option<usize>,
    /// Pids frozen by the current pause (empty when running).
    frozen: BTreeSet<u32>,
    paused: bool,
}

impl Pauser {
    pub fn new(root: u32, job: Option<usize>) -> Pauser {
        Pauser {
            root,
            job,
            frozen: BTreeSet::new(),
            paused: false,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Freeze the tree; returns how many processes were frozen. Pausing
    /// twice is a no-op (suspend counts on Windows must not pile up).
    pub fn pause(&mut self) -> usize {
        if self.paused {
            return self.frozen.len();
        }
        self.paused = true;
        procctl::suspend(self.root);
        self.frozen.insert(self.root);
        for _ in 0..MAX_ROUNDS {
            let new: Vec<u32> = self
                .members()
                .into_iter()
                .filter(|p| !self.frozen.contains(p))
                .collect();
            if new.is_empty() {
                break;
            }
            for &p in &new {
                procctl::suspend(p);
            }
            self.frozen.extend(new);
        }
        self.frozen.len()
    }

    /// Let the tree run again; returns how many processes were resumed.
    /// Resuming a running tree is a no-op.
    pub fn resume(&mut self) -> usize {
        if !self.paused {
            return 0;
        }
        // A frozen process cannot fork, so the set frozen at pause is the
        // whole tree; each gets exactly one resume (Windows suspend counts).
        let n = self.frozen.len();
        for &p in self.frozen.iter().rev() {
            procctl::resume(p);
        }
        self.frozen.clear();
        self.paused = false;
        n
    }

    /// The tree below the root: Unix the walk, Windows the Job's list.
    fn members(&self) -> Vec<u32> {
        #[cfg(windows)]
        {
            let pids = self
                .job
                .and_then(super::resources::job_pids)
                .unwrap_or_default();
            pids.into_iter()
                .filter(|&p| p != self.root)
                .take(MAX_TREE)
                .collect()
        }
        #[cfg(not(windows))]
        {
            procctl::descendants(self.root, MAX_TREE)
        }
    }
}

impl Drop for Pauser {
    fn drop(&mut self) {
        self.resume();
    }
}
