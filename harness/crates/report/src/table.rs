//! The terminal summary: one row per scenario x impl, then the diff of every
//! failed row. Plain text, fixed columns, no colour (readable in CI logs).

use super::model::{Report, ResultRecord, Status};
use std::fmt::Write;

const HEADERS: [&str; 8] = [
    "scenario",
    "impl",
    "verdict",
    "expected",
    "client errors",
    "server errors",
    "time",
    "result",
];

fn row(r: &ResultRecord) -> [String; 8] {
    let mut verdict = r
        .verdict
        .map_or("not run".to_string(), |v| v.as_str().to_string());
    if r.cut_short.is_some() {
        verdict.push_str(" (cut short)");
    }
    let expected = netrepro_scenario::verdicts_label(&r.expected);
    // Every step that did not go as asked, with its run count when > 1
    // (`timeout(3)`: three lost replies).
    let client = r
        .client_outcomes()
        .iter()
        .map(|&(label, n)| match n {
            1 => label.to_string(),
            n => format!("{label}({n})"),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut server: Vec<String> = Vec::new();
    for e in &r.server_errors {
        let name = if e.fatal {
            format!("{}!", e.name)
        } else {
            e.name.clone()
        };
        if !server.contains(&name) {
            server.push(name);
        }
    }
    [
        r.scenario.name.clone(),
        r.impl_.as_str().to_string(),
        verdict,
        expected,
        dash(client),
        dash(server.join(" ")),
        format!("{:.2}s", r.duration_ms as f64 / 1000.0),
        r.status.as_str().to_uppercase(),
    ]
    // Names come from scenario files and the target's own log.
    .map(|cell| esc(&cell))
}

fn esc(s: &str) -> String {
    netrepro_sys::escape::terminal(s).into_owned()
}

fn dash(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// Render the whole table plus failure details.
pub fn render(report: &Report) -> String {
    let rows: Vec<[String; 8]> = report.results.iter().map(row).collect();
    let mut widths = HEADERS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String; 8], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths.iter())
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&HEADERS.map(String::from), &mut out);
    for r in &rows {
        line(r, &mut out);
    }
    for r in report
        .results
        .iter()
        .filter(|r| !r.notes.is_empty() || r.failed() || r.status == Status::Error)
    {
        if r.status == Status::Error {
            let e = r.harness_error.as_deref().unwrap_or("(no reason recorded)");
            let _ = writeln!(
                out,
                "\nERROR {} [{}] ({}): the harness failed, nothing is said about the server",
                esc(&r.scenario.name),
                r.impl_.as_str(),
                esc(&r.scenario.path)
            );
            let _ = writeln!(out, "  {}", esc(e));
            for n in &r.notes {
                let _ = writeln!(out, "  {}", esc(n));
            }
            continue;
        }
        if !r.failed() {
            let _ = writeln!(
                out,
                "\nNOTE {} [{}]",
                esc(&r.scenario.name),
                r.impl_.as_str()
            );
            for n in &r.notes {
                let _ = writeln!(out, "  {}", esc(n));
            }
            continue;
        }
        let _ = writeln!(
            out,
            "\nFAIL {} [{}] ({})",
            esc(&r.scenario.name),
            r.impl_.as_str(),
            esc(&r.scenario.path)
        );
        for d in r.diff.iter().chain(r.notes.iter()) {
            let _ = writeln!(out, "  {}", esc(d));
        }
    }
    let s = &report.summary;
    let errors = if s.errors > 0 {
        format!(", {} harness errors", s.errors)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{} {}: {} passed, {} failed, {} unverified, {} skipped{errors} ({})",
        s.total,
        if s.total == 1 { "result" } else { "results" },
        s.passed,
        s.failed,
        s.unverified,
        s.skipped,
        s.by_verdict
            .iter()
            .map(|(k, v)| format!("{} {v}", esc(k)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}
