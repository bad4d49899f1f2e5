//! macOS: not implemented yet. The fd count will come from libproc
//! (`proc_pidinfo(PROC_PIDLISTFDS)`) and CLOSE_WAIT from
//! `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)`; until then nothing is known.

use super::Counts;

pub(super) fn sample(_pid: u32, _child: &tokio::process::Child) -> Counts {
    Counts::default()
}
