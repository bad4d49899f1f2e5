//! Process control where the tree is handled otherwise: on Windows every
//! target lives in a kill-on-close Job object (`job.rs`), which kills the
//! whole tree at once; nothing here needs a walk.

use std::time::Duration;

pub(crate) const SUPERVISOR_AVAILABLE: bool = false;

#[allow(dead_code)] // only the Linux supervisor becomes one
pub(crate) fn become_subreaper() -> bool {
    false
}

pub(crate) fn descendants(_root: u32, _max: usize) -> Vec<u32> {
    Vec::new()
}

pub(crate) fn stop(_pid: u32) {}

pub(crate) fn kill(_pid: u32) {}

pub(crate) fn kill_group(_pgid: u32) {}

pub(crate) fn terminate(_pid: u32) {}

pub(crate) fn wait_exited(_pids: &[u32], _timeout: Duration) -> bool {
    true
}
