//! Report writers: the versioned JSON report (`model`, `json`) and the
//! terminal table (`table`). All fed by the same `ResultRecord`s.

pub mod host;
pub mod json;
pub mod model;
pub mod table;

pub use model::*;
