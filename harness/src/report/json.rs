//! Writing the JSON report atomically: a temp file in the same directory,
//! then a rename, so a reader never sees half a report.

use super::model::Report;
use std::io::Write;
use std::path::Path;

pub fn write_atomic(path: &Path, report: &Report) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    // Buffered: serde_json writes token by token, one syscall each otherwise
    // (seconds of system time per run once reports hold a few thousand steps).
    let mut out = std::io::BufWriter::new(tmp);
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    let tmp = out.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn read(path: &Path) -> std::io::Result<Report> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}
