//! The HTML behaviour matrix (`report html MATRIX|REPORT -o report.html`):
//! one self-contained static page, inline CSS and JS, no network fetches.
//! The matrix and the per-scenario drill-down (`<details>`) work without
//! JavaScript; the script only adds the proto/mode/verdict/status filter.
//! maud escapes every interpolated string: scenario files are user input.

use super::junit::{mode_str, proto_str};
use super::matrix::{Cell, Column, Matrix, Row};
use super::model::Status;
use super::text;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use netrepro_observe::EventSource;

const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
#matrix thead th{background:#f2f2f2;position:sticky;top:0}
.cell{min-width:8em}
.v-survived{background:#d8f5d0}.v-leaked{background:#ffe2b3}.v-busy{background:#fff3a8}.v-rejecting{background:#f3d5f5}.v-hung{background:#e6d5ff}.v-crashed{background:#ffc9c9}.v-not-run{background:#eee;color:#555}
.s-failed{outline:3px solid #c00;outline-offset:-3px}
.verdict{font-weight:600}
.status{font-size:12px;color:#444}.st-failed{color:#c00;font-weight:700}.st-unverified{color:#7a5c00}.st-error{color:#a0f;font-weight:700}
.errs{display:block;font:12px ui-monospace,monospace;color:#333}
.fatal{color:#a00;font-weight:700}
.legend span{display:inline-block;padding:.1em .6em;margin-right:.4em;border:1px solid #ccc}
#filters{margin:.8em 0}#filters label{margin-right:1em}
details.scenario{border:1px solid #ccc;margin:.4em 0;padding:.3em .6em}
details.scenario>summary{cursor:pointer;font-weight:600}
.sub{margin:.5em 0 .8em 1em}
.sub table{font-size:12px}
.diff{color:#a00}
code,.mono{font-family:ui-monospace,monospace}
[hidden]{display:none!important}
"#;

const JS: &str = r#"
(function(){
  var form=document.getElementById('filters');
  if(!form)return;
  form.hidden=false;
  function apply(){
    var f={};
    ['proto','mode','verdict','status'].forEach(function(k){f[k]=form.elements[k].value;});
    var shown=0;
    document.querySelectorAll('[data-scenario]').forEach(function(el){
      var ok=(!f.proto||el.dataset.proto===f.proto)&&(!f.mode||el.dataset.mode===f.mode)
        &&(!f.verdict||el.dataset.verdicts.split(' ').indexOf(f.verdict)>=0)
        &&(!f.status||el.dataset.statuses.split(' ').indexOf(f.status)>=0);
      el.hidden=!ok;
      if(ok&&el.tagName==='TR')shown++;
    });
    document.getElementById('shown').textContent=shown+' scenario(s) shown';
  }
  form.addEventListener('change',apply);
  function openHash(){var d=document.getElementById(location.hash.slice(1));if(d&&d.tagName==='DETAILS')d.open=true;}
  window.addEventListener('hashchange',openHash);openHash();apply();
})();
"#;

fn verdict_class(c: &Cell) -> String {
    format!(
        "cell v-{} s-{}",
        c.verdict.map_or("not-run", |v| v.as_str()),
        c.status.as_str()
    )
}

/// Status as text with a class (no emoji: a CI screenshot host may lack
/// an emoji font).
fn status_markup(s: Status) -> Markup {
    html! { span class=(format!("status st-{}", s.as_str())) { (s.as_str()) } }
}

fn cell_markup(c: &Cell) -> Markup {
    html! {
        td class=(verdict_class(c)) title=(format!("expected {}", text::verdicts(&c.expected))) {
            span.verdict { (c.verdict.map_or("not run", |v| v.as_str())) }
            " " (status_markup(c.status))
            @if !c.client_errors.is_empty() {
                span.errs { "client: " (c.client_errors.join(" ")) }
            }
            @if !c.server_errors.is_empty() {
                span.errs { "server: "
                    @for n in &c.server_errors {
                        @if c.fatal_errors.contains(n) { span.fatal title="the server died of this" { (n) "!" } " " }
                        @else { (n) " " }
                    }
                }
            }
        }
    }
}

fn words<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let mut v: Vec<&str> = it.collect();
    v.sort_unstable();
    v.dedup();
    v.join(" ")
}

fn row_verdicts(r: &Row) -> String {
    words(
        r.cells
            .values()
            .map(|c| c.verdict.map_or("not-run", |v| v.as_str())),
    )
}

fn row_statuses(r: &Row) -> String {
    words(r.cells.values().map(|c| c.status.as_str()))
}

/// Only http(s) refs become links: a `javascript:` ref in a scenario file
/// must not become clickable.
fn ref_markup(r: &str) -> Markup {
    let link = r.starts_with("https://") || r.starts_with("http://");
    html! {
        li { @if link { a href=(r) rel="noreferrer" { (r) } } @else { code { (r) } } }
    }
}

fn detail_for(col: &Column, c: &Cell) -> Markup {
    html! {
        div.sub {
            h4 { (col.id) ": " span class=(verdict_class(c)) { (c.verdict.map_or("not run", |v| v.as_str())) }
                 " (expected " (text::verdicts(&c.expected)) ") " (status_markup(c.status))
                 " · " (format!("{:.2}s", c.duration_ms as f64 / 1000.0)) }
            @if !c.diff.is_empty() { ul.diff { @for d in &c.diff { li { (d) } } } }
            @if let Some(e) = &c.setup_error { p.diff { "setup error: " (e) } }
            @if let Some(e) = &c.harness_error { p.diff { "harness error: " (e) } }
            @if !c.notes.is_empty() { ul { @for n in &c.notes { li { "note: " (n) } } } }
            @if !c.steps.is_empty() {
                table.steps {
                    caption { "step timeline (client side)" }
                    tr { th { "t" } th { "#" } th { "line" } th { "actor" } th { "op" } th { "outcome" } }
                    @for s in &c.steps {
                        tr { td.mono { "+" (s.elapsed_ms) "ms" } td { (s.index) } td { (s.line) }
                             td { (s.actor) "[" (s.member) "]" } td { (s.op) @if let Some(id) = &s.id { " (" (id) ")" } }
                             td.mono { (text::outcome(&s.outcome)) (text::runs(s)) } }
                    }
                }
            }
            @if !c.server_events.is_empty() {
                table.server {
                    caption { "server errors" }
                    tr { th { "t" } th { "op" } th { "name" } th { "raw" } th { "class" } th { "fatal" } th { "count" } th { "source" } }
                    @for e in &c.server_events {
                        tr { td.mono { "+" (e.t_ms) "ms" } td { (e.op) } td.mono { (e.name) }
                             td.mono { (e.raw.map_or("-".to_string(), |r| r.to_string())) } td { (e.class.as_str()) }
                             td { @if e.fatal { span.fatal { "fatal" } } }
                             td { (e.count) }
                             td { @match e.source { EventSource::Json => "json", EventSource::Text => "stderr text" }
                                  @if let Some(t) = &e.text { br; code { (t) } } } }
                    }
                }
            }
            @if let Some(o) = &c.output {
                @let lines = text::output_lines(o);
                @if !lines.is_empty() {
                    pre.output { @for l in &lines { (l) "\n" } }
                }
            }
            @if !c.samples.is_empty() {
                table.samples {
                    caption { "resource samples" }
                    tr { th { "t" } th { "label" } th { "fds/handles" } th { "CLOSE_WAIT" } }
                    @for s in &c.samples {
                        tr { td.mono { "+" (s.t_ms) "ms" } td { (s.label) }
                             td { (s.fds.map_or("?".to_string(), |v| v.to_string())) }
                             td { (s.close_wait.map_or("?".to_string(), |v| v.to_string())) } }
                    }
                }
            }
            @if let Some(p) = &c.probe {
                p { "probe: " @if p.served { "served" } @else { "not served" } ", " (text::outcome(&p.outcome)) ", " (p.elapsed_ms) "ms" }
            }
            @if let Some(e) = &c.exit {
                p { "exit: code " (e.code.map_or("-".to_string(), |v| v.to_string()))
                    ", signal " (e.signal.map_or("-".to_string(), |v| v.to_string())) }
            }
        }
    }
}

fn options(name: &str, label: &str, values: &[&str]) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { "all" }
                @for v in values { option value=(v) { (v) } }
            }
        }
    }
}

fn distinct<'a>(m: &'a Matrix, f: impl Fn(&'a Row) -> &'static str) -> Vec<&'static str> {
    let mut v: Vec<&str> = m.rows.iter().map(f).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The whole page.
pub fn render(m: &Matrix) -> String {
    let total: usize = m.rows.iter().map(|r| r.cells.len()).sum();
    let failed = m
        .rows
        .iter()
        .flat_map(|r| r.cells.values())
        .filter(|c| c.status == Status::Failed)
        .count();
    let errors = m
        .rows
        .iter()
        .flat_map(|r| r.cells.values())
        .filter(|c| c.status == Status::Error)
        .count();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "netrepro behaviour matrix" }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "netrepro behaviour matrix" }
                p id="totals" { (m.rows.len()) " scenarios, " (total) " results, " (failed) " failed"
                    @if errors > 0 { ", " (errors) " harness errors" } }
                ul id="sources" {
                    @for s in &m.sources {
                        li { b { (s.label) } ": " (s.host.os_version) " " (s.host.arch) ", " (s.file)
                             ", started " (s.started_at) ", " (s.summary.passed) " passed / " (s.summary.failed) " failed"
                             @if !s.complete { " (incomplete run)" } }
                    }
                }
                p.legend {
                    span.v-survived { "survived" } span.v-leaked { "leaked" } span.v-busy { "busy" } span.v-rejecting { "rejecting" } span.v-hung { "hung" }
                    span.v-crashed { "crashed" } span.v-not-run { "not run" }
                    span.s-failed { "expectation failed" } " " code { "!" } " = the error the server died of"
                }
                form id="filters" hidden {
                    (options("proto", "proto", &distinct(m, |r| proto_str(r.scenario.proto))))
                    (options("mode", "mode", &distinct(m, |r| mode_str(r.scenario.mode))))
                    (options("verdict", "verdict", &["survived", "busy", "leaked", "rejecting", "hung", "crashed", "not-run"]))
                    (options("status", "result", &["passed", "failed", "unverified", "skipped", "error"]))
                    output id="shown" {}
                }
                table id="matrix" {
                    thead {
                        tr { th { "scenario" } th { "proto" } th { "mode" }
                             @for c in &m.columns { th.col { (c.label) br; (c.impl_.as_str()) } } }
                    }
                    tbody {
                        @for (i, r) in m.rows.iter().enumerate() {
                            tr.row data-scenario=(r.scenario.name) data-proto=(proto_str(r.scenario.proto))
                               data-mode=(mode_str(r.scenario.mode)) data-verdicts=(row_verdicts(r))
                               data-statuses=(row_statuses(r)) {
                                th scope="row" { a href=(format!("#sc-{i}")) { (r.scenario.name) } }
                                td { (proto_str(r.scenario.proto)) } td { (mode_str(r.scenario.mode)) }
                                @for c in &m.columns {
                                    @if let Some(cell) = r.cells.get(&c.id) { (cell_markup(cell)) }
                                    @else { td.cell.v-not-run { "–" } }
                                }
                            }
                        }
                    }
                }
                h2 { "Scenarios" }
                @for (i, r) in m.rows.iter().enumerate() {
                    details.scenario id=(format!("sc-{i}")) data-scenario=(r.scenario.name)
                        data-proto=(proto_str(r.scenario.proto)) data-mode=(mode_str(r.scenario.mode))
                        data-verdicts=(row_verdicts(r)) data-statuses=(row_statuses(r)) {
                        summary { (r.scenario.name) " — " (r.scenario.summary) }
                        p { "file: " code { (r.scenario.path) } }
                        @if !r.scenario.refs.is_empty() { ul.refs { @for x in &r.scenario.refs { (ref_markup(x)) } } }
                        @for c in &m.columns {
                            @if let Some(cell) = r.cells.get(&c.id) { (detail_for(c, cell)) }
                        }
                    }
                }
                script { (PreEscaped(JS)) }
            }
        }
    };
    page.into_string()
}
