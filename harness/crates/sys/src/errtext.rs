//! Error codes a server printed as text. An unmodified server that dies of an
//! unhandled exception says which OS error killed it on stderr; this module
//! recognises the common spellings of that error code in one line of output
//! and maps them to raw code + OS name + class with the tables in
//! [`crate::errors`]. It reads codes, never message text:
//!
//! | spelling (example)                      | runtime | raw code is              |
//! |-----------------------------------------|---------|--------------------------|
//! | `[Errno 104] Connection reset by peer`  | Python  | the host's errno         |
//! | `[WinError 10054] ...`                  | Python  | a Windows (WSA/Win32) code |
//! | `(os error 104)`                        | Rust    | the host's code          |
//! | `code: 'ECONNRESET'`                    | Node    | the host's code of that name |
//! | `Error: read ECONNRESET`                | Node    | the host's code of that name |
//! | `errno: -104`                           | Node    | -errno, Unix hosts only  |
//!
//! Node's `errno` is libuv's error number: "on Unix error codes are the
//! negated errno, while on Windows they are defined by libuv to arbitrary
//! negative numbers" (<https://docs.libuv.org/en/v1.x/errors.html>), so it is
//! read only on Unix hosts; on Windows the `code:` line of the same error
//! gives its name. A symbolic name such as `ECONNRESET` maps to this OS's raw
//! code (on Windows, the Winsock `WSAECONNRESET` 10054, which libuv reports
//! as `ECONNRESET`). Python's `[Errno N]` on Windows is a C-runtime errno,
//! not a Winsock code, unless N is in the Winsock range (>= 10000), so
//! smaller numbers are not read there.
//!
//! Bounded: at most [`MAX_MATCHES_PER_LINE`] matches per line, in one pass
//! over the line, for any input.

use crate::errors::{self, ErrorClass, ObservedError};
use crate::platform::Os;

/// Matches kept from one line; a line that names more is not a crash report.
pub const MAX_MATCHES_PER_LINE: usize = 4;

/// One error code recognised in a line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub error: ObservedError,
    /// The failing call, when the text names it (Node's `Error: read ECONNRESET`).
    pub op: Option<String>,
}

/// Every error code spelled in `line` by a program running on `host`, in
/// order of appearance, at most [`MAX_MATCHES_PER_LINE`], duplicates removed.
pub fn recognise(line: &str, host: Os) -> Vec<TextError> {
    let mut found: Vec<(usize, TextError)> = Vec::new();
    let mut add = |at: usize, e: Option<TextError>| {
        if let Some(e) = e {
            found.push((at, e));
        }
    };
    for at in positions(line, "[Errno ") {
        add(at, errno_number(line, at + 7, host));
    }
    for at in positions(line, "[WinError ") {
        let n = leading_number(&line[at + 10..]).filter(|_| line[at + 10..].contains(']'));
        add(at, n.and_then(|n| by_raw(Os::Windows, n, None)));
    }
    for at in positions(line, "(os error ") {
        let n = leading_number(&line[at + 10..]);
        add(at, n.and_then(|n| by_raw(host, n, None)));
    }
    for at in positions(line, "code: ") {
        add(
            at,
            quoted_name(&line[at + 6..]).and_then(|n| by_name(host, n, None)),
        );
    }
    for at in positions(line, "errno: -") {
        if host != Os::Windows {
            let n = leading_number(&line[at + 8..]);
            add(at, n.and_then(|n| by_raw(host, n, None)));
        }
    }
    for at in positions(line, "Error: ") {
        add(at, node_message(&line[at + 7..], host));
    }
    found.sort_by_key(|(at, _)| *at);
    let mut out: Vec<TextError> = Vec::new();
    for (_, e) in found {
        if out.len() == MAX_MATCHES_PER_LINE {
            break;
        }
        if !out.iter().any(|o| o.error == e.error) {
            out.push(e);
        }
    }
    out
}

/// Byte offsets of `pat` in `s` (bounded by the line's length).
fn positions<'a>(s: &'a str, pat: &'a str) -> impl Iterator<Item = usize> + 'a {
    s.match_indices(pat).map(|(i, _)| i)
}

