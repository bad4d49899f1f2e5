//! Reading a netrepro document from disk: a run report or a behaviour
//! matrix, told apart by their version field. Every error names the file.

use super::matrix::{Matrix, MATRIX_SCHEMA_VERSION};
use super::model::{Report, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// A document as read.
#[derive(Debug, Clone)]
pub enum Document {
    Report(Report),
    Matrix(Matrix),
}

/// A document plus where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub doc: Document,
    /// Whether `host.environment` says Wine, if the writer recorded it
    /// (read from the raw JSON so reports with and without it both load).
    pub host_wine: Option<bool>,
}

impl Loaded {
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not valid JSON: {source}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error("{path}: neither a netrepro report (schema_version) nor a matrix (matrix_version)")]
    Unknown { path: PathBuf },
    #[error("{path}: {what} version {found} is newer than this netrepro understands ({supported}); update netrepro")]
    TooNew {
        path: PathBuf,
        what: &'static str,
        found: u64,
        supported: u32,
    },
    #[error("{path}: lists scenario {scenario:?} [{impl_}] more than once (results {first} and {second}); a report has one result per scenario x impl")]
    Duplicate {
        path: PathBuf,
        scenario: String,
        impl_: &'static str,
        first: usize,
        second: usize,
    },
    #[error("{path}: not a valid netrepro {what}: {source}")]
    Shape {
        path: PathBuf,
        what: &'static str,
        source: serde_json::Error,
    },
}

fn json_err(path: &Path, e: serde_json::Error) -> LoadError {
    LoadError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        source: e,
    }
}

/// Read a report or a matrix.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parse a report or a matrix from text; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Loaded, LoadError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_err(path, e))?;
    let version = |key: &str| value.get(key).and_then(|v| v.as_u64());
    let too_new = |what, found, supported| LoadError::TooNew {
        path: path.to_path_buf(),
        what,
        found,
        supported,
    };
    let shape = |what| {
        move |source| LoadError::Shape {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    // `host.environment == "wine"` (with the version in `host.wine`).
    let host_wine = value
        .pointer("/host/environment")
        .and_then(|v| v.as_str())
        .map(|e| e == "wine");
    let doc = if let Some(v) = version("schema_version") {
        if v > u64::from(SCHEMA_VERSION) {
            return Err(too_new("report", v, SCHEMA_VERSION));
        }
        let r: Report = serde_json::from_value(value).map_err(shape("report"))?;
        check_unique(path, &r)?;
        Document::Report(r)
    } else if let Some(v) = version("matrix_version") {
        if v > u64::from(MATRIX_SCHEMA_VERSION) {
            return Err(too_new("matrix", v, MATRIX_SCHEMA_VERSION));
        }
        Document::Matrix(serde_json::from_value(value).map_err(shape("matrix"))?)
    } else {
        return Err(LoadError::Unknown {
            path: path.to_path_buf(),
        });
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        doc,
        host_wine,
    })
}

/// One result per scenario x impl: with two, `diff` and `merge` would pick
/// one silently and could hide a regression behind the other.
fn check_unique(path: &Path, r: &Report) -> Result<(), LoadError> {
    let mut seen = std::collections::HashMap::new();
    for (i, res) in r.results.iter().enumerate() {
        if let Some(first) = seen.insert((res.scenario.name.as_str(), res.impl_), i) {
            return Err(LoadError::Duplicate {
                path: path.to_path_buf(),
                scenario: res.scenario.name.clone(),
                impl_: res.impl_.as_str(),
                first,
                second: i,
            });
        }
    }
    Ok(())
}
