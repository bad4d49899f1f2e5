//! What the parse modules' unit tests share: a minimal valid head and tail
//! to wrap a fragment in, and the check that an error is reported at the
//! expected line and column. Every test goes through `parse_str`, so the
//! positions are those a user sees.

use super::parse_str;
use std::path::PathBuf;

pub(super) const HEAD: &str = "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\n";
pub(super) const TAIL: &str =
    "[expect.naive]\nserver = \"crashed\"\n[expect.hardened]\nserver = \"survived\"\n";
const UDP_HEAD: &str = "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\n";

pub(super) fn p() -> PathBuf {
    PathBuf::from("s.toml")
}

/// A TCP scenario with `middle` between its target and its expectations.
pub(super) fn with_head(middle: &str) -> String {
    format!("{HEAD}{middle}{TAIL}")
}

/// A UDP scenario with `middle` between its target and its expectations.
pub(super) fn with_udp_head(middle: &str) -> String {
    format!("{UDP_HEAD}{middle}{TAIL}")
}

/// `src` fails to parse with an error at `line`:`column` whose message
/// contains `phrase`.
pub(super) fn assert_located(src: &str, line: usize, column: usize, phrase: &str) {
    let err = parse_str(src, &p()).unwrap_err();
    assert!(
        err.message.contains(phrase),
        "message {:?} lacks {phrase:?}",
        err.message
    );
    assert_eq!(
        (err.line, err.column),
        (line, column),
        "at wrong place: {err}"
    );
    assert!(err
        .to_string()
        .starts_with(&format!("s.toml:{line}:{column}: ")));
}
