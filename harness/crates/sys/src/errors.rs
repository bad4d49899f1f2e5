//! Raw OS error code -> OS-specific name -> portable class, for Linux,
//! Windows and macOS. Keyed on `raw_os_error()`, never on message text or
//! `io::ErrorKind` (std maps WSAEMSGSIZE, 1234, 64 ... to `Uncategorized`).
//!
//! One rule decides a class: **a code has one class, the one its own name
//! says, whatever event caused it and whatever the socket type.** The ICMP
//! port unreachable after a UDP send is the case that tests the rule:
//! Windows reports it on a plain `recvfrom` (what mio, tokio and std call) as
//! WSAECONNRESET 10054, class `reset`, the same code and class as a TCP RST
//! (Microsoft's recvfrom docs, WSAECONNRESET: "For a UDP datagram socket,
//! this error would indicate that a previous send operation resulted in an
//! ICMP Port Unreachable message"); only IOCP completions (CPython's
//! proactor, gh-91227) report it as ERROR_PORT_UNREACHABLE 1234, class
//! `refused` like Linux's ECONNREFUSED for the same event. So a scenario about
//! a server built on mio expects `reset` on Windows, and one that accepts
//! either delivery lists the codes by name rather than both classes.

use crate::platform::Os;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;

/// Portable class of a socket error: what a scenario expectation usually
/// names, so one expectation reads the same on every OS.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    Reset,
    Aborted,
    Refused,
    BrokenPipe,
    TimedOut,
    Unreachable,
    MessageSize,
    NetReset,
    NotConnected,
    Shutdown,
    ResourceExhausted,
    AddrInUse,
    AddrNotAvailable,
    Interrupted,
    WouldBlock,
    InvalidInput,
    BadDescriptor,
    Other,
}

/// An error as observed on either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObservedError {
    /// Raw OS code (errno, WSA code or Win32 code); `None` for errors that
    /// did not come from the OS.
    pub raw: Option<i32>,
    /// OS-specific name, e.g. `ECONNRESET`, `WSAECONNRESET`, `ERROR_PORT_UNREACHABLE`.
    pub name: String,
    pub class: ErrorClass,
}

impl ErrorClass {
    /// Every class, in declaration order.
    pub const ALL: [ErrorClass; 18] = [
        ErrorClass::Reset,
        ErrorClass::Aborted,
        ErrorClass::Refused,
        ErrorClass::BrokenPipe,
        ErrorClass::TimedOut,
        ErrorClass::Unreachable,
        ErrorClass::MessageSize,
        ErrorClass::NetReset,
        ErrorClass::NotConnected,
        ErrorClass::Shutdown,
        ErrorClass::ResourceExhausted,
        ErrorClass::AddrInUse,
        ErrorClass::AddrNotAvailable,
        ErrorClass::Interrupted,
        ErrorClass::WouldBlock,
        ErrorClass::InvalidInput,
        ErrorClass::BadDescriptor,
        ErrorClass::Other,
    ];

