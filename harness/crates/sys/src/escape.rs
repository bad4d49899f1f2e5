//! Text from files and targets (scenario names and summaries, server event
//! names, a target's stderr, report files) reaches people's terminals and
//! Markdown pages. One escaping function per medium, used everywhere
//! (issue 11.3): nothing from outside may send an ANSI/OSC escape sequence
//! to a terminal, break a table row, or open markup in Markdown. HTML (maud)
//! and the JSON-based formats escape on their own.
//!
//! A control character is written as a visible escape (`\n`, `\r`, `\t`,
//! `\u{1b}`), so the reader still sees that something was there. Besides
//! the Unicode control characters (C0, DEL, C1) this covers the
//! bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069),
//! which reorder what a terminal shows ("Trojan Source", CVE-2021-42574).

use std::borrow::Cow;

/// Must `c` be shown escaped?
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

fn escape_where(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) && !keep(c) {
            escaped(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One field on a terminal line (a table cell, a name, a message): every
/// control character escaped, line breaks included, so the field stays on
/// its line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_where(s, |_| false)
}

/// Whole lines of terminal output: as [`terminal`], but the line breaks
/// between lines (`\n`) stay. Every line the commands print goes through
/// this (`output::write`), the last guard for text nobody escaped.
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c == '\n')
}

/// One piece of text inside Markdown (a table cell, a heading, a list item):
/// control characters escaped as for the terminal, then every character
/// that could open markup, a link, raw HTML or a new table cell is
/// backslash-escaped (CommonMark lets any ASCII punctuation be escaped).
pub fn markdown(s: &str) -> String {
    let s = terminal(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '~'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A relative path as a Markdown link target: percent-encoded except for
/// unreserved characters and `/`, so no path can end the link or add a
/// title or markup.
pub fn markdown_url(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn has_unsafe(s: &str, allow_newline: bool) -> bool {
        s.chars()
            .any(|c| unsafe_char(c) && !(allow_newline && c == '\n'))
    }

    #[test]
    fn escapes_are_visible() {
        assert_eq!(
            terminal("a\u{1b}]8;;x\u{7}b\nc"),
            "a\\u{1b}]8;;x\\u{7}b\\nc"
        );
        assert_eq!(terminal_lines("a\nb\r\u{9b}"), "a\nb\\r\\u{9b}");
        assert_eq!(terminal("\u{202e}evil"), "\\u{202e}evil");
        assert!(matches!(terminal("plain – ✅"), Cow::Borrowed(_)));
        assert_eq!(
            markdown("a|b<img src=x>[l](u)"),
            "a\\|b\\<img src=x\\>\\[l\\](u)"
        );
        assert_eq!(markdown_url("udp/a b)(.toml"), "udp/a%20b%29%28.toml");
    }

    proptest! {
        #[test]
        fn no_raw_control_character_survives(s in any::<String>()) {
            prop_assert!(!has_unsafe(&terminal(&s), false));
            prop_assert!(!has_unsafe(&terminal_lines(&s), true));
            prop_assert_eq!(terminal_lines(&s).lines().count(), s.lines().count());
            let md = markdown(&s);
            prop_assert!(!has_unsafe(&md, false));
            // Every markup character is escaped: removing the escaped pairs
            // leaves none.
            let mut it = md.chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    it.next();
                    continue;
                }
                prop_assert!(!"|<>[]`*_".contains(c), "{md:?}");
            }
            let url = markdown_url(&s);
            prop_assert!(url.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)));
        }
    }
}