/// Decimal digits at the start of `s` (at most 9, so it fits an i32).
fn leading_number(s: &str) -> Option<i32> {
    let digits: &str = &s[..s.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.parse().ok()
}

/// Python's `[Errno N]`: the host's errno (on Windows only Winsock codes).
fn errno_number(line: &str, from: usize, host: Os) -> Option<TextError> {
    let rest = &line[from..];
    let n = leading_number(rest)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if rest.as_bytes().get(digits) != Some(&b']') {
        return None;
    }
    if host == Os::Windows && n < 10_000 {
        return None;
    }
    by_raw(host, n, None)
}

/// `'ECONNRESET'` or `"ECONNRESET"` at the start of `s`.
fn quoted_name(s: &str) -> Option<&str> {
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some(&body[..end])
}

/// Node's system-error message `<syscall> <CODE>[ ...]`, e.g. `read ECONNRESET`.
fn node_message(s: &str, host: Os) -> Option<TextError> {
    let mut words = s.splitn(3, ' ');
    let syscall = words.next()?;
    let code = words.next()?;
    let code = code.trim_end_matches([',', ':']);
    if syscall.is_empty()
        || syscall.len() > 32
        || !syscall.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return None;
    }
    by_name(host, code, Some(syscall))
}

/// A raw code of `os`; an unknown number is kept with a generic name (as
/// [`errors::observe`] does), since the number itself is the evidence.
fn by_raw(os: Os, raw: i32, op: Option<&str>) -> Option<TextError> {
    if raw == 0 {
        return None;
    }
    let (name, class) = match errors::lookup(os, raw) {
        Some((n, c)) => (n.to_string(), c),
        None => (format!("OS_ERROR_{raw}"), ErrorClass::Other),
    };
    Some(TextError {
        error: ObservedError {
            raw: Some(raw),
            name,
            class,
        },
        op: op.map(str::to_string),
    })
}

