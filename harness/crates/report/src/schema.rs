//! JSON Schemas of the published documents, generated from the Rust types
//! with schemars so they cannot drift from what netrepro writes. The
//! checked-in copies live in `reports/schema/`; `netrepro report schema`
//! rewrites them and a test fails when they disagree with the types.

use super::matrix::Matrix;
use super::model::Report;
use std::path::{Path, PathBuf};

/// One published schema: its file name and a generator.
pub struct SchemaFile {
    pub file: &'static str,
    pub generate: fn() -> String,
}

/// Every schema netrepro publishes.
pub const FILES: [SchemaFile; 2] = [
    SchemaFile {
        file: "report.schema.json",
        generate: report_schema,
    },
    SchemaFile {
        file: "matrix.schema.json",
        generate: matrix_schema,
    },
];

/// Where the checked-in schemas live, relative to the repository root.
pub const DIR: &str = "reports/schema";

fn pretty(schema: schemars::Schema) -> String {
    // Pretty and newline-terminated, so the checked-in file diffs well.
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema is plain JSON");
    s.push('\n');
    s
}

/// Schema of `reports/latest.json` (`Report`).
pub fn report_schema() -> String {
    pretty(schemars::schema_for!(Report))
}

/// Schema of the behaviour matrix written by `report merge` (`Matrix`).
pub fn matrix_schema() -> String {
    pretty(schemars::schema_for!(Matrix))
}

/// Write every schema into `dir`; returns the files written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in &FILES {
        let path = dir.join(f.file);
        super::write::atomic(&path, (f.generate)().as_bytes())?;
        out.push(path);
    }
    Ok(out)
}

/// Files in `dir` that differ from (or are missing next to) the generated
/// schemas.
pub fn stale(dir: &Path) -> Vec<PathBuf> {
    FILES
        .iter()
        .filter(|f| {
            let path = dir.join(f.file);
            // Compare ignoring CR, so a Windows checkout with autocrlf still passes.
            let found = std::fs::read_to_string(&path).ok();
            found.map(|s| s.replace('\r', "")) != Some((f.generate)())
        })
        .map(|f| dir.join(f.file))
        .collect()
}