    /// Kebab-case name used in scenario files and reports (`"broken-pipe"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Reset => "reset",
            ErrorClass::Aborted => "aborted",
            ErrorClass::Refused => "refused",
            ErrorClass::BrokenPipe => "broken-pipe",
            ErrorClass::TimedOut => "timed-out",
            ErrorClass::Unreachable => "unreachable",
            ErrorClass::MessageSize => "message-size",
            ErrorClass::NetReset => "net-reset",
            ErrorClass::NotConnected => "not-connected",
            ErrorClass::Shutdown => "shutdown",
            ErrorClass::ResourceExhausted => "resource-exhausted",
            ErrorClass::AddrInUse => "addr-in-use",
            ErrorClass::AddrNotAvailable => "addr-not-available",
            ErrorClass::Interrupted => "interrupted",
            ErrorClass::WouldBlock => "would-block",
            ErrorClass::InvalidInput => "invalid-input",
            ErrorClass::BadDescriptor => "bad-descriptor",
            ErrorClass::Other => "other",
        }
    }

    /// Parse a kebab-case class name.
    pub fn from_name(name: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use ErrorClass::*;

/// Linux errno values (asm-generic/errno*.h, x86_64 / aarch64).
const LINUX: &[(i32, &str, ErrorClass)] = &[
    (1, "EPERM", Other),
    (4, "EINTR", Interrupted),
    (9, "EBADF", BadDescriptor),
    (11, "EAGAIN", WouldBlock),
    (12, "ENOMEM", ResourceExhausted),
    (13, "EACCES", Other),
    (22, "EINVAL", InvalidInput),
    (23, "ENFILE", ResourceExhausted),
    (24, "EMFILE", ResourceExhausted),
    (32, "EPIPE", BrokenPipe),
    // SVR4 accept() of a connection aborted before it was accepted.
    (71, "EPROTO", Aborted),
    (88, "ENOTSOCK", BadDescriptor),
    (89, "EDESTADDRREQ", NotConnected),
    (90, "EMSGSIZE", MessageSize),
    (92, "ENOPROTOOPT", InvalidInput),
    (95, "EOPNOTSUPP", InvalidInput),
    (98, "EADDRINUSE", AddrInUse),
    (99, "EADDRNOTAVAIL", AddrNotAvailable),
    (100, "ENETDOWN", Unreachable),
    (101, "ENETUNREACH", Unreachable),
    (102, "ENETRESET", NetReset),
    (103, "ECONNABORTED", Aborted),
    (104, "ECONNRESET", Reset),
    (105, "ENOBUFS", ResourceExhausted),
    (106, "EISCONN", Other),
    (107, "ENOTCONN", NotConnected),
    (108, "ESHUTDOWN", Shutdown),
    (110, "ETIMEDOUT", TimedOut),
    (111, "ECONNREFUSED", Refused),
    (112, "EHOSTDOWN", Unreachable),
    (113, "EHOSTUNREACH", Unreachable),
    (114, "EALREADY", Other),
    (115, "EINPROGRESS", WouldBlock),
];

/// macOS errno values (BSD sys/errno.h). Same classes as Linux by name.
const MACOS: &[(i32, &str, ErrorClass)] = &[
    (1, "EPERM", Other),
    (4, "EINTR", Interrupted),
    (9, "EBADF", BadDescriptor),
    (12, "ENOMEM", ResourceExhausted),
    (13, "EACCES", Other),
    (22, "EINVAL", InvalidInput),
    (23, "ENFILE", ResourceExhausted),
    (24, "EMFILE", ResourceExhausted),
    (32, "EPIPE", BrokenPipe),
    (35, "EAGAIN", WouldBlock),
    (36, "EINPROGRESS", WouldBlock),
    (37, "EALREADY", Other),
    (38, "ENOTSOCK", BadDescriptor),
    (39, "EDESTADDRREQ", NotConnected),
    (40, "EMSGSIZE", MessageSize),
    (42, "ENOPROTOOPT", InvalidInput),
    (45, "ENOTSUP", InvalidInput),
    (48, "EADDRINUSE", AddrInUse),
    (49, "EADDRNOTAVAIL", AddrNotAvailable),
    (50, "ENETDOWN", Unreachable),
    (51, "ENETUNREACH", Unreachable),
    (52, "ENETRESET", NetReset),
    (53, "ECONNABORTED", Aborted),
    (54, "ECONNRESET", Reset),
    (55, "ENOBUFS", ResourceExhausted),
    (56, "EISCONN", Other),
    (57, "ENOTCONN", NotConnected),
    (58, "ESHUTDOWN", Shutdown),
    (60, "ETIMEDOUT", TimedOut),
    (61, "ECONNREFUSED", Refused),
    (64, "EHOSTDOWN", Unreachable),
    (65, "EHOSTUNREACH", Unreachable),
    (100, "EPROTO", Aborted),
    (102, "EOPNOTSUPP", InvalidInput),
];

/// Windows: Winsock (WSA*) codes, plus the Win32 codes that overlapped /
/// IOCP socket operations report through GetOverlappedResult.
const WINDOWS: &[(i32, &str, ErrorClass)] = &[
    // Win32 codes.
    (4, "ERROR_TOO_MANY_OPEN_FILES", ResourceExhausted),
    (64, "ERROR_NETNAME_DELETED", Reset),
    (109, "ERROR_BROKEN_PIPE", BrokenPipe),
    (121, "ERROR_SEM_TIMEOUT", TimedOut),
    (995, "ERROR_OPERATION_ABORTED", Aborted),
    (1225, "ERROR_CONNECTION_REFUSED", Refused),
    (1231, "ERROR_NETWORK_UNREACHABLE", Unreachable),
    (1232, "ERROR_HOST_UNREACHABLE", Unreachable),
    // ICMP port unreachable as an IOCP completion reports it; Linux reports
    // the same event as ECONNREFUSED. A plain recvfrom reports it as 10054,
    // class reset (see the module doc: one code, one class).
    (1234, "ERROR_PORT_UNREACHABLE", Refused),
    (1236, "ERROR_CONNECTION_ABORTED", Aborted),
    (1450, "ERROR_NO_SYSTEM_RESOURCES", ResourceExhausted),
    // Winsock codes.
    (10004, "WSAEINTR", Interrupted),
    (10009, "WSAEBADF", BadDescriptor),
    (10013, "WSAEACCES", Other),
    (10014, "WSAEFAULT", Other),
    (10022, "WSAEINVAL", InvalidInput),
    (10024, "WSAEMFILE", ResourceExhausted),
    (10035, "WSAEWOULDBLOCK", WouldBlock),
    // Not would-block: "a blocking operation is currently executing" (a
    // Winsock 1.1 blocking call in progress on this thread). A non-blocking
    // connect in progress is 10035 WSAEWOULDBLOCK (Windows Sockets Error
    // Codes, learn.microsoft.com/windows/win32/winsock/windows-sockets-error-codes-2).
    (10036, "WSAEINPROGRESS", Other),
    (10037, "WSAEALREADY", Other),
    (10038, "WSAENOTSOCK", BadDescriptor),
    (10039, "WSAEDESTADDRREQ", NotConnected),
    (10040, "WSAEMSGSIZE", MessageSize),
    (10042, "WSAENOPROTOOPT", InvalidInput),
    (10045, "WSAEOPNOTSUPP", InvalidInput),
    (10048, "WSAEADDRINUSE", AddrInUse),
    (10049, "WSAEADDRNOTAVAIL", AddrNotAvailable),
    (10050, "WSAENETDOWN", Unreachable),
    (10051, "WSAENETUNREACH", Unreachable),
    (10052, "WSAENETRESET", NetReset),
    (10053, "WSAECONNABORTED", Aborted),
    (10054, "WSAECONNRESET", Reset),
    (10055, "WSAENOBUFS", ResourceExhausted),
    (10056, "WSAEISCONN", Other),
    (10057, "WSAENOTCONN", NotConnected),
    (10058, "WSAESHUTDOWN", Shutdown),
    (10060, "WSAETIMEDOUT", TimedOut),
    (10061, "WSAECONNREFUSED", Refused),
    (10064, "WSAEHOSTDOWN", Unreachable),
    (10065, "WSAEHOSTUNREACH", Unreachable),
    (10101, "WSAEDISCON", Shutdown),
];

fn table(os: Os) -> &'static [(i32, &'static str, ErrorClass)] {
    match os {
        Os::Linux => LINUX,
        Os::Windows => WINDOWS,
        Os::Macos => MACOS,
    }
}

