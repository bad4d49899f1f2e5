//! Every TOML example in the docs is checked: README.md, scenarios/README.md,
//! reports/README.md and docs/*.md. A ```toml block is a whole scenario and
//! must pass `netrepro validate`; a block marked ```toml fragment (a piece of
//! a scenario, e.g. one [expect] table) must at least parse as TOML. A
//! failure names the doc and the line of the block's opening fence.
//!
//! The Markdown is read with a small fence scanner (CommonMark's fenced code
//! blocks: up to 3 spaces of indent, 3 or more backticks or tildes, closed by
//! the same character at least as long), so a ```toml inside a longer fence
//! is not taken for an example. The scanner's count is compared with a plain
//! line count, so an example the scanner missed fails the test rather than
//! going unchecked.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The docs whose TOML examples are checked, as paths relative to the
/// repository root (sorted, so failures come in a stable order).
fn docs() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = ["README.md", "scenarios/README.md", "reports/README.md"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("read docs/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| Path::new("docs").join(p.file_name().unwrap()))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

#[derive(Debug, PartialEq)]
enum Kind {
    /// A whole scenario file: `netrepro validate` must accept it.
    Scenario,
    /// A piece of a scenario: it must parse as TOML.
    Fragment,
}

#[derive(Debug)]
struct Example {
    /// 1-based line of the opening fence.
    line: usize,
    kind: Kind,
    text: String,
}

/// An opening or closing fence: its character, length and info string.
fn fence(line: &str) -> Option<(char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.len() - rest.trim_start_matches(c).len();
    (len >= 3).then(|| (c, len, rest[len..].trim()))
}

/// The TOML examples of one Markdown document, or why it cannot be read.
fn examples(markdown: &str) -> Result<Vec<Example>, String> {
    let mut found = Vec::new();
    // The open fence: its character, length, and the example being collected
    // (None for a block in another language).
    let mut open: Option<(char, usize, Option<Example>)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let n = i + 1;
        match &mut open {
            None => {
                let Some((c, len, info)) = fence(line) else {
                    continue;
                };
                let mut words = info.split_whitespace();
                let example = if words.next() == Some("toml") {
                    let kind = match words.collect::<Vec<_>>().as_slice() {
                        [] => Kind::Scenario,
                        ["fragment"] => Kind::Fragment,
                        other => {
                            return Err(format!(
                                "line {n}: unknown marker {other:?} after ```toml; \
                                 expected nothing (a whole scenario) or `fragment`"
                            ))
                        }
                    };
                    Some(Example {
                        line: n,
                        kind,
                        text: String::new(),
                    })
                } else {
                    None
                };
                open = Some((c, len, example));
            }
            Some((c, len, example)) => {
                let closes = fence(line)
                    .is_some_and(|(c2, len2, info)| c2 == *c && len2 >= *len && info.is_empty());
                if closes {
                    if let Some(e) = open.take().and_then(|(_, _, e)| e) {
                        found.push(e);
                    }
                } else if let Some(e) = example {
                    e.text.push_str(line);
                    e.text.push('\n');
                }
            }
        }
    }
    match open {
        Some((_, _, Some(e))) => Err(format!("line {}: ```toml block is never closed", e.line)),
        _ => Ok(found),
    }
}

/// Checks every example of `doc` (named `name` in messages); returns one
/// message per failure.
fn check(name: &str, examples: &[Example], scratch: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for e in examples {
        let at = format!("{name}:{}", e.line);
        match e.kind {
            Kind::Fragment => {
                if let Err(err) = e.text.parse::<toml::Table>() {
                    failures.push(format!(
                        "{at}: ```toml fragment does not parse as TOML: {err}"
                    ));
                }
            }
            Kind::Scenario => {
                let file =
                    scratch.join(format!("{}-{}.toml", name.replace(['/', '.'], "_"), e.line));
                std::fs::write(&file, &e.text).expect("write the example");
                let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
                    .arg("validate")
                    .arg(&file)
                    .output()
                    .expect("run netrepro validate");
                if !out.status.success() {
                    failures.push(format!(
                        "{at}: ```toml example fails `netrepro validate` (exit {:?}; mark it \
                         ```toml fragment if it is not a whole scenario):\n{}{}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn every_toml_example_in_the_docs_is_valid() {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut scenarios = 0;
    for doc in docs() {
        let name = doc.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(repo().join(&doc))
            .unwrap_or_else(|e| panic!("{name}: cannot read: {e}"));
        let found = match examples(&text) {
            Ok(found) => found,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        // Not vacuous: every block that looks like a TOML example was found.
        let naive = text
            .lines()
            .filter(|l| l.trim_start().starts_with("```toml"))
            .count();
        assert_eq!(
            found.len(),
            naive,
            "{name}: the fence scanner found {} TOML examples, but {naive} lines open a ```toml block",
            found.len()
        );
        scenarios += found.iter().filter(|e| e.kind == Kind::Scenario).count();
        failures.extend(check(&name, &found, scratch.path()));
    }
    assert!(
        failures.is_empty(),
        "{} doc example(s) broken:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The scenario format page shows whole scenarios; if it stopped doing so
    // (or moved), this test would check nothing that matters.
    assert!(
        scenarios >= 2,
        "expected at least two whole-scenario examples in the docs, found {scenarios}"
    );
}

#[test]
fn the_scenario_format_page_has_whole_and_fragment_examples() {
    let text = std::fs::read_to_string(repo().join("docs/scenario-format.md")).unwrap();
    let found = examples(&text).unwrap();
    let kinds: Vec<(usize, &Kind)> = found.iter().map(|e| (e.line, &e.kind)).collect();
    assert!(
        kinds.iter().any(|(_, k)| **k == Kind::Scenario),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(_, k)| **k == Kind::Fragment),
        "{kinds:?}"
    );
}

/// The checker itself can fail, and says where: a broken whole scenario (the
/// old README example: `idle_timeout_ms` on a UDP target), a fragment that is
/// not TOML, and an unclosed block.
#[test]
fn a_broken_example_is_reported_with_its_doc_and_line() {
    let md = r#"# t

```toml
name = "x"
summary = "y"
actors = ["a"]
[target]
proto = "udp"
idle_timeout_ms = 300
[[steps]]
actor = "a"
op = "send"
bytes = 1
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
```

```toml fragment
[expect.naive
```

````md
```toml
not = [toml
```
````
"#;
    let found = examples(md).unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].line, &found[0].kind), (3, &Kind::Scenario));
    assert_eq!((found[1].line, &found[1].kind), (20, &Kind::Fragment));
    let scratch = tempfile::tempdir().unwrap();
    let failures = check("fake.md", &found, scratch.path());
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].starts_with("fake.md:3: "), "{}", failures[0]);
    assert!(failures[0].contains("idle_timeout_ms"), "{}", failures[0]);
    assert!(failures[1].starts_with("fake.md:20: "), "{}", failures[1]);

    // The same scenario without the TCP-only key passes.
    let fixed = md.replace("idle_timeout_ms = 300\n", "");
    let found = examples(&fixed).unwrap();
    assert_eq!(
        check("fake.md", &found[..1], scratch.path()),
        Vec::<String>::new()
    );

    assert!(examples("```toml\nname = \"x\"\n").is_err());
    assert!(examples("```toml fragmnet\n```\n").is_err());
}

/// Every repository path the docs name in backticks (`harness/...`,
/// `scenarios/...`, `ci/...`, with `{a,b}` alternatives expanded) exists, so
/// the README's "where to look first" table cannot go stale after a move.
#[test]
fn every_code_path_the_docs_name_exists() {
    let root = repo();
    let mut checked = 0;
    let mut missing = Vec::new();
    for doc in docs() {
        let text = std::fs::read_to_string(root.join(&doc)).unwrap();
        for (i, line) in text.lines().enumerate() {
            for (n, span) in line.split('`').enumerate() {
                // Odd pieces are inside backticks.
                let looks_like_path = ["harness/", "scenarios/", "ci/", "examples/", "docs/"]
                    .iter()
                    .any(|p| span.starts_with(p))
                    && !span.contains(' ')
                    && !span.contains('*')
                    && !span.contains('<');
                if n % 2 == 0 || !looks_like_path {
                    continue;
                }
                for path in expand_braces(span) {
                    checked += 1;
                    if !root.join(&path).exists() {
                        missing.push(format!("{}:{}: {path}", doc.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} paths found: the scan is broken"
    );
    assert!(
        missing.is_empty(),
        "paths named in the docs do not exist:\n{}",
        missing.join("\n")
    );
}

/// `a/{b,c}.rs` -> `a/b.rs`, `a/c.rs` (one level of braces).
fn expand_braces(s: &str) -> Vec<String> {
    match (s.find('{'), s.find('}')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b]
            .split(',')
            .map(|alt| format!("{}{}{}", &s[..a], alt, &s[b + 1..]))
            .collect(),
        _ => vec![s.to_owned()],
    }
}

#[test]
fn braces_expand_to_each_alternative() {
    assert_eq!(expand_braces("a/{b,c}.rs"), ["a/b.rs", "a/c.rs"]);
    assert_eq!(expand_braces("a/b.rs"), ["a/b.rs"]);
}

/// The Rust test file shown in docs/reproduce.md ("In your own cargo
/// tests") is not compiled from the doc; it is the example crate's file,
/// which is. The two must be identical.
#[test]
fn the_cargo_test_file_in_the_docs_is_the_example_crates_file() {
    let doc = std::fs::read_to_string(repo().join("docs/reproduce.md")).unwrap();
    let file = std::fs::read_to_string(repo().join("examples/echo-server/tests/netrepro.rs"))
        .unwrap()
        .replace("\r\n", "\n");
    let section = doc
        .split("\n## In your own cargo tests\n")
        .nth(1)
        .expect("docs/reproduce.md has a section \"In your own cargo tests\"");
    let block = section
        .split("\n```rust\n")
        .nth(1)
        .and_then(|b| b.split("\n```\n").next())
        .expect("the section has a ```rust block");
    assert_eq!(
        format!("{block}\n"),
        file,
        "docs/reproduce.md's ```rust block differs from examples/echo-server/tests/netrepro.rs"
    );
}
