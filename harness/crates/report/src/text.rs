//! Plain-text pieces shared by the JUnit, CTRF, Markdown and HTML writers:
//! one line per step, per server error, and names for columns.

use super::model::ResultRecord;
use netrepro_observe::{EventSource, ServerEvent, StepOutcome, StepRecord, TargetOutput};

/// `ok 32B`, `eof after 0B`, `ECONNRESET (104, reset) after 0B`, `timeout after 2000ms`.
pub fn outcome(o: &StepOutcome) -> String {
    match o {
        StepOutcome::Ok { bytes } => format!("ok {bytes}B"),
        StepOutcome::Eof { bytes } => format!("eof after {bytes}B"),
        StepOutcome::Error { bytes, error } => format!(
            "{} ({}, {}) after {bytes}B",
            error.name,
            error.raw.map_or("-".to_string(), |r| r.to_string()),
            error.class.as_str()
        ),
        StepOutcome::Timeout { after_ms, .. } => format!("timeout after {after_ms}ms"),
        StepOutcome::Skipped { reason } => format!("skipped: {reason}"),
    }
}

/// `+12ms #3 line 21 gone[0] send: ok 32B`, and for a record that stands
/// for several runs ` (x200 runs, last gone[199] iteration 1)`.
pub fn step(s: &StepRecord) -> String {
    format!(
        "+{}ms #{} line {} {}[{}] {}{}: {}{}",
        s.elapsed_ms,
        s.index,
        s.line,
        s.actor,
        s.member,
        s.op,
        s.id.as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default(),
        outcome(&s.outcome),
        runs(s)
    )
}

/// ` (x200 runs, last a[199] iteration 3)` for a merged record, else empty.
pub fn runs(s: &StepRecord) -> String {
    match s.last {
        Some(l) if s.runs > 1 => format!(
            " (x{} runs, last {}[{}]{})",
            s.runs,
            s.actor,
            l.member,
            if l.iteration > 0 {
                format!(" iteration {}", l.iteration)
            } else {
                String::new()
            }
        ),
        _ => String::new(),
    }
}

/// `+160ms recv_from ECONNREFUSED (111, refused) fatal`; a repeated event
/// adds `x5 until +900ms`, one read from stderr text adds `[from stderr
/// text: <line>]`.
pub fn server_event(e: &ServerEvent) -> String {
    let mut s = format!(
        "+{}ms {} {} ({}, {}){}",
        e.t_ms,
        e.op,
        e.name,
        e.raw.map_or("-".to_string(), |r| r.to_string()),
        e.class.as_str(),
        if e.fatal { " fatal" } else { "" }
    );
    if e.count > 1 {
        s.push_str(&format!(" x{}", e.count));
        if let Some(last) = e.last_t_ms {
            s.push_str(&format!(" until +{last}ms"));
        }
    }
    if e.source == EventSource::Text {
        match &e.text {
            Some(t) => s.push_str(&format!(" [from stderr text: {t}]")),
            None => s.push_str(" [from stderr text]"),
        }
    }
    s
}

/// The target's own words, for a failure: how many events were merged or
/// dropped, then the stderr and stdout tails, one line each (`stderr | ...`).
pub fn output_lines(o: &TargetOutput) -> Vec<String> {
    let mut out = Vec::new();
    if o.events_merged > 0 || o.events_dropped > 0 {
        out.push(format!(
            "server events: {} read, {} merged into repeats, {} dropped (too many distinct)",
            o.events_read, o.events_merged, o.events_dropped
        ));
    }
    for (name, tail, total) in [
        ("stderr", &o.stderr_tail, o.stderr_lines),
        ("stdout", &o.stdout_tail, o.stdout_lines),
    ] {
        if tail.is_empty() {
            continue;
        }
        out.push(format!("{name} (last {} of {total} lines):", tail.len()));
        out.extend(tail.iter().map(|l| format!("{name} | {l}")));
    }
    out
}

/// Evidence shown under a failure: the server errors (with their source)
/// and the target's output tails.
pub fn failure_evidence(events: &[ServerEvent], output: Option<&TargetOutput>) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .map(|e| format!("server {}", server_event(e)))
        .collect();
    if let Some(o) = output {
        out.extend(output_lines(o));
    }
    out
}

/// The steps, server errors and verdict of one result, one fact per line
/// (JUnit system-out, CTRF stdout).
pub fn transcript(r: &ResultRecord) -> Vec<String> {
    let mut out = vec![format!(
        "verdict: {} (expected {})",
        r.verdict.map_or("not run", |v| v.as_str()),
        verdicts(&r.expected)
    )];
    out.extend(r.steps.iter().map(|s| format!("step {}", step(s))));
    out.extend(
        r.server_errors
            .iter()
            .map(|e| format!("server {}", server_event(e))),
    );
    if let Some(e) = &r.setup_error {
        out.push(format!("setup error: {e}"));
    }
    if let Some(e) = &r.harness_error {
        out.push(format!("harness error: {e}"));
    }
    out.extend(r.notes.iter().map(|n| format!("note: {n}")));
    out
}

/// `crashed|hung`, or `unknown` for an empty list.
pub fn verdicts(v: &[netrepro_scenario::Verdict]) -> String {
    if v.is_empty() {
        "unknown".into()
    } else {
        v.iter().map(|v| v.as_str()).collect::<Vec<_>>().join("|")
    }
}

/// Test name used by JUnit and CTRF: `scenario [impl]`.
pub fn test_name(r: &ResultRecord) -> String {
    format!("{} [{}]", r.scenario.name, r.impl_.as_str())
}

/// The expectation diff as one message; the setup error if there is no diff.
pub fn failure_message(r: &ResultRecord) -> String {
    if let Some(e) = &r.harness_error {
        return format!("harness error: {e}");
    }
    if r.diff.is_empty() {
        r.setup_error
            .clone()
            .unwrap_or_else(|| "failed".to_string())
    } else {
        r.diff.join("\n")
    }
}

/// [`failure_message`] followed by the evidence: server errors and what the
/// target printed (JUnit failure body, CTRF message).
pub fn failure_text(r: &ResultRecord) -> String {
    let mut lines = vec![failure_message(r)];
    lines.extend(failure_evidence(&r.server_errors, r.output.as_ref()));
    lines.join("\n")
}
