//! The `observed = { … }` marker of a per-OS cell: which run showed what
//! the cell expects (written by `netrepro bless`). Optional; every field is
//! checked so a hand edit cannot slip text into the catalog table that is
//! not a version or a date.

use super::check::{verr, VResult};
use super::raw::{RawObserved, S};
use crate::model::Observed;
use std::ops::Range;

/// Longest text a marker field may hold (an OS version string is short).
const MAX_TEXT: usize = 100;

/// What can be wrong in an `observed` marker.
#[derive(Debug, thiserror::Error)]
pub(super) enum ObservedProblem {
    #[error("\"observed\" is missing required key \"{0}\"; expected {{ os_version = \"…\", netrepro = \"…\", date = \"YYYY-MM-DD\" }} (arch and wine optional)")]
    Missing(&'static str),
    #[error("\"{0}\" in \"observed\" must not be empty")]
    Empty(&'static str),
    #[error("\"{key}\" in \"observed\" is longer than {MAX_TEXT} characters")]
    TooLong { key: &'static str },
    #[error("\"{0}\" in \"observed\" holds a control character")]
    Control(&'static str),
    #[error(
        "\"date\" in \"observed\" must be a day as YYYY-MM-DD (e.g. \"2026-11-26\"), found \"{0}\""
    )]
    Date(String),
    #[error("\"observed\" marks a cell whose verdict is \"unknown\": an observed cell states what was seen")]
    OnUnknown,
}

fn text(v: &Option<S<String>>, key: &'static str, span: &Range<usize>) -> VResult<String> {
    let Some(v) = v else {
        return verr(span.clone(), ObservedProblem::Missing(key));
    };
    opt_text(v, key)
}

fn opt_text(v: &S<String>, key: &'static str) -> VResult<String> {
    match field_problem(key, v.get_ref()) {
        Some(p) => verr(v.span(), p),
        None => Ok(v.get_ref().clone()),
    }
}

fn field_problem(key: &'static str, s: &str) -> Option<ObservedProblem> {
    if s.trim().is_empty() {
        Some(ObservedProblem::Empty(key))
    } else if s.chars().count() > MAX_TEXT {
        Some(ObservedProblem::TooLong { key })
    } else if s.chars().any(char::is_control) {
        Some(ObservedProblem::Control(key))
    } else {
        None
    }
}

/// What the parser would refuse in a marker built elsewhere (`netrepro
/// bless` builds one from a report), as the parser words it.
pub fn check(o: &Observed) -> Result<(), String> {
    let fields = [
        ("os_version", Some(&o.os_version)),
        ("arch", o.arch.as_ref()),
        ("wine", o.wine.as_ref()),
        ("netrepro", Some(&o.netrepro)),
    ];
    for (key, v) in fields {
        if let Some(p) = v.and_then(|s| field_problem(key, s)) {
            return Err(p.to_string());
        }
    }
    if !is_day(&o.date) {
        return Err(ObservedProblem::Date(o.date.clone()).to_string());
    }
    Ok(())
}

/// `YYYY-MM-DD` with a month of 1..=12 and a day of 1..=31.
pub fn is_day(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let month: u8 = s[5..7].parse().unwrap_or(0);
    let day: u8 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Validate a marker. `unknown`: the cell it sits in resolves to
/// `server = "unknown"`, which nothing observed can say.
pub(super) fn validate_observed(raw: &S<RawObserved>, unknown: bool) -> VResult<Observed> {
    let span = raw.span();
    if unknown {
        return verr(span, ObservedProblem::OnUnknown);
    }
    let r = raw.get_ref();
    let date = text(&r.date, "date", &span)?;
    if !is_day(&date) {
        let at = r.date.as_ref().map_or(span.clone(), S::span);
        return verr(at, ObservedProblem::Date(date));
    }
    Ok(Observed {
        os_version: text(&r.os_version, "os_version", &span)?,
        arch: r.arch.as_ref().map(|v| opt_text(v, "arch")).transpose()?,
        wine: r.wine.as_ref().map(|v| opt_text(v, "wine")).transpose()?,
        netrepro: text(&r.netrepro, "netrepro", &span)?,
        date,
    })
}

#[cfg(test)]
mod tests {
    use super::is_day;
    use crate::model::{ExpectKey, Impl, Provenance};
    use crate::parse::parse_str;
    use crate::parse::test_support::{assert_located, HEAD};
    use rstest::rstest;
    use std::path::Path;

    const MARK: &str =
        "observed = { os_version = \"Windows 6.1.7601\", wine = \"8.0\", netrepro = \"0.1.0\", date = \"2026-11-26\" }";

    fn src(cell: &str) -> String {
        format!(
            "{HEAD}[expect.naive]\nserver = \"survived\"\n[expect.naive.wine]\n{cell}\n\
             [expect.hardened]\nserver = \"survived\"\n"
        )
    }

    #[test]
    fn a_marker_makes_its_cell_observed_and_only_that_cell() {
        let s = parse_str(&src(MARK), Path::new("x.toml")).unwrap();
        let e = &s.expect[&Impl::Naive];
        let Provenance::Observed(o) = e.provenance(ExpectKey::Wine) else {
            panic!("{:?}", e.provenance(ExpectKey::Wine));
        };
        assert_eq!(o.host(), "Wine 8.0 / Windows 6.1.7601");
        assert_eq!(
            (o.netrepro.as_str(), o.date.as_str()),
            ("0.1.0", "2026-11-26")
        );
        assert_eq!(o.arch, None);
        // A marker-only table changes no expectation.
        assert_eq!(
            e.resolve(ExpectKey::Wine.platform()),
            e.resolve(ExpectKey::Windows.platform())
        );
        assert_eq!(e.provenance(ExpectKey::Windows), Provenance::Cited);
        assert_eq!(
            s.expect[&Impl::Hardened].provenance(ExpectKey::Linux),
            Provenance::Cited
        );
        let unknown = src("server = \"unknown\"");
        let s = parse_str(&unknown, Path::new("x.toml")).unwrap();
        assert_eq!(
            s.expect[&Impl::Naive].provenance(ExpectKey::Wine),
            Provenance::Unknown
        );
    }

    // HEAD is 4 lines; the marker is on line 8.
    #[rstest]
    #[case::on_unknown(
        format!("server = \"unknown\"\n{MARK}"), 9, 12, "marks a cell whose verdict is \"unknown\"")]
    #[case::missing_date(
        "observed = { os_version = \"Windows 10.0.20348\", netrepro = \"0.1.0\" }".to_string(),
        8, 12, "missing required key \"date\"")]
    #[case::missing_version(
        "observed = { netrepro = \"0.1.0\", date = \"2026-11-26\" }".to_string(),
        8, 12, "missing required key \"os_version\"")]
    #[case::bad_date(
        "observed = { os_version = \"x\", netrepro = \"0.1.0\", date = \"26.11.2026\" }".to_string(),
        8, 59, "must be a day as YYYY-MM-DD")]
    #[case::empty(
        "observed = { os_version = \" \", netrepro = \"0.1.0\", date = \"2026-11-26\" }".to_string(),
        8, 27, "\"os_version\" in \"observed\" must not be empty")]
    #[case::control(
        "observed = { os_version = \"a\\u001b[31m\", netrepro = \"0.1.0\", date = \"2026-11-26\" }".to_string(),
        8, 27, "control character")]
    #[case::unknown_key(
        "observed = { os_version = \"x\", netrepro = \"0.1.0\", date = \"2026-11-26\", by = \"me\" }".to_string(),
        8, 73, "by")]
    fn a_bad_marker_is_located(
        #[case] cell: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src(&cell), line, column, phrase);
    }

    #[test]
    fn a_marker_in_the_base_table_is_refused() {
        let s = format!(
            "{HEAD}[expect.naive]\nserver = \"survived\"\n{MARK}\n[expect.hardened]\nserver = \"survived\"\n"
        );
        assert_located(&s, 7, 1, "observed");
    }

    #[test]
    fn days() {
        assert!(is_day("2026-11-26"));
        for bad in [
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-11-2026",
            "2026-11-32",
            "2026/11/26",
        ] {
            assert!(!is_day(bad), "{bad}");
        }
    }
}
