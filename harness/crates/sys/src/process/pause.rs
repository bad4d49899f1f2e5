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
/// How long a pause waits for the tree to be stopped, not just signalled.
pub const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

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

    /// Freeze the tree; true once every thread of it is stopped, false if
    /// some were still running after [`STOP_WAIT`] (signalled is not
    /// stopped, see `procctl::wait_stopped`; only Linux can tell, elsewhere
    /// true). Pausing twice sends nothing again (suspend counts on Windows
    /// must not pile up) and only checks.
    pub fn pause(&mut self) -> bool {
        if !self.paused {
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
        }
        let pids: Vec<u32> = self.frozen.iter().copied().collect();
        procctl::wait_stopped(&pids, STOP_WAIT)
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A pause returns once every thread is stopped, not only signalled:
    /// four spinning threads are all in state T when it returns, and run
    /// again after resume.
    #[test]
    fn a_pause_returns_with_every_thread_stopped() {
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import threading\n\
                 def spin():\n    while True: pass\n\
                 [threading.Thread(target=spin, daemon=True).start() for _ in range(4)]\n\
                 spin()",
            ])
            .spawn()
            .unwrap();
        let pid = child.id();
        // Up: five threads (bounded look).
        let up = (0..2000).any(|_| {
            std::thread::sleep(Duration::from_millis(1));
            std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count()) >= 5
        });
        let mut results = Vec::new();
        for _ in 0..5 {
            let mut p = Pauser::new(pid, None);
            let stopped = p.pause();
            // Checked again at once, with no time given.
            results.push((stopped, procctl::wait_stopped(&[pid], Duration::ZERO)));
            p.resume();
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(up, "the spinning threads never started");
        assert!(results.iter().all(|&(a, b)| a && b), "{results:?}");
    }
}