/// Name and class of `raw` as reported on `os`; `None` if not in the table.
pub fn lookup(os: Os, raw: i32) -> Option<(&'static str, ErrorClass)> {
    table(os)
        .iter()
        .find(|&&(code, _, _)| code == raw)
        .map(|&(_, name, class)| (name, class))
}

/// Raw code, table name and class of the error called `name` on `os`. On
/// Windows a POSIX-style name (`ECONNRESET`, as libuv and Node spell it)
/// also finds its Winsock twin (`WSAECONNRESET`).
pub fn lookup_name(os: Os, name: &str) -> Option<(i32, &'static str, ErrorClass)> {
    let find = |n: &str| {
        table(os)
            .iter()
            .find(|&&(_, tn, _)| tn == n)
            .map(|&(code, tn, class)| (code, tn, class))
    };
    find(name).or_else(|| match os {
        Os::Windows => find(&format!("WSA{name}")),
        _ => None,
    })
}

/// True if `name` is an error name in any OS table (for validating matchers).
pub fn is_known_name(name: &str) -> bool {
    [LINUX, WINDOWS, MACOS]
        .iter()
        .any(|t| t.iter().any(|&(_, n, _)| n == name))
}

/// Stable upper-snake name for an `io::ErrorKind` (`"UNEXPECTED_EOF"`).
/// Kinds newer than the crate's MSRV are named from their `Debug` form
/// (`HostUnreachable` -> `"HOST_UNREACHABLE"`), which is the variant name.
fn kind_name(kind: io::ErrorKind) -> String {
    use io::ErrorKind as K;
    let fixed = match kind {
        K::NotFound => "NOT_FOUND",
        K::PermissionDenied => "PERMISSION_DENIED",
        K::ConnectionRefused => "CONNECTION_REFUSED",
        K::ConnectionReset => "CONNECTION_RESET",
        K::ConnectionAborted => "CONNECTION_ABORTED",
        K::NotConnected => "NOT_CONNECTED",
        K::AddrInUse => "ADDR_IN_USE",
        K::AddrNotAvailable => "ADDR_NOT_AVAILABLE",
        K::BrokenPipe => "BROKEN_PIPE",
        K::AlreadyExists => "ALREADY_EXISTS",
        K::WouldBlock => "WOULD_BLOCK",
        K::InvalidInput => "INVALID_INPUT",
        K::InvalidData => "INVALID_DATA",
        K::TimedOut => "TIMED_OUT",
        K::WriteZero => "WRITE_ZERO",
        K::Interrupted => "INTERRUPTED",
        K::Unsupported => "UNSUPPORTED",
        K::UnexpectedEof => "UNEXPECTED_EOF",
        K::OutOfMemory => "OUT_OF_MEMORY",
        K::Other => "OTHER",
        _ => return camel_to_upper_snake(&format!("{kind:?}")),
    };
    fixed.to_owned()
}

