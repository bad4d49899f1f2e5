//! Scenario files: the model (`model`), TOML parsing with file:line:col
//! errors and validation (`parse`), and back to TOML (`write`).

pub mod model;
pub mod parse;
pub mod write;

pub use model::*;
pub use parse::{load_file, load_paths, parse_str, ScenarioError};
