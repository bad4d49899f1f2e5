//! `report diff OLD NEW`: what changed between two runs (reports or
//! matrices), cell by cell (scenario x platform x impl). A regression is a
//! cell that newly fails, a failing cell with a newly failing expectation,
//! or a verdict that got worse; CI gates on it through the exit code.

use super::matrix::{Cell, Matrix};
use super::model::Status;
use netrepro_scenario::Verdict;
use std::fmt;

/// Which side of the connection an error was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One difference in one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// The cell exists only in NEW.
    Added,
    /// The cell exists only in OLD.
    Vanished,
    VerdictFlip {
        from: Option<Verdict>,
        to: Option<Verdict>,
    },
    StatusChange {
        from: Status,
        to: Status,
    },
    NewErrors {
        side: Side,
        names: Vec<String>,
    },
    VanishedErrors {
        side: Side,
        names: Vec<String>,
    },
    /// Diff lines (failed expectations) present in NEW but not in OLD.
    NewlyFailing {
        lines: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub scenario: String,
    /// Column id, `<platform label>/<impl>`.
    pub column: String,
    pub kind: ChangeKind,
    pub regression: bool,
}

/// All changes, in row then column order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<Change>);

impl Changes {
    pub fn regressions(&self) -> usize {
        self.0.iter().filter(|c| c.regression).count()
    }
}

/// How bad a verdict is for a server: higher is worse. Not running at all
/// ranks below every verdict so that "could not start" -> "crashed" counts.
fn severity(v: Option<Verdict>) -> u8 {
    match v {
        None => 0,
        Some(Verdict::Survived) => 1,
        Some(Verdict::Busy) => 2,
        Some(Verdict::Leaked) => 3,
        Some(Verdict::Rejecting) => 4,
        Some(Verdict::Hung) => 5,
        Some(Verdict::Crashed) => 6,
    }
}

fn minus(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

fn all_errors(c: &Cell, side: Side) -> &[String] {
    match side {
        Side::Client => &c.client_errors,
        Side::Server => &c.server_errors,
    }
}

fn cell_changes(old: &Cell, new: &Cell) -> Vec<(ChangeKind, bool)> {
    let mut out = Vec::new();
    if old.verdict != new.verdict {
        // A verdict that got worse is a regression even when the expectation
        // allows both: the server behaves worse than it did.
        let worse = new.verdict.is_some() && severity(new.verdict) > severity(old.verdict);
        out.push((
            ChangeKind::VerdictFlip {
                from: old.verdict,
                to: new.verdict,
            },
            worse,
        ));
    }
    if old.status != new.status {
        let newly_failed = new.status == Status::Failed;
        out.push((
            ChangeKind::StatusChange {
                from: old.status,
                to: new.status,
            },
            newly_failed,
        ));
    }
    for side in [Side::Client, Side::Server] {
        let (o, n) = (all_errors(old, side), all_errors(new, side));
        let added = minus(n, o);
        if !added.is_empty() {
            out.push((ChangeKind::NewErrors { side, names: added }, false));
        }
        let gone = minus(o, n);
        if !gone.is_empty() {
            out.push((ChangeKind::VanishedErrors { side, names: gone }, false));
        }
    }
    let lines = minus(&new.diff, &old.diff);
    if !lines.is_empty() && new.status == Status::Failed {
        out.push((ChangeKind::NewlyFailing { lines }, true));
    }
    out
}

/// Compare two matrices (a plain report is a one-platform matrix).
pub fn diff(old: &Matrix, new: &Matrix) -> Changes {
    let mut out = Vec::new();
    let mut push = |scenario: &str, column: &str, kind, regression| {
        out.push(Change {
            scenario: scenario.to_string(),
            column: column.to_string(),
            kind,
            regression,
        })
    };
    for nrow in &new.rows {
        let orow = old
            .rows
            .iter()
            .find(|r| r.scenario.name == nrow.scenario.name);
        for (col, ncell) in &nrow.cells {
            match orow.and_then(|r| r.cells.get(col)) {
                // A new cell that fails is a regression: it was not failing before.
                None => push(
                    &nrow.scenario.name,
                    col,
                    ChangeKind::Added,
                    ncell.status == Status::Failed,
                ),
                Some(ocell) => {
                    for (kind, reg) in cell_changes(ocell, ncell) {
                        push(&nrow.scenario.name, col, kind, reg);
                    }
                }
            }
        }
    }
    for orow in &old.rows {
        let nrow = new
            .rows
            .iter()
            .find(|r| r.scenario.name == orow.scenario.name);
        for col in orow.cells.keys() {
            if !nrow.is_some_and(|r| r.cells.contains_key(col)) {
                push(&orow.scenario.name, col, ChangeKind::Vanished, false);
            }
        }
    }
    Changes(out)
}

fn verdict_str(v: Option<Verdict>) -> &'static str {
    v.map_or("not run", |v| v.as_str())
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeKind::Added => write!(f, "new result"),
            ChangeKind::Vanished => write!(f, "result vanished"),
            ChangeKind::VerdictFlip { from, to } => {
                write!(f, "verdict {} -> {}", verdict_str(*from), verdict_str(*to))
            }
            ChangeKind::StatusChange { from, to } => {
                write!(f, "status {} -> {}", from.as_str(), to.as_str())
            }
            ChangeKind::NewErrors { side, names } => {
                write!(f, "new {} errors: {}", side.as_str(), names.join(" "))
            }
            ChangeKind::VanishedErrors { side, names } => {
                write!(f, "vanished {} errors: {}", side.as_str(), names.join(" "))
            }
            ChangeKind::NewlyFailing { lines } => {
                write!(f, "newly failing: {}", lines.join("; "))
            }
        }
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "no changes");
        }
        for c in &self.0 {
            writeln!(
                f,
                "{} {} [{}]: {}",
                if c.regression {
                    "REGRESSION"
                } else {
                    "change    "
                },
                netrepro_sys::escape::terminal(&c.scenario),
                netrepro_sys::escape::terminal(&c.column),
                netrepro_sys::escape::terminal(&c.kind.to_string())
            )?;
        }
        writeln!(
            f,
            "{} change(s), {} regression(s)",
            self.0.len(),
            self.regressions()
        )
    }
}