fn camel_to_upper_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// Portable class for an `io::ErrorKind`; only used when there is no raw
/// OS code, or the code is not in this OS's table.
fn kind_class(kind: io::ErrorKind) -> ErrorClass {
    use io::ErrorKind as K;
    match kind {
        K::ConnectionRefused => Refused,
        K::ConnectionReset => Reset,
        K::ConnectionAborted => Aborted,
        K::NotConnected => NotConnected,
        K::AddrInUse => AddrInUse,
        K::AddrNotAvailable => AddrNotAvailable,
        K::BrokenPipe => BrokenPipe,
        K::WouldBlock => WouldBlock,
        K::InvalidInput => InvalidInput,
        K::TimedOut => TimedOut,
        K::Interrupted => Interrupted,
        K::OutOfMemory => ResourceExhausted,
        // Kinds stabilised after the MSRV (1.83): match on the variant name.
        _ => match kind_name(kind).as_str() {
            "HOST_UNREACHABLE" | "NETWORK_UNREACHABLE" | "NETWORK_DOWN" => Unreachable,
            _ => Other,
        },
    }
}

/// Classify an `io::Error` observed on this host.
pub fn observe(err: &io::Error) -> ObservedError {
    match err.raw_os_error() {
        Some(raw) => match lookup(Os::current(), raw) {
            Some((name, class)) => ObservedError {
                raw: Some(raw),
                name: name.to_owned(),
                class,
            },
            None => ObservedError {
                raw: Some(raw),
                name: format!("OS_ERROR_{raw}"),
                class: kind_class(err.kind()),
            },
        },
        None => ObservedError {
            raw: None,
            name: kind_name(err.kind()),
            class: kind_class(err.kind()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::collections::HashSet;

    #[rstest]
    #[case(104, "ECONNRESET", Reset)]
    #[case(103, "ECONNABORTED", Aborted)]
    #[case(111, "ECONNREFUSED", Refused)]
    #[case(32, "EPIPE", BrokenPipe)]
    #[case(110, "ETIMEDOUT", TimedOut)]
    #[case(113, "EHOSTUNREACH", Unreachable)]
    #[case(101, "ENETUNREACH", Unreachable)]
    #[case(90, "EMSGSIZE", MessageSize)]
    #[case(102, "ENETRESET", NetReset)]
    #[case(107, "ENOTCONN", NotConnected)]
    #[case(108, "ESHUTDOWN", Shutdown)]
    #[case(24, "EMFILE", ResourceExhausted)]
    #[case(23, "ENFILE", ResourceExhausted)]
    #[case(105, "ENOBUFS", ResourceExhausted)]
    #[case(12, "ENOMEM", ResourceExhausted)]
    #[case(98, "EADDRINUSE", AddrInUse)]
    #[case(99, "EADDRNOTAVAIL", AddrNotAvailable)]
    #[case(4, "EINTR", Interrupted)]
    #[case(11, "EAGAIN", WouldBlock)]
    #[case(115, "EINPROGRESS", WouldBlock)]
    #[case(22, "EINVAL", InvalidInput)]
    #[case(9, "EBADF", BadDescriptor)]
    #[case(88, "ENOTSOCK", BadDescriptor)]
    #[case(71, "EPROTO", Aborted)]
    #[case(1, "EPERM", Other)]
    fn linux_table(#[case] raw: i32, #[case] name: &str, #[case] class: ErrorClass) {
        assert_eq!(lookup(Os::Linux, raw), Some((name, class)));
    }

    #[rstest]
    #[case(54, "ECONNRESET", Reset)]
    #[case(53, "ECONNABORTED", Aborted)]
    #[case(61, "ECONNREFUSED", Refused)]
    #[case(32, "EPIPE", BrokenPipe)]
    #[case(60, "ETIMEDOUT", TimedOut)]
    #[case(65, "EHOSTUNREACH", Unreachable)]
    #[case(51, "ENETUNREACH", Unreachable)]
    #[case(64, "EHOSTDOWN", Unreachable)]
    #[case(40, "EMSGSIZE", MessageSize)]
    #[case(52, "ENETRESET", NetReset)]
    #[case(57, "ENOTCONN", NotConnected)]
    #[case(58, "ESHUTDOWN", Shutdown)]
    #[case(24, "EMFILE", ResourceExhausted)]
    #[case(55, "ENOBUFS", ResourceExhausted)]
    #[case(48, "EADDRINUSE", AddrInUse)]
    #[case(49, "EADDRNOTAVAIL", AddrNotAvailable)]
    #[case(35, "EAGAIN", WouldBlock)]
    #[case(36, "EINPROGRESS", WouldBlock)]
    #[case(38, "ENOTSOCK", BadDescriptor)]
    #[case(100, "EPROTO", Aborted)]
    #[case(45, "ENOTSUP", InvalidInput)]
    #[case(102, "EOPNOTSUPP", InvalidInput)]
    fn macos_table(#[case] raw: i32, #[case] name: &str, #[case] class: ErrorClass) {
        assert_eq!(lookup(Os::Macos, raw), Some((name, class)));
    }

    #[rstest]
    #[case(10054, "WSAECONNRESET", Reset)]
    #[case(10053, "WSAECONNABORTED", Aborted)]
    #[case(10061, "WSAECONNREFUSED", Refused)]
    #[case(10060, "WSAETIMEDOUT", TimedOut)]
    #[case(10065, "WSAEHOSTUNREACH", Unreachable)]
    #[case(10051, "WSAENETUNREACH", Unreachable)]
    #[case(10040, "WSAEMSGSIZE", MessageSize)]
    #[case(10052, "WSAENETRESET", NetReset)]
    #[case(10057, "WSAENOTCONN", NotConnected)]
    #[case(10058, "WSAESHUTDOWN", Shutdown)]
    #[case(10101, "WSAEDISCON", Shutdown)]
    #[case(10024, "WSAEMFILE", ResourceExhausted)]
    #[case(10055, "WSAENOBUFS", ResourceExhausted)]
    #[case(10048, "WSAEADDRINUSE", AddrInUse)]
    #[case(10049, "WSAEADDRNOTAVAIL", AddrNotAvailable)]
    #[case(10004, "WSAEINTR", Interrupted)]
    #[case(10035, "WSAEWOULDBLOCK", WouldBlock)]
    #[case(10036, "WSAEINPROGRESS", Other)]
    #[case(10022, "WSAEINVAL", InvalidInput)]
    #[case(10038, "WSAENOTSOCK", BadDescriptor)]
    #[case(10014, "WSAEFAULT", Other)]
    #[case(64, "ERROR_NETNAME_DELETED", Reset)]
    #[case(995, "ERROR_OPERATION_ABORTED", Aborted)]
    #[case(1225, "ERROR_CONNECTION_REFUSED", Refused)]
    #[case(1231, "ERROR_NETWORK_UNREACHABLE", Unreachable)]
    #[case(1232, "ERROR_HOST_UNREACHABLE", Unreachable)]
    #[case(1234, "ERROR_PORT_UNREACHABLE", Refused)]
    #[case(1236, "ERROR_CONNECTION_ABORTED", Aborted)]
    #[case(121, "ERROR_SEM_TIMEOUT", TimedOut)]
    #[case(109, "ERROR_BROKEN_PIPE", BrokenPipe)]
    #[case(1450, "ERROR_NO_SYSTEM_RESOURCES", ResourceExhausted)]
    #[case(4, "ERROR_TOO_MANY_OPEN_FILES", ResourceExhausted)]
    fn windows_table(#[case] raw: i32, #[case] name: &str, #[case] class: ErrorClass) {
        assert_eq!(lookup(Os::Windows, raw), Some((name, class)));
    }

    /// The same raw number means different things on different OSes.
    #[rstest]
    #[case(Os::Linux, 4, "EINTR")]
    #[case(Os::Windows, 4, "ERROR_TOO_MANY_OPEN_FILES")]
    #[case(Os::Linux, 24, "EMFILE")]
    #[case(Os::Macos, 64, "EHOSTDOWN")]
    #[case(Os::Windows, 64, "ERROR_NETNAME_DELETED")]
    #[case(Os::Linux, 102, "ENETRESET")]
    #[case(Os::Macos, 102, "EOPNOTSUPP")]
    fn codes_are_per_os(#[case] os: Os, #[case] raw: i32, #[case] name: &str) {
        assert_eq!(lookup(os, raw).map(|(n, _)| n), Some(name));
    }

    #[rstest]
    #[case(Os::Linux, 10054)]
    #[case(Os::Linux, 0)]
    #[case(Os::Macos, 104)]
    #[case(Os::Windows, 104)]
    #[case(Os::Windows, 24)]
    fn unknown_codes_are_none(#[case] os: Os, #[case] raw: i32) {
        assert_eq!(lookup(os, raw), None);
    }

    #[rstest]
    #[case(Os::Linux)]
    #[case(Os::Windows)]
    #[case(Os::Macos)]
    fn table_codes_and_names_unique(#[case] os: Os) {
        let t = table(os);
        let codes: HashSet<i32> = t.iter().map(|e| e.0).collect();
        let names: HashSet<&str> = t.iter().map(|e| e.1).collect();
        assert_eq!(codes.len(), t.len(), "duplicate code in {os:?} table");
        assert_eq!(names.len(), t.len(), "duplicate name in {os:?} table");
    }

    /// A name present on both Unix tables maps to the same class on both.
    #[test]
    fn unix_names_agree_on_class() {
        for &(_, name, class) in MACOS {
            if let Some(&(_, _, lc)) = LINUX.iter().find(|e| e.1 == name) {
                assert_eq!(lc, class, "{name}: linux {lc:?} vs macos {class:?}");
            }
        }
    }

    #[test]
    fn class_names_round_trip() {
        let names: HashSet<&str> = ErrorClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorClass::ALL.len());
        for c in ErrorClass::ALL {
            assert_eq!(ErrorClass::from_name(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
            // Same spelling as serde's kebab-case rename.
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(ErrorClass::from_name("broken-pipe"), Some(BrokenPipe));
        assert_eq!(
            ErrorClass::from_name("resource-exhausted"),
            Some(ResourceExhausted)
        );
        assert_eq!(ErrorClass::from_name("BrokenPipe"), None);
        assert_eq!(ErrorClass::from_name(""), None);
    }

    #[rstest]
    #[case("ECONNRESET", true)]
    #[case("WSAECONNRESET", true)]
    #[case("ERROR_PORT_UNREACHABLE", true)]
    #[case("ENOTSUP", true)]
    #[case("EPROTO", true)]
    #[case("econnreset", false)]
    #[case("ECONNRESETX", false)]
    #[case("reset", false)]
    #[case("", false)]
    fn known_names(#[case] name: &str, #[case] known: bool) {
        assert_eq!(is_known_name(name), known);
    }

    #[rstest]
    #[case(io::ErrorKind::TimedOut, "TIMED_OUT", TimedOut)]
    #[case(io::ErrorKind::UnexpectedEof, "UNEXPECTED_EOF", Other)]
    #[case(io::ErrorKind::WriteZero, "WRITE_ZERO", Other)]
    #[case(io::ErrorKind::Other, "OTHER", Other)]
    #[case(io::ErrorKind::WouldBlock, "WOULD_BLOCK", WouldBlock)]
    #[case(io::ErrorKind::BrokenPipe, "BROKEN_PIPE", BrokenPipe)]
    #[case(io::ErrorKind::ConnectionReset, "CONNECTION_RESET", Reset)]
    #[case(io::ErrorKind::ConnectionAborted, "CONNECTION_ABORTED", Aborted)]
    #[case(io::ErrorKind::ConnectionRefused, "CONNECTION_REFUSED", Refused)]
    #[case(io::ErrorKind::NotConnected, "NOT_CONNECTED", NotConnected)]
    fn observe_without_raw_uses_kind(
        #[case] kind: io::ErrorKind,
        #[case] name: &str,
        #[case] class: ErrorClass,
    ) {
        // The message deliberately contradicts the kind: it must be ignored.
        let err = io::Error::new(kind, "connection reset by peer");
        let got = observe(&err);
        assert_eq!(
            got,
            ObservedError {
                raw: None,
                name: name.to_owned(),
                class
            }
        );
    }

    #[test]
    fn camel_to_upper_snake_works() {
        assert_eq!(camel_to_upper_snake("HostUnreachable"), "HOST_UNREACHABLE");
        assert_eq!(camel_to_upper_snake("Other"), "OTHER");
    }

    #[test]
    fn observe_unknown_raw_code_falls_back() {
        // Not in any table on any OS.
        let err = io::Error::from_raw_os_error(77_777);
        let got = observe(&err);
        assert_eq!(got.raw, Some(77_777));
        assert_eq!(got.name, "OS_ERROR_77777");
        assert_eq!(got.class, Other);
    }

    #[cfg(target_os = "linux")]
    mod linux_host {
        use super::*;

        #[test]
        fn observe_econnreset() {
            let err = io::Error::from_raw_os_error(libc::ECONNRESET);
            let got = observe(&err);
            assert_eq!(
                got,
                ObservedError {
                    raw: Some(104),
                    name: "ECONNRESET".into(),
                    class: Reset
                }
            );
        }

        #[rstest]
        #[case(libc::ECONNABORTED, "ECONNABORTED", Aborted)]
        #[case(libc::ECONNREFUSED, "ECONNREFUSED", Refused)]
        #[case(libc::EPIPE, "EPIPE", BrokenPipe)]
        #[case(libc::EMSGSIZE, "EMSGSIZE", MessageSize)]
        #[case(libc::EMFILE, "EMFILE", ResourceExhausted)]
        #[case(libc::EWOULDBLOCK, "EAGAIN", WouldBlock)]
        fn observe_host_codes(#[case] raw: i32, #[case] name: &str, #[case] class: ErrorClass) {
            let got = observe(&io::Error::from_raw_os_error(raw));
            assert_eq!(
                (got.raw, got.name.as_str(), got.class),
                (Some(raw), name, class)
            );
        }

        /// Every LINUX entry matches the libc constant of the same name.
        #[test]
        fn table_matches_libc() {
            let libc_value = |name: &str| -> i32 {
                match name {
                    "EPERM" => libc::EPERM,
                    "EINTR" => libc::EINTR,
                    "EBADF" => libc::EBADF,
                    "EAGAIN" => libc::EAGAIN,
                    "ENOMEM" => libc::ENOMEM,
                    "EACCES" => libc::EACCES,
                    "EINVAL" => libc::EINVAL,
                    "ENFILE" => libc::ENFILE,
                    "EMFILE" => libc::EMFILE,
                    "EPIPE" => libc::EPIPE,
                    "EPROTO" => libc::EPROTO,
                    "ENOTSOCK" => libc::ENOTSOCK,
                    "EDESTADDRREQ" => libc::EDESTADDRREQ,
                    "EMSGSIZE" => libc::EMSGSIZE,
                    "ENOPROTOOPT" => libc::ENOPROTOOPT,
                    "EOPNOTSUPP" => libc::EOPNOTSUPP,
                    "EADDRINUSE" => libc::EADDRINUSE,
                    "EADDRNOTAVAIL" => libc::EADDRNOTAVAIL,
                    "ENETDOWN" => libc::ENETDOWN,
                    "ENETUNREACH" => libc::ENETUNREACH,
                    "ENETRESET" => libc::ENETRESET,
                    "ECONNABORTED" => libc::ECONNABORTED,
                    "ECONNRESET" => libc::ECONNRESET,
                    "ENOBUFS" => libc::ENOBUFS,
                    "EISCONN" => libc::EISCONN,
                    "ENOTCONN" => libc::ENOTCONN,
                    "ESHUTDOWN" => libc::ESHUTDOWN,
                    "ETIMEDOUT" => libc::ETIMEDOUT,
                    "ECONNREFUSED" => libc::ECONNREFUSED,
                    "EHOSTDOWN" => libc::EHOSTDOWN,
                    "EHOSTUNREACH" => libc::EHOSTUNREACH,
                    "EALREADY" => libc::EALREADY,
                    "EINPROGRESS" => libc::EINPROGRESS,
                    other => panic!("no libc constant listed for {other}"),
                }
            };
            for &(raw, name, _) in LINUX {
                assert_eq!(raw, libc_value(name), "{name}");
            }
        }
    }

    #[cfg(target_os = "macos")]
    mod macos_host {
        use super::*;

        #[test]
        fn observe_econnreset() {
            let got = observe(&io::Error::from_raw_os_error(libc::ECONNRESET));
            assert_eq!(
                got,
                ObservedError {
                    raw: Some(54),
                    name: "ECONNRESET".into(),
                    class: Reset
                }
            );
        }
    }

    #[cfg(windows)]
    mod windows_host {
        use super::*;
        use windows_sys::Win32::Foundation as F;
        use windows_sys::Win32::Networking::WinSock as W;

        #[test]
        fn observe_wsaeconnreset() {
            let err = io::Error::from_raw_os_error(W::WSAECONNRESET);
            let got = observe(&err);
            assert_eq!(
                got,
                ObservedError {
                    raw: Some(10054),
                    name: "WSAECONNRESET".into(),
                    class: Reset
                }
            );
        }

        #[rstest]
        #[case(W::WSAECONNABORTED, "WSAECONNABORTED", Aborted)]
        #[case(W::WSAECONNREFUSED, "WSAECONNREFUSED", Refused)]
        #[case(W::WSAEMSGSIZE, "WSAEMSGSIZE", MessageSize)]
        #[case(F::ERROR_PORT_UNREACHABLE as i32, "ERROR_PORT_UNREACHABLE", Refused)]
        #[case(F::ERROR_NETNAME_DELETED as i32, "ERROR_NETNAME_DELETED", Reset)]
        #[case(F::ERROR_CONNECTION_ABORTED as i32, "ERROR_CONNECTION_ABORTED", Aborted)]
        #[case(F::ERROR_TOO_MANY_OPEN_FILES as i32, "ERROR_TOO_MANY_OPEN_FILES", ResourceExhausted)]
        fn observe_host_codes(#[case] raw: i32, #[case] name: &str, #[case] class: ErrorClass) {
            let got = observe(&io::Error::from_raw_os_error(raw));
            assert_eq!(
                (got.raw, got.name.as_str(), got.class),
                (Some(raw), name, class)
            );
        }

        /// Every WINDOWS entry matches the windows-sys constant of the same name.
        #[test]
        fn table_matches_windows_sys() {
            let value = |name: &str| -> i32 {
                match name {
                    "ERROR_TOO_MANY_OPEN_FILES" => F::ERROR_TOO_MANY_OPEN_FILES as i32,
                    "ERROR_NETNAME_DELETED" => F::ERROR_NETNAME_DELETED as i32,
                    "ERROR_BROKEN_PIPE" => F::ERROR_BROKEN_PIPE as i32,
                    "ERROR_SEM_TIMEOUT" => F::ERROR_SEM_TIMEOUT as i32,
                    "ERROR_OPERATION_ABORTED" => F::ERROR_OPERATION_ABORTED as i32,
                    "ERROR_CONNECTION_REFUSED" => F::ERROR_CONNECTION_REFUSED as i32,
                    "ERROR_NETWORK_UNREACHABLE" => F::ERROR_NETWORK_UNREACHABLE as i32,
                    "ERROR_HOST_UNREACHABLE" => F::ERROR_HOST_UNREACHABLE as i32,
                    "ERROR_PORT_UNREACHABLE" => F::ERROR_PORT_UNREACHABLE as i32,
                    "ERROR_CONNECTION_ABORTED" => F::ERROR_CONNECTION_ABORTED as i32,
                    "ERROR_NO_SYSTEM_RESOURCES" => F::ERROR_NO_SYSTEM_RESOURCES as i32,
                    "WSAEINTR" => W::WSAEINTR,
                    "WSAEBADF" => W::WSAEBADF,
                    "WSAEACCES" => W::WSAEACCES,
                    "WSAEFAULT" => W::WSAEFAULT,
                    "WSAEINVAL" => W::WSAEINVAL,
                    "WSAEMFILE" => W::WSAEMFILE,
                    "WSAEWOULDBLOCK" => W::WSAEWOULDBLOCK,
                    "WSAEINPROGRESS" => W::WSAEINPROGRESS,
                    "WSAEALREADY" => W::WSAEALREADY,
                    "WSAENOTSOCK" => W::WSAENOTSOCK,
                    "WSAEDESTADDRREQ" => W::WSAEDESTADDRREQ,
                    "WSAEMSGSIZE" => W::WSAEMSGSIZE,
                    "WSAENOPROTOOPT" => W::WSAENOPROTOOPT,
                    "WSAEOPNOTSUPP" => W::WSAEOPNOTSUPP,
                    "WSAEADDRINUSE" => W::WSAEADDRINUSE,
                    "WSAEADDRNOTAVAIL" => W::WSAEADDRNOTAVAIL,
                    "WSAENETDOWN" => W::WSAENETDOWN,
                    "WSAENETUNREACH" => W::WSAENETUNREACH,
                    "WSAENETRESET" => W::WSAENETRESET,
                    "WSAECONNABORTED" => W::WSAECONNABORTED,
                    "WSAECONNRESET" => W::WSAECONNRESET,
                    "WSAENOBUFS" => W::WSAENOBUFS,
                    "WSAEISCONN" => W::WSAEISCONN,
                    "WSAENOTCONN" => W::WSAENOTCONN,
                    "WSAESHUTDOWN" => W::WSAESHUTDOWN,
                    "WSAETIMEDOUT" => W::WSAETIMEDOUT,
                    "WSAECONNREFUSED" => W::WSAECONNREFUSED,
                    "WSAEHOSTDOWN" => W::WSAEHOSTDOWN,
                    "WSAEHOSTUNREACH" => W::WSAEHOSTUNREACH,
                    "WSAEDISCON" => W::WSAEDISCON,
                    other => panic!("no windows-sys constant listed for {other}"),
                }
            };
            for &(raw, name, _) in WINDOWS {
                assert_eq!(raw, value(name), "{name}");
            }
        }
    }
}
