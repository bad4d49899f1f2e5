//! Report writers and readers, all fed by the same `ResultRecord`s: the
//! versioned JSON report (`model`, `json`, `schema`), the terminal table and
//! progress (`table`, `progress`), standard formats (`junit`, `ctrf`),
//! cross-host merge and comparison (`matrix`, `merge`, `diff`), and pages for people
//! (`html`, `markdown`). Formats are documented in reports/README.md.

pub mod ctrf;
pub mod diff;
pub mod host;
pub mod html;
pub mod json;
pub mod junit;
pub mod load;
pub mod markdown;
pub mod matrix;
pub mod merge;
pub mod model;
pub mod progress;
pub mod schema;
pub mod table;
pub mod text;
pub mod write;

pub use model::*;
