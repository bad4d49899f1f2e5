//! toml's and serde's errors in a scenario author's words (`unknown key
//! "x" in [target]; expected one of: …`, `wrong type for "bytes" in
//! [[steps]]: expected a non-negative integer, found string …`), located at
//! the span toml reports.

use super::raw::TOP_LEVEL_KEYS;
use crate::error::{located, ScenarioError};
use std::fmt;
use std::path::Path;

/// The key path toml attached to a deserialization error (e.g. `expect.naive`).
/// toml 0.9 only exposes it through `Display` when the input is detached, as a
/// trailing "in `a.b`" line; if that format ever changes we just lose context.
fn error_keys(err: &toml::de::Error) -> Vec<String> {
    let mut e = err.clone();
    e.set_input(None);
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("in `").and_then(|r| r.strip_suffix('`')))
        .map(|k| k.split('.').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The table a key is in, as an error names it: `at the top level`,
/// `in [[steps]]`, `in [expect.naive]`.
#[derive(Debug)]
struct Table(Vec<String>);

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("at the top level"),
            [k] if k == "steps" => f.write_str("in [[steps]]"),
            keys => write!(f, "in [{}]", keys.join(".")),
        }
    }
}

/// A key and the table it is in.
#[derive(Debug)]
struct Key {
    name: String,
    table: Table,
}

impl Key {
    /// The last of toml's key path, in the table of the ones before it.
    fn last_of(keys: &[String]) -> Option<Key> {
        keys.split_last().map(|(k, parent)| Key {
            name: k.clone(),
            table: Table(parent.to_vec()),
        })
    }
}

/// The keys a table takes, as serde listed them (without its backquotes).
#[derive(Debug)]
enum KnownKeys {
    OneOf(String),
    Only(String),
    Unsaid,
}

impl fmt::Display for KnownKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnownKeys::OneOf(l) => write!(f, "; expected one of: {l}"),
            KnownKeys::Only(l) => write!(f, "; expected: {l}"),
            KnownKeys::Unsaid => Ok(()),
        }
    }
}

/// serde's three ways a value can be wrong.
#[derive(Debug, Clone, Copy)]
enum Fault {
    WrongType,
    InvalidValue,
    InvalidLength,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::WrongType => "wrong type",
            Fault::InvalidValue => "invalid value",
            Fault::InvalidLength => "invalid length",
        })
    }
}

/// What serde found wrong, in a scenario author's words.
#[derive(Debug, thiserror::Error)]
enum TomlProblem {
    /// `misplaced`: the key is a top-level one written after a `[table]`
    /// header, so TOML put it in that table.
    #[error(
        "unknown key \"{key}\" {table}{known}{}",
        if *.misplaced { " (top-level keys must come before the first [table] header)" } else { "" }
    )]
    UnknownKey {
        key: String,
        table: Table,
        known: KnownKeys,
        misplaced: bool,
    },
    /// `expected` and `found` in the author's words (`friendly`).
    #[error("{fault}{}: expected {expected}, found {found}", for_key(.key))]
    BadValue {
        fault: Fault,
        key: Option<Key>,
        expected: String,
        found: String,
    },
    /// Anything else serde says, in its words.
    #[error("{message}{}", of_key(.key))]
    Other { message: String, key: Option<Key> },
}

/// ` for "k" in [t]`, or nothing without a key.
fn for_key(key: &Option<Key>) -> String {
    key.as_ref().map_or(String::new(), |k| {
        format!(" for \"{}\" {}", k.name, k.table)
    })
}

/// ` (key "k" in [t])`, or nothing without a key.
fn of_key(key: &Option<Key>) -> String {
    key.as_ref().map_or(String::new(), |k| {
        format!(" (key \"{}\" {})", k.name, k.table)
    })
}

/// serde's type words -> words a scenario author uses.
fn friendly(s: &str) -> String {
    let t = s.trim();
    if t == "u64" || t == "u32" || t == "usize" {
        return "a non-negative integer".to_owned();
    }
    if t.starts_with("struct Raw") || t == "a map" {
        return "a table".to_owned();
    }
    if t == "a sequence" {
        return "an array".to_owned();
    }
    if t == "sequence" {
        return "an array".to_owned();
    }
    if t == "map" {
        return "a table".to_owned();
    }
    t.to_owned()
}

