//! Reading a scenario file from disk, bounded: only regular files, at most
//! [`MAX_SCENARIO_BYTES`]. A path that is `/dev/zero` used to be read without
//! end, a FIFO blocked forever, and a 35 MB file took ~1 GB to parse.
//!
//! The kind and size are checked on the path first (no open, so a FIFO
//! never blocks), the file is opened non-blocking on Unix (in case the path
//! was swapped for a FIFO in between), checked again through the open
//! handle, and read through a cap (in case it grew).

use crate::error::{unlocated, ScenarioError};
use std::io::Read;
use std::path::Path;

/// Largest scenario file accepted: 1 MiB. The biggest catalog file is a few
/// KiB; a scenario that needs more is better split.
pub const MAX_SCENARIO_BYTES: u64 = 1024 * 1024;

/// Why a path gives no scenario text (also used by `parse::discover` for
/// the paths it cannot search).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileProblem {
    #[error("no such file or directory")]
    NotFound,
    #[error("cannot read folder: {0}")]
    CannotReadFolder(std::io::Error),
    #[error("cannot read file: {0}")]
    CannotReadFile(std::io::Error),
    /// `kind` as `netrepro_sys::file_kind::describe` words it.
    #[error("cannot read file: it is {kind}; scenario files must be regular files")]
    NotARegularFile { kind: &'static str },
    /// `size` when known (from the metadata), `None` when the file grew
    /// past the limit while it was read.
    #[error(
        "file too large: scenario files are limited to {MAX_SCENARIO_BYTES} bytes (1 MiB), this one is {}",
        size_words(*.size)
    )]
    TooLarge { size: Option<u64> },
}

fn size_words(size: Option<u64>) -> String {
    size.map_or("more than that".to_owned(), |l| format!("{l} bytes"))
}

/// Kind and size of one file's metadata, as an error if not acceptable.
fn check(path: &Path, m: &std::fs::Metadata) -> Result<(), ScenarioError> {
    if !m.is_file() {
        return Err(unlocated(
            path,
            FileProblem::NotARegularFile {
                kind: netrepro_sys::file_kind::describe(m.file_type()),
            },
        ));
    }
    if m.len() > MAX_SCENARIO_BYTES {
        return Err(unlocated(
            path,
            FileProblem::TooLarge {
                size: Some(m.len()),
            },
        ));
    }
    Ok(())
}

/// The bytes of the scenario file at `path` (symlinks followed), or an
/// unlocated error naming the file and, for a size problem, the limit.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, ScenarioError> {
    let cannot = |e: std::io::Error| unlocated(path, FileProblem::CannotReadFile(e));
    check(path, &std::fs::metadata(path).map_err(cannot)?)?;
    let file = netrepro_sys::files::read_options()
        .open(path)
        .map_err(cannot)?;
    check(path, &file.metadata().map_err(cannot)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(unlocated(path, FileProblem::TooLarge { size: None }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, vec![b'#'; MAX_SCENARIO_BYTES as usize]).unwrap();
        assert_eq!(read_bounded(&p).unwrap().len() as u64, MAX_SCENARIO_BYTES);
        std::fs::write(&p, vec![b'#'; MAX_SCENARIO_BYTES as usize + 1]).unwrap();
        let e = read_bounded(&p).unwrap_err();
        assert_eq!((e.line, e.path.as_path()), (0, p.as_path()));
        assert!(e.message.contains(&MAX_SCENARIO_BYTES.to_string()), "{e}");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path()).unwrap_err();
        assert_eq!(e.path, dir.path());
    }
}
