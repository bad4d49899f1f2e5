//! `report diff OLD NEW`: what changed between two runs (reports or
//! matrices), cell by cell (scenario x platform x impl). What counts as a
//! regression depends on the [`Rule`]: by default a cell that newly fails,
//! a failing cell with a newly failing expectation, or a verdict that got
//! worse; with `--gate` ([`Rule::Expectations`]) only what the expectations
//! say, so that a stored baseline can gate CI without flaking on verdicts a
//! scenario allows several of. CI gates on it through the exit code.

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

/// What counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rule {
    /// Behaviour got worse: a verdict moved down the severity order (even
    /// within what the expectation allows), a cell newly failed, a failing
    /// cell fails one more expectation, a new cell fails.
    #[default]
    Behaviour,
    /// The expectations say it got worse (`report diff --gate`, for CI
    /// against a stored baseline): a cell fails that did not fail before
    /// (new cells included), or a cell that met its expectation (passed or
    /// unverified) is now skipped, a harness error, or gone. Verdict and
    /// error changes are listed, never counted: where a scenario allows
    /// several verdicts (a race it names, such as tcp fd-exhaustion's
    /// naive-seq `survived | crashed`) either one passes, so the gate does
    /// not flake on it.
    Expectations,
}

/// A cell that said something good about the server: it met its
/// expectation, or there was none to miss.
fn met(s: Status) -> bool {
    matches!(s, Status::Passed | Status::Unverified)
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

fn cell_changes(old: &Cell, new: &Cell, rule: Rule) -> Vec<(ChangeKind, bool)> {
    let behaviour = rule == Rule::Behaviour;
    let mut out = Vec::new();
    if old.verdict != new.verdict {
        // Behaviour: a verdict that got worse is a regression even when the
        // expectation allows both: the server behaves worse than it did.
        // Expectations: the status below says whether it was allowed.
        let worse =
            behaviour && new.verdict.is_some() && severity(new.verdict) > severity(old.verdict);
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
        // Expectations: a result that met its expectation and is now
        // skipped or a harness error is a result lost.
        let lost = !behaviour && met(old.status) && !met(new.status);
        out.push((
            ChangeKind::StatusChange {
                from: old.status,
                to: new.status,
            },
            newly_failed || lost,
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
        // Expectations: the status change above already counted a cell
        // that newly fails; one that failed before stays a known failure,
        // whichever of its allowed races it lost this time.
        out.push((ChangeKind::NewlyFailing { lines }, behaviour));
    }
    out
}

/// Compare two matrices (a plain report is a one-platform matrix) by
/// [`Rule::Behaviour`].
pub fn diff(old: &Matrix, new: &Matrix) -> Changes {
    diff_by(old, new, Rule::Behaviour)
}

/// Compare two matrices, counting regressions by `rule`.
pub fn diff_by(old: &Matrix, new: &Matrix, rule: Rule) -> Changes {
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
                    for (kind, reg) in cell_changes(ocell, ncell, rule) {
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
        for (col, ocell) in &orow.cells {
            if !nrow.is_some_and(|r| r.cells.contains_key(col)) {
                // Expectations: a result that met its expectation is lost
                // (a renamed or deleted scenario needs a new baseline).
                let lost = rule == Rule::Expectations && met(ocell.status);
                push(&orow.scenario.name, col, ChangeKind::Vanished, lost);
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