/// "`a`, `b`" -> "a, b"
fn unquote_list(s: &str) -> String {
    s.replace('`', "")
}

/// Rewrite a toml deserialization error into our wording.
pub(super) fn de_error(src: &str, path: &Path, err: &toml::de::Error) -> ScenarioError {
    let offset = err.span().map_or(0, |s| s.start);
    let keys = error_keys(err);
    let msg = err.message().trim();
    let problem = if let Some(rest) = msg.strip_prefix("unknown field `") {
        // unknown field `x`, expected one of `a`, `b` | expected `a` | there are no fields
        let (key, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let tail = tail.trim_start_matches(',').trim();
        let known = if let Some(l) = tail.strip_prefix("expected one of ") {
            KnownKeys::OneOf(unquote_list(l))
        } else if let Some(l) = tail.strip_prefix("expected ") {
            KnownKeys::Only(unquote_list(l))
        } else {
            KnownKeys::Unsaid
        };
        TomlProblem::UnknownKey {
            key: key.to_owned(),
            misplaced: !keys.is_empty() && TOP_LEVEL_KEYS.contains(&key),
            table: Table(keys),
            known,
        }
    } else if let Some((fault, rest)) = msg
        .strip_prefix("invalid type: ")
        .map(|r| (Fault::WrongType, r))
        .or_else(|| {
            msg.strip_prefix("invalid value: ")
                .map(|r| (Fault::InvalidValue, r))
        })
        .or_else(|| {
            msg.strip_prefix("invalid length ")
                .map(|r| (Fault::InvalidLength, r))
        })
    {
        let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
        TomlProblem::BadValue {
            fault,
            key: Key::last_of(&keys),
            expected: friendly(expected),
            found: friendly(found),
        }
    } else {
        TomlProblem::Other {
            message: msg.to_owned(),
            key: Key::last_of(&keys),
        }
    };
    located(src, path, offset, problem)
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::{assert_located, with_head, HEAD};
    use rstest::rstest;

    #[rstest]
    #[case::unknown_top_level_key(
        "name = \"x\"\nsummery = \"y\"\n".to_string(), 2, 1, "unknown key \"summery\" at the top level")]
    #[case::unknown_key_in_target(
        "name = \"x\"\n[target]\n  protoo = \"tcp\"\n".to_string(), 3, 3, "unknown key \"protoo\" in [target]; expected one of: proto")]
    #[case::unknown_key_in_step(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nhwo = \"x\"\n"),
        9,
        1,
        "unknown key \"hwo\" in [[steps]]"
    )]
    #[case::unknown_key_in_expect(
        format!("{HEAD}actors = [\"a\"]\n[expect.naive]\nserverr = \"crashed\"\n"), 7, 1, "unknown key \"serverr\" in [expect.naive]")]
    #[case::unknown_key_in_os_override(
        format!("{HEAD}[expect.naive.linux]\nserver = \"hung\"\nsteps_ = 1\n"), 7, 1, "unknown key \"steps_\" in [expect.naive.linux]")]
    #[case::top_level_key_after_table(
        format!("{HEAD}steps = []\n"), 5, 1, "(top-level keys must come before the first [table] header)")]
    #[case::unknown_os(
        format!("{HEAD}[expect.naive.freebsd]\nserver = \"hung\"\n"), 5, 15, "unknown key \"freebsd\" in [expect.naive]")]
    #[case::wrong_type(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = \"ten\"\n"),
        9,
        9,
        "expected a non-negative integer, found string \"ten\""
    )]
    #[case::negative_integer(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = -1\n"),
        9,
        9,
        "for \"bytes\" in [[steps]]: expected a non-negative integer"
    )]
    #[case::server_wrong_type(
        format!("{HEAD}[expect.naive]\nserver = 3\n"), 6, 10, "expected a string or an array of strings, found integer")]
    #[case::unknown_key_in_block_step(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nactor = \"a\"\nopp = \"connect\"\n"), 10, 1, "unknown key \"opp\"")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
