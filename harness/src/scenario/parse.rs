//! TOML -> `Scenario`, with every error located as file:line:column.

use super::model::*;
use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with a scenario file, located for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is not in the file (e.g. it cannot be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

pub fn parse_str(_src: &str, _path: &Path) -> Result<Scenario, ScenarioError> {
    todo!()
}

pub fn load_file(_path: &Path) -> Result<Scenario, ScenarioError> {
    todo!()
}

/// Load files and folders (recursively, `*.toml`, sorted by path).
pub fn load_paths(_paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    todo!()
}
