//! No per-process descriptor limit on this OS (Windows: handles are bounded
//! by memory, not by an rlimit).

use super::NoFile;

pub(super) fn get() -> Option<NoFile> {
    None
}

pub(super) fn set(_l: NoFile) -> std::io::Result<()> {
    Ok(())
}

pub(super) fn cap(hard: u64) -> u64 {
    hard
}
