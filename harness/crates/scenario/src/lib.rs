//! Scenario files: the model (`model`), bounded reading from disk (`read`),
//! TOML parsing with file:line:col errors and validation (`parse`, which
//! shortens quoted values in its errors with `clip`), and back to TOML
//! (`write`).

pub mod clip;
pub mod generate;
pub mod model;
pub mod parse;
pub mod read;
pub mod write;

pub use model::*;
pub use parse::{load_file, load_paths, parse_bytes, parse_str, ScenarioError};
