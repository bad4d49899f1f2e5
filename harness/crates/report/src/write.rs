//! Atomic file writes for every report format: a temp file in the same
//! directory, then a rename, so a reader (a dashboard, a CI upload) never
//! sees half a file.
//!
//! Reports go only to regular files or new paths: a rename onto a FIFO or a
//! device node would replace the node (as root, `--report /dev/null` would
//! replace the real one), so anything else is refused, before the run by
//! [`preflight`] and again just before the rename.

use std::io::Write;
use std::path::Path;

/// The folder a report at `path` goes into.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Ok if `path` is a regular file (symlinks followed) or does not exist.
/// Anything else is an `InvalidInput` error saying what it is.
pub fn check_target(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it is {}; reports are written only to regular files or new paths",
                netrepro_sys::file_kind::describe(m.file_type())
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Before a run: would a report at `path` be writable? Checks the kind of
/// file (see [`check_target`]), creates the parent folder and a temp file
/// in it (removed again), so a directory, a device or a read-only folder is
/// refused before any time is spent. A size limit can only show at the write.
pub fn preflight(path: &Path) -> std::io::Result<()> {
    check_target(path)?;
    let dir = dir_of(path);
    std::fs::create_dir_all(dir)?;
    tempfile::NamedTempFile::new_in(dir)?;
    Ok(())
}

/// Write `bytes` to `path` atomically, creating the parent directory.
/// Refuses a `path` that exists and is not a regular file.
pub fn atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    check_target(path)?;
    let dir = dir_of(path);
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    // Temp files are created 0600; a report is for other readers too
    // (dashboards, CI uploaders running as another user).
    netrepro_sys::files::make_world_readable(tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // Again just before the rename: the path may have changed meanwhile.
    check_target(path)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Pretty JSON with a trailing newline, written atomically.
pub fn json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    atomic(path, &text)
}

/// See [`netrepro_sys::files::catch_file_size_signal`].
pub use netrepro_sys::files::catch_file_size_signal;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/r.json");
        atomic(&p, b"first").unwrap();
        atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        // Only the report is left behind, no temp files.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d");
        std::fs::create_dir(&p).unwrap();
        for r in [preflight(&p), atomic(&p, b"x")] {
            assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        }
        assert!(p.is_dir());
        // No temp file left behind either.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
