//! JUnit is well-formed XML for any input (issue 11 item 2). Every
//! free-text field of a real report (found by trying: a string field that
//! still deserializes after being changed is free text; enum names are not)
//! gets an arbitrary string, biased towards the characters XML forbids, and
//! the output must parse in roxmltree, which checks the XML `Char`
//! production (quick-xml does not). Case count: `JUNIT_FUZZ_CASES` below,
//! a few seconds in a debug build.

mod common;

use common::{base, nasty_string, report_with};
use netrepro_report::junit;
use proptest::prelude::*;

const JUNIT_FUZZ_CASES: u32 = 256;

fn render_with(texts: &[String]) -> (String, usize) {
    let rep = report_with(texts);
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
