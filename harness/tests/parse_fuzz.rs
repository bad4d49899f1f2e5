//! Fuzzing the scenario parser (issue 11 acceptance): arbitrary bytes, and
//! byte- and line-level mutations applied to every catalog file
//! (scenarios/**/*.toml) at once. Never a panic; every error names the file
//! and a 1-based line:column that exists in the input.
//!
//! Case counts: CI-sized defaults (`BYTES_CASES`, `MUTATION_CASES`, about
//! two seconds together in a debug build on an idle 2-core machine, issue
//! 16.2), or `PROPTEST_CASES` from the environment for a longer soak, e.g.
//! `PROPTEST_CASES=5000 cargo nextest run --test parse_fuzz` (each test
//! then runs that many cases; a mutation case parses every catalog file).

use netrepro_scenario::{parse_bytes, ScenarioError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const BYTES_CASES: u32 = 1000;
/// Each case mutates all catalog files, so this is cases x files parses
/// (200 x 42 files = 8,400 parses).
const MUTATION_CASES: u32 = 200;

/// `PROPTEST_CASES` when set (a soak), else the test's CI-sized `default`.
/// An explicit `with_cases` would hide the variable, so it is read here.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every catalog file: (path, bytes).
fn catalog() -> &'static [(PathBuf, Vec<u8>)] {
    static CATALOG: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut out = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "toml") {
                    let bytes = std::fs::read(&p).unwrap();
                    out.push((p, bytes));
                }
            }
        }
        out.sort();
        assert!(out.len() >= 20, "only {} catalog files", out.len());
        out
    })
}

/// The error is located inside `bytes` and its text starts `path:line:col: `.
fn check_located(e: &ScenarioError, path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(&e.path, path);
    prop_assert!(e.line >= 1 && e.column >= 1, "unlocated: {}", e);
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!(e.line <= lines.len(), "line past the end: {}", e);
    let width = lines[e.line - 1].chars().count();
    prop_assert!(
        e.column <= width + 1,
        "column past the line ({}): {}",
        width,
        e
    );
    let prefix = format!("{}:{}:{}: ", path.display(), e.line, e.column);
    prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Delete `len` bytes at a position (fraction of the length).
    Delete(f64, usize),
    /// Insert bytes at a position.
    Insert(f64, Vec<u8>),
    /// Overwrite one byte.
    Replace(f64, u8),
    /// Duplicate, delete or swap whole lines.
    DupLine(f64),
    DeleteLine(f64),
    SwapLines(f64, f64),
    /// Cut the file short.
    Truncate(f64),
}

/// Tokens that stress TOML and the validator more than random bytes do.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            "\"",
            "'",
            "[",
            "]",
            "[[",
            "]]",
            "=",
            "\n",
            "{",
            "}",
            ",",
            "#",
            "'''",
            "\"\"\"",
            "\\",
            "\u{feff}",
            "\0",
            "\r",
            "-1",
            "0",
            "99999999999999999999",
            "1e400",
            "inf",
            "nan",
            "true",
            "[]",
            "{}",
            "\"\"",
            "x = 1\n",
            "[expect.naive]\n",
            "[[steps]]\n",
            "op = \"abort\"\n",
            "\u{fffe}",
            "é",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 1..40usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), token()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
        at.clone().prop_map(Mutation::DupLine),
        at.clone().prop_map(Mutation::DeleteLine),
        (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        at.prop_map(Mutation::Truncate),
    ]
}

fn pos(frac: f64, len: usize) -> usize {
    ((frac * len as f64) as usize).min(len)
}

fn apply(src: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = src.to_vec();
    for m in muts {
        match m {
            Mutation::Delete(a, n) => {
                let i = pos(*a, b.len());
                let j = (i + n).min(b.len());
                b.drain(i..j);
            }
            Mutation::Insert(a, t) => {
                let i = pos(*a, b.len());
                b.splice(i..i, t.iter().copied());
            }
            Mutation::Replace(a, x) => {
                if !b.is_empty() {
                    let i = pos(*a, b.len() - 1);
                    b[i] = *x;
                }
            }
            Mutation::DupLine(a) | Mutation::DeleteLine(a) | Mutation::SwapLines(a, _) => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let i = pos(*a, lines.len() - 1);
                match m {
                    Mutation::DupLine(_) => lines.insert(i, lines[i].clone()),
                    Mutation::DeleteLine(_) => {
                        lines.remove(i);
                    }
                    Mutation::SwapLines(_, c) => {
                        let j = pos(*c, lines.len() - 1);
                        lines.swap(i, j);
                    }
                    _ => unreachable!(),
                }
                b = lines.join(&b'\n');
            }
            Mutation::Truncate(a) => b.truncate(pos(*a, b.len())),
        }
    }
    b
}

#[test]
fn every_catalog_file_parses_unmutated() {
    for (p, bytes) in catalog() {
        if let Err(e) = parse_bytes(bytes.clone(), p) {
            panic!("{e}");
        }
    }
}

#[test]
fn mutations_change_the_files() {
    // The mutator is not a no-op: one deleted line breaks some file.
    let broken = catalog()
        .iter()
        .filter(|(p, b)| parse_bytes(apply(b, &[Mutation::DeleteLine(0.0)]), p).is_err())
        .count();
    assert!(broken > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(BYTES_CASES)))]
    #[test]
    fn arbitrary_bytes_never_panic_and_errors_are_located(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            // Mostly valid UTF-8 and TOML punctuation: gets past the UTF-8 check.
            prop::collection::vec(token(), 0..64).prop_map(|v| v.concat()),
        ]
    ) {
        let path = Path::new("fuzz/bytes.toml");
        if let Err(e) = parse_bytes(bytes.clone(), path) {
            check_located(&e, path, &bytes)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(MUTATION_CASES)))]
    #[test]
    fn mutated_catalog_files_never_panic_and_errors_are_located(
        muts in prop::collection::vec(mutation(), 1..5)
    ) {
        for (p, src) in catalog() {
            let bytes = apply(src, &muts);
            if let Err(e) = parse_bytes(bytes.clone(), p) {
                check_located(&e, p, &bytes)?;
            }
        }
    }
}
