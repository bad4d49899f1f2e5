//! `netrepro bless`: turn what a run observed into per-OS expectations.
//!
//! For each result of one or more JSON reports, the cell
//! `[expect.<impl>.<os>]` of that scenario file is compared with the
//! observation, using the runner's own check ([`judge`]):
//!
//! - it **agrees** (the run passed it): its values are left exactly as they
//!   are, sets of acceptable outcomes and hand-written names included, and
//!   it gets the run's `observed = { … }` marker unless it has one from the
//!   same host (OS version, arch, Wine version) already ([`Action::Marked`]);
//! - its verdict is **unknown**: filled with the observed verdict, server
//!   errors and step outcomes ([`observed`], written by [`edit`]);
//! - it is **contradicted**: a disagreement, listed with the scenario's
//!   `refs`. A scenario with refs is *cited*, and its cell is rewritten only
//!   when asked ([`Options::overwrite_cited`]); a scenario without refs
//!   states what someone saw, and its cell is rewritten like an unknown one.
//!   [`Options::only_unknown`] rewrites no contradicted cell at all.
//!
//! Every cell bless writes or confirms is marked observed with the newest
//! of its reports ([`Source::marker`]): that is what the catalog table shows
//! as "observed (Wine 8.0 / Windows 6.1.7601)" instead of "cited".
//! `--only unknown` marks only the cells it fills.
//!
//! Results of the same cell from several reports merge ([`observed::Cell`]);
//! a cell that any of them cut short is never written, nor is a `survived`
//! that a host without resource samples cannot tell from a leak, and a set
//! the cell inherits that accepts the runs is written whole ([`judge`]).
//!
//! The OS is the report's host (`wine` when it ran under Wine) unless
//! [`Options::key`] says otherwise. [`plan`] computes every file's new text
//! and never writes; [`write`] writes the changed files atomically. Each new
//! text is parsed again before it is offered: it must be a valid scenario
//! whose steps, target and other cells are unchanged (the only other cell
//! that may change is `wine`, which inherits what it does not state from
//! `windows`; that is said in [`CellPlan::notes`]).

pub mod edit;
pub mod judge;
pub mod observed;
mod plan;
mod source;
mod verify;
mod write;

pub use plan::plan;
pub use source::{load, BlessError, Source};
pub use write::{write, WriteError};

use netrepro_scenario::{ExpectKey, Impl, Observed};
use observed::Cell;
use std::path::PathBuf;

/// What to bless and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The OS cells to write; `None`: each report's host ([`Source::host_key`]).
    pub key: Option<ExpectKey>,
    /// Fill unknown cells only; contradicted cells are listed, never rewritten.
    pub only_unknown: bool,
    /// Rewrite contradicted cells of cited scenarios too (they are still listed).
    pub overwrite_cited: bool,
    /// Find scenario files by name in these files and folders, instead of
    /// at the paths the report recorded.
    pub scenarios: Vec<PathBuf>,
}

/// A result that is not turned into a cell, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Index into the sources.
    pub source: usize,
    pub scenario: String,
    pub impl_: Impl,
    pub reason: String,
}

/// Why a contradicted cell is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// The scenario cites sources; `--overwrite-cited` rewrites it.
    Cited,
    /// `--only unknown`.
    OnlyUnknown,
    /// The observation cannot say what to write (see [`judge`]).
    NotObservable(String),
}

/// What bless does with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Agrees, and is marked observed already (by a run on the same host).
    Agrees,
    /// Agrees; its values are kept and its `observed` marker is written.
    Marked,
    /// Was unknown; now states the observation.
    Filled,
    /// Contradicted, and rewritten.
    Rewritten,
    /// Contradicted, and left as it is: a disagreement to look at.
    Kept(Kept),
    /// Unknown, and left unknown (the reason says why).
    NotFilled(String),
}

/// One cell of one file.
#[derive(Debug, Clone)]
pub struct CellPlan {
    pub scenario: String,
    pub impl_: Impl,
    pub key: ExpectKey,
    pub action: Action,
    /// Differences between the cell and the observations: (source, line).
    pub lines: Vec<(usize, String)>,
    /// What the observations amount to (`None` when not writable).
    pub observed: Option<Cell>,
    /// The scenario's refs, for disagreements.
    pub refs: Vec<String>,
    /// Other effects, e.g. on the `wine` cell that inherits from `windows`.
    pub notes: Vec<String>,
    /// The `observed` marker written into the cell (`None`: none written).
    pub marker: Option<Observed>,
}

/// One scenario file: its text before and after.
#[derive(Debug, Clone)]
pub struct FilePlan {
    /// As found (the report's path or under `--scenarios`).
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    pub cells: Vec<CellPlan>,
}

impl FilePlan {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// A unified diff (`--- a/…`, `+++ b/…`), empty when nothing changes.
    pub fn unified_diff(&self) -> String {
        if !self.changed() {
            return String::new();
        }
        let name = self.path.to_string_lossy().replace('\\', "/");
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    }
}

/// The outcome of [`plan`]: per file, the cells and the new text.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The key each source was blessed as, in source order.
    pub keys: Vec<ExpectKey>,
    pub files: Vec<FilePlan>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    pub fn cells(&self) -> impl Iterator<Item = (&FilePlan, &CellPlan)> {
        self.files
            .iter()
            .flat_map(|f| f.cells.iter().map(move |c| (f, c)))
    }

    /// Contradicted cells left as they are.
    pub fn disagreements_kept(&self) -> usize {
        self.cells()
            .filter(|(_, c)| matches!(c.action, Action::Kept(_)))
            .count()
    }
}
