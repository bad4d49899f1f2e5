//! Issue 11.3: text from files and targets never reaches a terminal or a
//! Markdown page raw. Every free-text field of a report (and of a scenario,
//! for `list` and the catalog) gets arbitrary strings, biased towards
//! control characters and markup; the terminal table, the progress lines,
//! `report diff`, the Markdown summary and the catalog must hold no raw
//! control character, keep every table row on one line, never panic; the
//! JSON report must parse back to the same report.

mod common;

use common::{base, nasty_string, report_with, ONE_CONNECT};
use netrepro_report::load::{Document, Loaded};
use netrepro_report::matrix::Matrix;
use netrepro_report::{diff, markdown, progress, table, Report, Status};
use netrepro_scenario::{parse_str, Platform};
use netrepro_sys::escape;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const CASES: u32 = 256;

/// A raw control character (or bidi override), `\n` allowed or not.
fn raw_control(s: &str, newline_ok: bool) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
            && !(newline_ok && c == '\n')
    })
}

fn check_clean(what: &str, s: &str, newline_ok: bool) -> Result<(), TestCaseError> {
    if let Some(c) = raw_control(s, newline_ok) {
        return Err(TestCaseError::fail(format!("{what}: raw {c:?} in {s:?}")));
    }
    Ok(())
}

/// Pipes not escaped with a backslash: the cell separators of a row.
fn separators(line: &str) -> usize {
    let mut n = 0;
    let mut it = line.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                it.next();
            }
            '|' => n += 1,
            _ => {}
        }
    }
    n
}

/// A Markdown table is intact: every row has the header's number of cells,
/// and there are as many rows as expected; no raw HTML but our own `<br>`.
fn check_markdown_table(md: &str, rows: usize) -> Result<(), TestCaseError> {
    // The table: from its header to the first line that is not a row
    // (later lines, e.g. fenced diff text, may start with '|' too).
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| scenario"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    prop_assert_eq!(table.len(), rows + 2, "{}", md);
    let cells = separators(table[0]);
    for l in &table {
        prop_assert_eq!(separators(l), cells, "{}", l);
        let without_br = l.replace("<br>", "");
        let mut it = without_br.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                it.next();
                continue;
            }
            prop_assert!(c != '<' && c != '>', "raw markup in {}", l);
        }
    }
    Ok(())
}

fn loaded(rep: &Report) -> Loaded {
    Loaded {
        path: PathBuf::from("r.json"),
        doc: Document::Report(rep.clone()),
        host_wine: Some(false),
    }
}

/// Lines of `table::render`: header, one per result, then per failed or
/// noted result a blank line, a heading and its lines (a harness error: its
/// reason and notes), then the summary.
fn table_lines(rep: &Report) -> usize {
    let mut n = 1 + rep.results.len();
    for r in &rep.results {
        if r.status == Status::Error {
            n += 3 + r.notes.len();
        } else if r.failed() {
            n += 2 + r.diff.len() + r.notes.len();
        } else if !r.notes.is_empty() {
            n += 2 + r.notes.len();
        }
    }
    n + 2
}

fn check_report(rep: &Report) -> Result<(), TestCaseError> {
    let t = table::render(rep);
    check_clean("table", &t, true)?;
    prop_assert_eq!(t.lines().count(), table_lines(rep), "{}", t);

    for (i, r) in rep.results.iter().enumerate() {
        let l = progress::line(i + 1, rep.results.len(), r);
        check_clean("progress line", &l, false)?;
    }

    let m = Matrix::from_loaded(&loaded(rep));
    let md = markdown::render(&m);
    check_clean("markdown", &md, true)?;
    check_markdown_table(&md, m.rows.len())?;

    // `report diff` of this report against the fixture it came from.
    let old = Matrix::from_loaded(&loaded(&report_with(&[])));
    let changes = diff::diff(&old, &m);
    let text = changes.to_string();
    check_clean("report diff", &text, true)?;
    prop_assert_eq!(
        text.lines().count(),
        changes.0.len().max(1) + usize::from(!changes.0.is_empty())
    );

    let json = serde_json::to_string(rep).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    prop_assert_eq!(&back, rep);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]
    #[test]
    fn report_outputs_are_safe_whatever_the_text(
        texts in prop::collection::vec(nasty_string(), base().1.len())
    ) {
        check_report(&report_with(&texts))?;
    }

    #[test]
    fn list_and_catalog_are_safe_whatever_the_scenario_text(
        name in nasty_string(),
        summary in nasty_string(),
        path in nasty_string(),
        server_error in nasty_string(),
    ) {
        let mut sc = parse_str(ONE_CONNECT, Path::new("scen/tcp/x.toml")).unwrap();
        sc.name = name;
        sc.summary = summary;
        sc.path = Path::new("scen").join(path);
        for e in sc.expect.values_mut() {
            e.base.server_errors = Some(vec![server_error.clone()]);
        }
        let row = netrepro::cli::list_row(&sc, Platform::current());
        check_clean("list", &row, false)?;
        let md = netrepro::catalog::render(Path::new("scen"), &[sc]);
        check_clean("catalog", &md, true)?;
        check_markdown_table(&md, 1)?;
    }
}

/// The whole path through the binary: a scenario file whose summary holds
/// an OSC 8 hyperlink, a screen clear and a bidi override, and a second
/// file whose error echoes such a value. Nothing reaches stdout or stderr
/// raw.
#[test]
fn list_and_validate_print_no_escape_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "\\u001b]8;;https://evil.example\\u0007click\\u001b]8;;\\u0007 \\u001b[2J \\u202e \\nnew line | <b>x</b>";
    std::fs::write(
        dir.path().join("a.toml"),
        ONE_CONNECT.replace(
            "summary = \"one connect\"",
            &format!("summary = \"{evil}\""),
        ),
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_netrepro");
    for args in [vec!["list"], vec!["list", "--markdown"], vec!["validate"]] {
        let out = Command::new(exe)
            .args(&args)
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(raw_control(&text, true), None, "{args:?}: {text:?}");
        if args == ["list"] {
            assert_eq!(text.lines().count(), 1, "{text:?}");
        }
    }
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("b.toml"),
        ONE_CONNECT.replace("op = \"connect\"", &format!("op = \"{evil}\"")),
    )
    .unwrap();
    let out = Command::new(exe)
        .arg("validate")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(raw_control(&err, true), None, "{err:?}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn the_escaping_functions_are_the_ones_used() {
    // A spot check that the table uses escape::terminal (same rendering).
    let mut rep = report_with(&[]);
    rep.results[0].scenario.name = "a\u{1b}[31mb".into();
    let t = table::render(&rep);
    assert!(t.contains(&*escape::terminal("a\u{1b}[31mb")), "{t}");
}
