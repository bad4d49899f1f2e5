//! Scenario files: the model (`model`), bounded reading from disk (`read`),
//! TOML parsing with file:line:col errors and validation (`parse`, which
//! shortens quoted values in its errors with `clip`), and back to TOML
//! (`write`). Every error is a [`ScenarioError`] (`error`).

pub mod clip;
mod error;
pub mod generate;
pub mod model;
pub mod parse;
pub mod read;
pub mod write;

pub use error::ScenarioError;
pub use model::*;
pub use parse::{load_file, load_paths, parse_bytes, parse_str};