/// A symbolic name (`ECONNRESET`) as the host reports it; names the tables
/// do not know (Node's own `ERR_*` codes) are not OS errors and are skipped.
fn by_name(host: Os, name: &str, op: Option<&str>) -> Option<TextError> {
    if !name.starts_with('E') || name.len() > 32 {
        return None;
    }
    let (raw, canonical, class) = errors::lookup_name(host, name)?;
    Some(TextError {
        error: ObservedError {
            raw: Some(raw),
            name: canonical.to_string(),
            class,
        },
        op: op.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(line: &str, os: Os) -> Vec<(Option<i32>, String, ErrorClass)> {
        recognise(line, os)
            .into_iter()
            .map(|e| (e.error.raw, e.error.name, e.error.class))
            .collect()
    }

    #[test]
    fn python_errno_is_the_hosts_number() {
        let l = "ConnectionResetError: [Errno 104] Connection reset by peer";
        assert_eq!(
            names(l, Os::Linux),
            vec![(Some(104), "ECONNRESET".into(), ErrorClass::Reset)]
        );
        // The same text from a macOS host: 104 is not ECONNRESET there.
        assert_eq!(names(l, Os::Macos)[0].1, "OS_ERROR_104");
        assert_eq!(
            names(
                "ConnectionResetError: [Errno 54] Connection reset by peer",
                Os::Macos
            ),
            vec![(Some(54), "ECONNRESET".into(), ErrorClass::Reset)]
        );
        // On Windows a small Errno is a C-runtime errno, not read.
        assert!(names("OSError: [Errno 22] Invalid argument", Os::Windows).is_empty());
        assert_eq!(
            names("OSError: [Errno 10054] An existing connection", Os::Windows)[0].1,
            "WSAECONNRESET"
        );
        // Not the pattern: no closing bracket right after the digits.
        assert!(names("[Errno 104x]", Os::Linux).is_empty());
    }

    #[test]
    fn python_winerror_is_a_windows_code_on_any_host() {
        let l = "ConnectionResetError: [WinError 10054] An existing connection was forcibly closed by the remote host";
        for os in [Os::Windows, Os::Linux] {
            assert_eq!(
                names(l, os),
                vec![(Some(10054), "WSAECONNRESET".into(), ErrorClass::Reset)]
            );
        }
        assert_eq!(
            names(
                "OSError: [WinError 1234] No service is operating",
                Os::Windows
            )[0]
            .1,
            "ERROR_PORT_UNREACHABLE"
        );
    }

    #[test]
    fn rust_os_error() {
        let l = "thread 'main' panicked at src/main.rs:9:43:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" }";
        // The Debug form has no spelling we read ...
        assert!(names(l, Os::Linux).is_empty());
        // ... the Display form does.
        assert_eq!(
            names("Error: Connection reset by peer (os error 104)", Os::Linux),
            vec![(Some(104), "ECONNRESET".into(), ErrorClass::Reset)]
        );
        assert_eq!(
            names("recv failed: (os error 10054)", Os::Windows)[0].1,
            "WSAECONNRESET"
        );
    }

    #[test]
    fn node_code_errno_and_message() {
        assert_eq!(
            names("  code: 'ECONNRESET',", Os::Linux),
            vec![(Some(104), "ECONNRESET".into(), ErrorClass::Reset)]
        );
        assert_eq!(names("  code: 'ECONNRESET',", Os::Macos)[0].0, Some(54));
        assert_eq!(
            names("  code: 'ECONNRESET',", Os::Windows),
            vec![(Some(10054), "WSAECONNRESET".into(), ErrorClass::Reset)]
        );
        assert_eq!(
            names("  errno: -104,", Os::Linux),
            vec![(Some(104), "ECONNRESET".into(), ErrorClass::Reset)]
        );
        // libuv's Windows numbers are not OS codes: not read.
        assert!(names("  errno: -4077,", Os::Windows).is_empty());
        let e = recognise("Error: read ECONNRESET", Os::Linux);
        assert_eq!(e[0].error.raw, Some(104));
        assert_eq!(e[0].op.as_deref(), Some("read"));
        assert_eq!(
            recognise("Error: connect ECONNREFUSED 127.0.0.1:9", Os::Linux)[0]
                .error
                .name,
            "ECONNREFUSED"
        );
        // Node's own error codes are not OS errors.
        assert!(names("  code: 'ERR_STREAM_DESTROYED'", Os::Linux).is_empty());
        assert!(names("Error: Cannot find module 'x'", Os::Linux).is_empty());
    }

    #[test]
    fn one_line_many_spellings_are_one_error_each_and_bounded() {
        let l = "[Errno 104] (os error 104) code: 'ECONNRESET' errno: -104";
        assert_eq!(names(l, Os::Linux).len(), 1);
        let many = "[Errno 104] [Errno 32] [Errno 111] [Errno 110] [Errno 113] [Errno 24]";
        let got = names(many, Os::Linux);
        assert_eq!(got.len(), MAX_MATCHES_PER_LINE);
        assert_eq!(got[0].0, Some(104));
        assert_eq!(got[1].0, Some(32));
    }

    #[test]
    fn plain_text_is_not_an_error() {
        for l in [
            "",
            "Serving on 127.0.0.1:9000",
            "connection reset by peer",
            "[Errno ]",
            "(os error 99999999999999)",
            "code: ",
            "errno: -",
        ] {
            assert!(names(l, Os::Linux).is_empty(), "{l:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_is_bounded(s in ".{0,400}") {
            for os in [Os::Linux, Os::Windows, Os::Macos] {
                prop_assert!(recognise(&s, os).len() <= MAX_MATCHES_PER_LINE);
            }
        }

        #[test]
        fn spellings_glued_into_noise_never_panic(
            pre in ".{0,40}",
            pat in prop::sample::select(vec!["[Errno ", "[WinError ", "(os error ", "code: ", "errno: -", "Error: "]),
            post in ".{0,40}",
        ) {
            let l = format!("{pre}{pat}{post}");
            for os in [Os::Linux, Os::Windows, Os::Macos] {
                prop_assert!(recognise(&l, os).len() <= MAX_MATCHES_PER_LINE);
            }
        }
    }
}
