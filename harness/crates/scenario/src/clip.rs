//! Shortening values quoted in scenario errors. A message quotes what the
//! file said (`unknown op "…"`); a value can be as large as the file (a
//! 50 MB value used to be echoed whole), so each quoted run is cut to
//! [`MAX_QUOTED_CHARS`] characters with a count of what was left out, and
//! the whole message to [`MAX_MESSAGE_CHARS`].

/// Characters kept of one `"…"` or `` `…` `` quoted value.
pub const MAX_QUOTED_CHARS: usize = 80;
/// Characters kept of a whole message (a backstop for unquoted text).
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// `msg` with every quoted run longer than [`MAX_QUOTED_CHARS`] cut to that
/// many characters plus `…`, then ` (N more characters)` after the closing
/// quote; an unclosed quote runs to the end of the message.
pub fn clip_quoted(msg: &str) -> String {
    let chars: Vec<char> = msg.chars().collect();
    let mut out = String::with_capacity(msg.len().min(MAX_MESSAGE_CHARS * 4));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c != '"' && c != '`' {
            continue;
        }
        // Find the closing quote, skipping backslash escapes.
        let start = i;
        let mut j = i;
        while j < chars.len() && chars[j] != c {
            j += if chars[j] == '\\' { 2 } else { 1 };
        }
        let end = j.min(chars.len());
        let len = end - start;
        if len > MAX_QUOTED_CHARS {
            out.extend(&chars[start..start + MAX_QUOTED_CHARS]);
            out.push('…');
            if end < chars.len() {
                out.push(c);
            }
            out.push_str(&format!(" ({} more characters)", len - MAX_QUOTED_CHARS));
        } else {
            out.extend(&chars[start..end]);
            if end < chars.len() {
                out.push(c);
            }
        }
        i = end + 1;
    }
    let total = out.chars().count();
    if total > MAX_MESSAGE_CHARS {
        let mut cut: String = out.chars().take(MAX_MESSAGE_CHARS).collect();
        cut.push_str(&format!(
            "… ({} more characters)",
            total - MAX_MESSAGE_CHARS
        ));
        return cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_quotes_are_kept_and_long_ones_cut_with_a_count() {
        assert_eq!(
            clip_quoted("unknown op \"x\" here"),
            "unknown op \"x\" here"
        );
        let long = "a".repeat(MAX_QUOTED_CHARS + 5);
        let got = clip_quoted(&format!("bad \"{long}\" end"));
        let want = format!(
            "bad \"{}…\" (5 more characters) end",
            "a".repeat(MAX_QUOTED_CHARS)
        );
        assert_eq!(got, want);
    }

    #[test]
    fn unclosed_and_escaped_quotes_stay_bounded() {
        let long = "b\\\"".repeat(MAX_QUOTED_CHARS);
        let got = clip_quoted(&format!("x `{long}"));
        assert!(got.chars().count() < MAX_QUOTED_CHARS + 40, "{got}");
        assert!(
            got.starts_with("x `bb\\\"") || got.starts_with("x `b\\\"b"),
            "{got}"
        );
        // A trailing lone backslash inside a quote does not run off the end.
        assert_eq!(clip_quoted("\"a\\"), "\"a\\");
    }

    #[test]
    fn the_whole_message_is_capped() {
        let got = clip_quoted(&"w ".repeat(MAX_MESSAGE_CHARS));
        assert!(got.chars().count() < MAX_MESSAGE_CHARS + 40);
    }
}
