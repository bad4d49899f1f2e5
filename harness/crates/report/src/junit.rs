//! JUnit XML (`run --junit FILE`) via quick-junit: one testcase per scenario
//! x impl, one testsuite per proto/mode. A failure carries the expectation
//! diff; system-out carries the steps and error codes. Unverified results
//! pass (nothing stated was contradicted) with a `netrepro.status` property.
//!
//! Every string goes through [`xml_safe`] first: scenario files and target
//! output can hold any Unicode, and XML 1.0 forbids some of it outright
//! (most C0 controls, U+FFFE, U+FFFF). quick-junit escapes markup and drops
//! C0 controls, but passes U+FFFE/U+FFFF through, and a JUnit file an XML
//! parser rejects loses the whole run in the CI UI.

use super::model::{Report, ResultRecord, Status};
use super::text;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// What [`xml_safe`] puts in place of a character XML cannot carry.
pub const XML_REPLACEMENT: char = '\u{FFFD}';

/// `s` with every character that is not allowed, or is discouraged, in an
/// XML 1.0 document replaced by U+FFFD (documented in reports/README.md):
/// C0 controls other than tab, newline and carriage return; DEL and the C1
/// controls (U+007F-U+009F); and the Unicode non-characters (U+FDD0-U+FDEF
/// and the last two code points of every plane, U+FFFE/U+FFFF among them).
/// Replaced rather than dropped, so a reader sees that something was there.
pub fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| if xml_char_ok(c) { c } else { XML_REPLACEMENT })
        .collect()
}

/// XML 1.0 `Char` minus its "discouraged" controls and non-characters.
fn xml_char_ok(c: char) -> bool {
    let u = u32::from(c);
    let control = (u < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || (0x7f..=0x9f).contains(&u);
    let noncharacter = (0xfdd0..=0xfdef).contains(&u) || (u & 0xfffe) == 0xfffe;
    !control && !noncharacter
}

fn suite_name(r: &ResultRecord) -> String {
    format!(
        "{}/{}",
        proto_str(r.scenario.proto),
        mode_str(r.scenario.mode)
    )
}

pub fn proto_str(p: netrepro_scenario::Proto) -> &'static str {
    match p {
        netrepro_scenario::Proto::Tcp => "tcp",
        netrepro_scenario::Proto::Udp => "udp",
    }
}

pub fn mode_str(m: netrepro_scenario::Mode) -> &'static str {
    match m {
        netrepro_scenario::Mode::Echo => "echo",
        netrepro_scenario::Mode::Forward => "forward",
    }
}

fn case(r: &ResultRecord) -> TestCase {
    let status = match r.status {
        Status::Passed | Status::Unverified => TestCaseStatus::success(),
        Status::Failed => {
            let mut s = TestCaseStatus::non_success(if r.setup_error.is_some() {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            });
            s.set_message(xml_safe(&text::failure_message(r).replace('\n', "; ")));
            s.set_type(r.verdict.map_or("not-run", |v| v.as_str()));
            // The body carries the evidence: server errors, stderr/stdout tails.
            s.set_description(xml_safe(&text::failure_text(r)));
            s
        }
        // JUnit's <error>: the test could not be carried out (the harness
        // failed), as opposed to <failure>: it ran and did not match.
        Status::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            let msg = text::failure_message(r);
            s.set_message(xml_safe(&msg.replace('\n', "; ")));
            s.set_type("harness-error");
            s.set_description(xml_safe(&msg));
            s
        }
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(xml_safe(&r.notes.join("; ")));
            s
        }
    };
    let mut c = TestCase::new(xml_safe(&text::test_name(r)), status);
    c.set_classname(xml_safe(&r.scenario.path));
    c.set_time(Duration::from_millis(r.duration_ms));
    c.set_system_out(xml_safe(&text::transcript(r).join("\n")));
    c.add_property(Property::new("netrepro.status", r.status.as_str()));
    c.add_property(Property::new(
        "netrepro.verdict",
        r.verdict.map_or("not-run", |v| v.as_str()),
    ));
    c
}

/// The whole report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut rep = quick_junit::Report::new("netrepro");
    rep.set_time(Duration::from_millis(report.duration_ms));
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in &report.results {
        let name = suite_name(r);
        let i = match suites.iter().position(|s| s.name.as_str() == name) {
            Some(i) => i,
            None => {
                let mut s = TestSuite::new(name);
                s.add_property(Property::new("os", report.host.os.as_str()));
                s.add_property(Property::new(
                    "os_version",
                    xml_safe(&report.host.os_version),
                ));
                suites.push(s);
                suites.len() - 1
            }
        };
        suites[i].add_test_case(case(r));
    }
    for s in &mut suites {
        let ms: u64 = report
            .results
            .iter()
            .filter(|r| suite_name(r) == s.name.as_str())
            .map(|r| r.duration_ms)
            .sum();
        s.set_time(Duration::from_millis(ms));
    }
    rep.add_test_suites(suites);
    rep.to_string()
        .expect("in-memory XML serialisation cannot fail")
}
