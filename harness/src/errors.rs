//! Raw OS error code -> OS-specific name -> portable class, for Linux,
//! Windows and macOS. Keyed on `raw_os_error()`, never on message text or
//! `io::ErrorKind` (std maps WSAEMSGSIZE, 1234, 64 ... to `Uncategorized`).

use crate::scenario::Os;
use serde::{Deserialize, Serialize};
use std::io;

/// Portable class of a socket error: what a scenario expectation usually
/// names, so one expectation reads the same on every OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedError {
    /// Raw OS code (errno, WSA code or Win32 code); `None` for errors that
    /// did not come from the OS.
    pub raw: Option<i32>,
    /// OS-specific name, e.g. `ECONNRESET`, `WSAECONNRESET`, `ERROR_PORT_UNREACHABLE`.
    pub name: String,
    pub class: ErrorClass,
}

impl ErrorClass {
    /// Kebab-case name used in scenario files and reports (`"broken-pipe"`).
    pub fn as_str(self) -> &'static str {
        todo!()
    }
    /// Parse a kebab-case class name.
    pub fn from_name(name: &str) -> Option<ErrorClass> {
        todo!()
    }
}

/// Name and class of `raw` as reported on `os`; `None` if not in the table.
pub fn lookup(os: Os, raw: i32) -> Option<(&'static str, ErrorClass)> {
    todo!()
}

/// True if `name` is an error name in any OS table (for validating matchers).
pub fn is_known_name(name: &str) -> bool {
    todo!()
}

/// Classify an `io::Error` observed on this host.
pub fn observe(err: &io::Error) -> ObservedError {
    todo!()
}
