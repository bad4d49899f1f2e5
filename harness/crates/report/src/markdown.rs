//! Markdown summary for CI step summaries (`run --markdown FILE`,
//! `report markdown REPORT|MATRIX`): one compact table (scenario x
//! platform/impl), then every failure with its expectation diff.

use super::matrix::{Cell, Matrix};
use super::model::Status;
use std::fmt::Write;

pub fn icon(s: Status) -> &'static str {
    match s {
        Status::Passed => "✅",
        Status::Failed => "❌",
        Status::Skipped => "⏭️",
        Status::Unverified => "❔",
        Status::Error => "⚠️",
    }
}

/// Scenario names and error names come from user files and targets.
fn esc(s: &str) -> String {
    netrepro_sys::escape::markdown(s)
}

fn cell_text(c: &Cell) -> String {
    let verdict = c.verdict.map_or("not run", |v| v.as_str());
    let mut errs: Vec<String> = Vec::new();
    if !c.client_errors.is_empty() {
        errs.push(format!("client: {}", esc(&c.client_errors.join(" "))));
    }
    if !c.server_errors.is_empty() {
        let names: Vec<String> = c
            .server_errors
            .iter()
            .map(|n| {
                if c.fatal_errors.contains(n) {
                    format!("{n}!")
                } else {
                    n.clone()
                }
            })
            .collect();
        errs.push(format!("server: {}", esc(&names.join(" "))));
    }
    if errs.is_empty() {
        format!("{} {verdict}", icon(c.status))
    } else {
        format!("{} {verdict}<br>{}", icon(c.status), errs.join("<br>"))
    }
}

fn counts(m: &Matrix) -> [usize; 5] {
    let mut n = [0; 5];
    for c in m.rows.iter().flat_map(|r| r.cells.values()) {
        n[match c.status {
            Status::Passed => 0,
            Status::Failed => 1,
            Status::Unverified => 2,
            Status::Skipped => 3,
            Status::Error => 4,
        }] += 1;
    }
    n
}

/// Render the summary of a matrix (a report converts to a one-platform matrix).
pub fn render(m: &Matrix) -> String {
    let mut out = String::new();
    let [passed, failed, unverified, skipped, errors] = counts(m);
    let total = passed + failed + unverified + skipped + errors;
    let _ = writeln!(
        out,
        "## netrepro: {} {total} results: {passed} passed, {failed} failed, {unverified} unverified, {skipped} skipped{}\n",
        if failed > 0 {
            "❌"
        } else if errors > 0 {
            "⚠️"
        } else {
            "✅"
        },
        if errors > 0 {
            format!(", {errors} harness errors")
        } else {
            String::new()
        }
    );
    for s in &m.sources {
        let _ = writeln!(
            out,
            "- **{}**: {} {} ({}), started {}{}",
            esc(&s.label),
            esc(&s.host.os_version),
            esc(&s.host.arch),
            esc(&s.file),
            esc(&s.started_at),
            if s.complete { "" } else { ", **incomplete**" }
        );
    }
    let _ = writeln!(out);
    let _ = write!(out, "| scenario |");
    for c in &m.columns {
        let _ = write!(out, " {} |", esc(&c.id));
    }
    let _ = write!(out, "\n|---|");
    for _ in &m.columns {
        let _ = write!(out, "---|");
    }
    let _ = writeln!(out);
    for r in &m.rows {
        let _ = write!(out, "| {} |", esc(&r.scenario.name));
        for c in &m.columns {
            let text = r.cells.get(&c.id).map_or("–".to_string(), cell_text);
            let _ = write!(out, " {text} |");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "\n`!` = the error the server died of.");
    let failures: Vec<_> = m
        .rows
        .iter()
        .flat_map(|r| {
            m.columns
                .iter()
                .filter_map(move |c| r.cells.get(&c.id).map(|cell| (r, c, cell)))
        })
        .filter(|(_, _, cell)| matches!(cell.status, Status::Failed | Status::Error))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n### Failures\n");
        for (r, c, cell) in failures {
            let _ = writeln!(
                out,
                "**{} [{}]** ({})\n",
                esc(&r.scenario.name),
                esc(&c.id),
                esc(&r.scenario.path)
            );
            let _ = writeln!(out, "~~~");
            let harness = cell
                .harness_error
                .iter()
                .map(|e| format!("harness error: {e}"));
            let evidence = super::text::failure_evidence(&cell.server_events, cell.output.as_ref());
            let lines = cell
                .diff
                .iter()
                .cloned()
                .chain(cell.setup_error.iter().cloned())
                .chain(harness)
                .chain(evidence);
            for l in lines {
                // A line holding the fence marker would end the block early.
                let _ = writeln!(
                    out,
                    "{}",
                    netrepro_sys::escape::terminal(&l).replace("~~~", "~ ~ ~")
                );
            }
            let _ = writeln!(out, "~~~\n");
        }
    }
    out
}
