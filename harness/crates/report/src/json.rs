//! Reading and writing the JSON report. Writes are atomic (`write`), so a
//! reader never sees half a report.

use super::model::Report;
use std::path::Path;

pub fn write_atomic(path: &Path, report: &Report) -> std::io::Result<()> {
    super::write::json(path, report)
}

pub fn read(path: &Path) -> std::io::Result<Report> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}
