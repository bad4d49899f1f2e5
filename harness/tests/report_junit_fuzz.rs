//! JUnit is well-formed XML for any input (issue 11 item 2). Every
//! free-text field of a real report (found by trying: a string field that
//! still deserializes after being changed is free text; enum names are not)
//! gets an arbitrary string, biased towards the characters XML forbids, and
//! the output must parse in roxmltree, which checks the XML `Char`
//! production (quick-xml does not). Case count: `JUNIT_FUZZ_CASES` below,
//! a few seconds in a debug build.

use netrepro::report::{json, junit, Report, Status};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

const JUNIT_FUZZ_CASES: u32 = 256;

/// A small real report: its first result with steps and server events,
/// once per status (each status reaches different JUnit fields), cut to a
/// few steps and server events so a case stays cheap.
fn base() -> &'static (Value, Vec<String>) {
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

/// Any char, often one XML forbids, discourages or must escape.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '\0',
            '\u{1}',
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
        ]),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..12).prop_map(|v| v.into_iter().collect())
}

fn render_with(texts: &[String]) -> (String, usize) {
    let (v, free) = base();
    let mut w = v.clone();
    for (p, t) in free.iter().zip(texts) {
        *w.pointer_mut(p).unwrap() = Value::String(t.clone());
    }
    let rep: Report = serde_json::from_value(w).unwrap();
    (junit::render(&rep), rep.results.len())
}

fn parse_ok(xml: &str, cases: usize) -> Result<(), String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("{e}"))?;
    let n = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    if n != cases {
        return Err(format!("{n} testcases, want {cases}"));
    }
    Ok(())
}

#[test]
fn non_characters_in_every_field_still_parse_and_are_marked() {
    let (_, free) = base();
    let texts = vec!["a\u{fffe}b\u{ffff}c\u{1b}[31m\u{0}".to_string(); free.len()];
    let (xml, cases) = render_with(&texts);
    parse_ok(&xml, cases).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // Replaced, not dropped: the reader sees something was there.
    assert!(
        xml.contains("a\u{fffd}b\u{fffd}c\u{fffd}[31m\u{fffd}"),
        "{xml}"
    );
    for c in ['\u{fffe}', '\u{ffff}', '\u{1b}', '\0'] {
        assert!(!xml.contains(c), "{c:?} reached the XML");
    }
}

#[test]
fn xml_safe_keeps_allowed_text_and_replaces_the_rest() {
    assert_eq!(junit::xml_safe("tab\tnl\ncr\r é €"), "tab\tnl\ncr\r é €");
    assert_eq!(
        junit::xml_safe("\u{1}\u{7f}\u{9f}\u{fdd0}\u{fffe}\u{ffff}\u{10fffe}\u{10ffff}"),
        "\u{fffd}".repeat(8)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(JUNIT_FUZZ_CASES))]
    #[test]
    fn junit_parses_whatever_the_text(
        texts in prop::collection::vec(nasty_string(), base().1.len())
    ) {
        let (xml, cases) = render_with(&texts);
        if let Err(e) = parse_ok(&xml, cases) {
            return Err(TestCaseError::fail(format!("{e}\n{xml}")));
        }
    }
}
