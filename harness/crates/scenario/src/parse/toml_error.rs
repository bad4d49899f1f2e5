//! toml's and serde's errors in a scenario author's words (`unknown key
//! "x" in [target]; expected one of: …`, `wrong type for "bytes" in
//! [[steps]]: expected a non-negative integer, found string …`), located at
//! the span toml reports.

use super::raw::TOP_LEVEL_KEYS;
use crate::error::{located, ScenarioError};
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

/// `in [expect.naive]`, `in [[steps]]`, `at the top level`.
fn table_name(keys: &[String]) -> String {
    match keys {
        [] => "at the top level".to_owned(),
        [k] if k == "steps" => "in [[steps]]".to_owned(),
        _ => format!("in [{}]", keys.join(".")),
    }
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
    let message = if let Some(rest) = msg.strip_prefix("unknown field `") {
        // unknown field `x`, expected one of `a`, `b` | expected `a` | there are no fields
        let (key, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let tail = tail.trim_start_matches(',').trim();
        let expected = if let Some(l) = tail.strip_prefix("expected one of ") {
            format!("; expected one of: {}", unquote_list(l))
        } else if let Some(l) = tail.strip_prefix("expected ") {
            format!("; expected: {}", unquote_list(l))
        } else {
            String::new()
        };
        let hint = if !keys.is_empty() && TOP_LEVEL_KEYS.contains(&key) {
            " (top-level keys must come before the first [table] header)"
        } else {
            ""
        };
        format!(
            "unknown key \"{key}\" {}{expected}{hint}",
            table_name(&keys)
        )
    } else if let Some((kind, rest)) = msg
        .strip_prefix("invalid type: ")
        .map(|r| ("wrong type", r))
        .or_else(|| {
            msg.strip_prefix("invalid value: ")
                .map(|r| ("invalid value", r))
        })
        .or_else(|| {
            msg.strip_prefix("invalid length ")
                .map(|r| ("invalid length", r))
        })
    {
        let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
        let what = match keys.split_last() {
            Some((k, parent)) => format!(" for \"{k}\" {}", table_name(parent)),
            None => String::new(),
        };
        format!(
            "{kind}{what}: expected {}, found {}",
            friendly(expected),
            friendly(found)
        )
    } else {
        let what = match keys.split_last() {
            Some((k, parent)) => format!(" (key \"{k}\" {})", table_name(parent)),
            None => String::new(),
        };
        format!("{msg}{what}")
    };
    located(src, path, offset, message)
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
