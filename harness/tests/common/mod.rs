//! Helpers shared by the report fuzz tests: a small real report whose
//! free-text fields are found by trying, and strings biased towards the
//! characters that break XML, terminals and Markdown; and the one small
//! valid scenario the CLI tests run.

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod procs;

use netrepro_report::{json, Report, Status};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

/// A small real report: its first result with steps and server events,
/// once per status (each status reaches different fields), cut to a few
/// steps and server events so a case stays cheap; and the JSON pointers of
/// its free-text fields (a string field that still deserializes after
/// being changed is free text; enum names are not).
pub fn base() -> &'static (Value, Vec<String>) {
    static BASE: OnceLock<(Value, Vec<String>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-linux.json");
        let mut rep = json::read(&f).unwrap();
        let first = rep
            .results
            .iter()
            .find(|r| !r.steps.is_empty() && !r.server_errors.is_empty())
            .expect("a result with steps and server errors")
            .clone();
        rep.results = [
            Status::Passed,
            Status::Failed,
            Status::Skipped,
            Status::Unverified,
            Status::Error,
        ]
        .into_iter()
        .map(|st| {
            let mut r = first.clone();
            r.status = st;
            r.steps.truncate(3);
            r.server_errors.truncate(2);
            r.notes.push("note".into());
            r.diff.push("diff".into());
            r.setup_error.get_or_insert_with(|| "setup".into());
            if st == Status::Error {
                r.harness_error = Some("harness".into());
            }
            r
        })
        .collect();
        let v = serde_json::to_value(&rep).unwrap();
        let mut ptrs = Vec::new();
        strings(&v, String::new(), &mut ptrs);
        let free: Vec<String> = ptrs
            .into_iter()
            .filter(|p| {
                let mut w = v.clone();
                *w.pointer_mut(p).unwrap() = Value::String("free \u{fffe} text".into());
                serde_json::from_value::<Report>(w).is_ok()
            })
            .collect();
        assert!(free.len() > 10, "only {} free-text fields", free.len());
        (v, free)
    })
}

/// JSON pointers of every string in `v`.
fn strings(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let k = k.replace('~', "~0").replace('/', "~1");
                strings(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// The base report with its free-text fields set to `texts`, in order.
pub fn report_with(texts: &[String]) -> Report {
    let (v, free) = base();
    let mut w = v.clone();
    for (p, t) in free.iter().zip(texts) {
        *w.pointer_mut(p).unwrap() = Value::String(t.clone());
    }
    serde_json::from_value(w).unwrap()
}

/// Any char, often one that XML forbids, a terminal obeys or Markdown reads
/// as markup.
pub fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '\0',
            '\u{1}',
            '\u{7}',
            '\u{8}',
            '\u{b}',
            '\u{c}',
            '\u{1b}',
            '\u{1f}',
            '\r',
            '\n',
            '\t',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{202e}',
            '\u{2066}',
            '\u{fdd0}',
            '\u{fdef}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{1fffe}',
            '\u{10ffff}',
            '\u{fffd}',
            '<',
            '>',
            '&',
            '"',
            '\'',
            ']',
            '[',
            '|',
            '\\',
            '`',
            '*',
            '_',
            '#',
            '~',
            '(',
            ')',
            '!',
        ]),
    ]
}

pub fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..12).prop_map(|v| v.into_iter().collect())
}

/// One TCP client that connects; every implementation survives it.
pub const ONE_CONNECT: &str = r#"name = "one-connect"
summary = "one connect"
actors = ["a"]

[target]
proto = "tcp"

[[steps]]
actor = "a"
op = "connect"

[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

/// `netrepro run <args> --report <dir>/r.json` from the repository root:
/// the process output and the report's results (empty if none was written).
pub fn run_report(args: &[&str], dir: &Path) -> (std::process::Output, Vec<Value>) {
    let report = dir.join("r.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .arg("run")
        .args(args)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let rep: Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap_or_default()).unwrap_or(Value::Null);
    let results = rep["results"].as_array().cloned().unwrap_or_default();
    (out, results)
}

/// Is socat here? If not, says SKIP (`.ci/run` installs it), for tests that
/// use socat as a third-party target.
pub fn socat_installed() -> bool {
    let here = std::process::Command::new("socat")
        .arg("-V")
        .output()
        .is_ok();
    if !here {
        eprintln!("SKIP: socat is not installed (.ci/run installs it)");
    }
    here
}
