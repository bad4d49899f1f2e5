//! TOML -> `Scenario`, with every error located as file:line:column.
//!
//! # File format
//!
//! ```toml
//! name = "tcp-rst-before-data"   # required: lowercase letters, digits, '-'
//! summary = "Client connects and aborts with RST"   # required, non-empty
//! refs = ["https://github.com/..."]   # optional list of strings
//! timeout_ms = 20000   # optional, 1..=MAX_SCENARIO_TIMEOUT_MS (default DEFAULT_SCENARIO_TIMEOUT_MS)
//!
//! [target]
//! proto = "tcp"        # required: tcp | udp
//! mode = "echo"        # echo (default) | forward (tcp only)
//! bind = "127.0.0.1"   # optional loopback IP (127.0.0.0/8 or ::1), default 127.0.0.1
//! ip_recverr = true    # optional, udp only
//! max_fds = 64         # optional, 16..=1048576
//! reply_delay_ms = 150 # optional, built-in servers wait this long before each reply
//! idle_timeout_ms = 300 # optional, built-in hardened servers close idle connections after this
//! upstream = "echo"    # forward only: scripted (default: the upstream actor's steps) |
//!                      # echo | discard | close-on-half-close (answers on its own; no upstream steps)
//!
//! actors = ["a", "b"]        # single clients: lowercase letters, digits, '-', '_'
//! groups = { crowd = 50 }    # optional groups of N identical clients (1..=MAX_ACTOR_COUNT)
//! # (TOML puts these two inside [target] when written here; they are accepted
//! # there or at the top level before any [table], but not in both places.)
//! # forward mode: an implicit actor "upstream" (the harness-played upstream server);
//! # it cannot be declared, and cannot be used outside forward mode.
//!
//! [sockopts.a]        # optional, per client actor (or group): socket options set
//!                      # before connect (udp: before bind); at least one key
//! rcvbuf = 4096        # SO_RCVBUF / SO_SNDBUF bytes, 1..=MAX_SOCK_BUF (the report
//! sndbuf = 4096        # records what the OS granted: Linux doubles them)
//! nodelay = false      # TCP_NODELAY (tcp only; the harness's default is true)
//! linger_s = 0         # SO_LINGER {on, N s}, 0..=MAX_LINGER_S (tcp only): 0 = close sends RST
//! keepalive = { idle_s = 5, interval_s = 1, count = 3 }   # tcp only; each key optional,
//!                      # idle_s / interval_s 1..=MAX_KEEPALIVE_S, count 1..=MAX_KEEPALIVE_COUNT
//! source = "127.0.0.2" # local IP to bind: loopback, the server's family
//!
//! [[steps]]
//! actor = "a"          # required, except for wait / pause / resume / probe (which take none)
//! op = "connect"       # connect | bind | accept | send | recv | wait_readable | shutdown | close | abort | wait | pause | resume | probe
//! id = "first-read"    # optional, unique; expectations refer to steps by id
//! # send:     exactly one of bytes = N | text = "..."   (N <= MAX_PAYLOAD, udp: MAX_UDP_SEND)
//! # send, connect (udp only): to = "closed" | "127.0.0.1:9" | "[::1]:9" (loopback,
//! #           the server's family; default: the server under test)
//! # recv:     bytes = N (exact) | until = "eof" (tcp only) | neither (any);
//! #           timeout_ms = N (1..=MAX_RECV_TIMEOUT_MS, default DEFAULT_RECV_TIMEOUT_MS)
//! # wait_readable: timeout_ms as recv; waits until a read would not block and
//! #           reads nothing (a peek): ok (bytes queued), eof, the error, timeout
//! # shutdown: how = "write" | "read" | "both" (tcp only)
//! # connect:  timeout_ms = N (optional, 1..=MAX_CONNECT_TIMEOUT_MS): tcp, outcome
//! #           "timeout" if the handshake takes longer (default client::CONNECT_TIMEOUT)
//! # send:     timeout_ms = N (optional, 1..=MAX_SEND_TIMEOUT_MS): stop sending after N ms
//! #           and record how much went out (outcome "timeout" with the byte count)
//! # wait:     ms = N (<= MAX_WAIT_MS)
//! # pause / resume: freeze / thaw the server under test and its process tree
//! #           (SIGSTOP / SIGCONT; Windows: NtSuspendProcess / NtResumeProcess);
//! #           the runner resumes it when the steps end, before probe and kill.
//! #           Not possible with --target-addr (the scenario is skipped).
//! # probe:    probe the server now, with the scenario's clients still open
//! #           (takes no actor). Without it the only probe runs after the
//! #           scenario's sockets are closed. Not served while the server is
//! #           alive = verdict "hung" (use it when the scenario means "others
//! #           are served while this client is open").
//! # parallel = true   (optional, a step on a group: all members at once, not one by one)
//! # udp clients: bind, connect, send, recv, wait_readable, close
//! # tcp clients: connect, send, recv, wait_readable, shutdown, close, abort
//! # upstream:    accept, send, recv, wait_readable, shutdown, close, abort
//! # A key that does not belong to the op is an error.
//!
//! [[steps]]
//! repeat = 200         # a block of steps run 200 times in order (1..=MAX_REPEAT)
//! [[steps.do]]         # the block's steps, written like any other step
//! actor = "a"
//! op = "connect"
//! [[steps.do]]
//! actor = "a"
//! op = "abort"
//! # A repeat step has only `repeat` and `do`; blocks do not nest. Every
//! # record of a repeated step carries its iteration (1..=N); the scenario's
//! # total of step executions (steps x group members x repetitions) is at
//! # most MAX_EXECUTIONS, and `timeout_ms` still bounds the whole run.
//!
//! [expect.naive]       # [expect.naive] and [expect.hardened] are both required;
//!                      # [expect.naive-seq] (the sequential naive server) is optional
//! server = "crashed"   # required: verdict or list of verdicts (survived | hung | crashed | leaked | busy | rejecting)
//! server_errors = ["refused", "ECONNREFUSED"]   # optional matchers
//! steps = { first-read = ["eof", "reset"] }     # optional: step id -> matchers
//! [expect.naive.windows]   # optional per-OS override (linux | windows | macos | wine), same keys
//! server_errors = ["WSAECONNRESET"]   # in an override, [] = none required on that OS
//! # optional, per-OS cells only (`netrepro bless` writes it): the run that showed this cell
//! observed = { os_version = "Windows 10.0.20348", arch = "x86_64", netrepro = "0.1.0", date = "2026-11-26" }
//! [expect.hardened]
//! server = "survived"
//! ```
//!
//! Matchers are `"ok"`, `"short"` (a recv of `bytes = N` that got a smaller
//! UDP datagram), `"eof"`, `"timeout"`, `"skipped"` (the actor had no
//! socket, e.g. its connect failed), an error class (`"reset"`) or an
//! OS error name (`"ECONNRESET"`), see [`is_valid_matcher`].
//!
//! Parsing is two-phase: TOML -> raw serde structs (with spans, unknown keys
//! rejected), then validation into the model. Both phases report the byte
//! span of the offending key or value, turned into a 1-based line and column.
//!
//! The modules, in the order a file goes through them: `discover` finds the
//! files behind the paths given, `raw` is the serde layer, `toml_error`
//! words toml's errors, `scenario` validates the top level and hands each
//! section to `target`, `actors`, `steps` and `expect` (which hands a
//! cell's `observed` marker to `observed`); `check` holds what
//! they share. Errors are [`ScenarioError`]s, located in `crate::error`.

mod actors;
mod check;
mod discover;
mod expect;
mod observed;
mod raw;
mod scenario;
mod sockopts;
mod steps;
mod target;
mod toml_error;

pub use crate::error::ScenarioError;
pub use expect::is_valid_matcher;
pub use observed::{check as check_observed, is_day};

use crate::error::located;
use crate::model::Scenario;
use raw::RawScenario;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What is wrong with a file's text as a whole, before its keys are read
/// (or, for a duplicate name, after: it takes two files to see).
#[derive(Debug, thiserror::Error)]
enum SourceProblem {
    #[error("empty file; expected a scenario with name, summary, [target], actors, [[steps]] and [expect]")]
    Empty,
    #[error("file is not valid UTF-8: expected UTF-8 text, found byte 0x{byte:02x}")]
    NotUtf8 { byte: u8 },
    /// toml's own words for a syntax error.
    #[error("invalid TOML: {0}")]
    InvalidToml(String),
    /// `first` is the file that has the name already.
    #[error("duplicate scenario name \"{name}\": also used by {}", .first.display())]
    DuplicateName { name: String, first: PathBuf },
}

/// Parse and validate one scenario; `path` is only used in errors and stored
/// in `Scenario::path`.
pub fn parse_str(src: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    parse_located(src, path).map(|(s, _)| s)
}

/// Like `parse_str`, also returning the byte offset of the `name` value.
fn parse_located(src: &str, path: &Path) -> Result<(Scenario, usize), ScenarioError> {
    if src.trim().is_empty() {
        return Err(located(src, path, 0, SourceProblem::Empty));
    }
    let deserializer = toml::de::Deserializer::parse(src).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        located(
            src,
            path,
            offset,
            SourceProblem::InvalidToml(e.message().trim().to_owned()),
        )
    })?;
    let raw =
        RawScenario::deserialize(deserializer).map_err(|e| toml_error::de_error(src, path, &e))?;
    scenario::validate(src, raw, path).map_err(|e| located(src, path, e.span.start, e.problem))
}

/// Read and parse one file. Unreadable files get line 0 (so do files that
/// are not regular or are over `read::MAX_SCENARIO_BYTES`); invalid UTF-8
/// is located at the first bad byte.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    load_located(path).map(|(s, _, _)| s)
}

fn load_located(path: &Path) -> Result<(Scenario, usize, String), ScenarioError> {
    let bytes = crate::read::read_bounded(path)?;
    parse_bytes_located(bytes, path)
}

/// Parse and validate the raw bytes of a scenario file (the UTF-8 check
/// included); `path` is only used in errors and stored in `Scenario::path`.
pub fn parse_bytes(bytes: Vec<u8>, path: &Path) -> Result<Scenario, ScenarioError> {
    parse_bytes_located(bytes, path).map(|(s, _, _)| s)
}

fn parse_bytes_located(
    bytes: Vec<u8>,
    path: &Path,
) -> Result<(Scenario, usize, String), ScenarioError> {
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or("");
            return Err(located(
                prefix,
                path,
                good,
                SourceProblem::NotUtf8 { byte: bytes[good] },
            ));
        }
    };
    let (s, name_at) = parse_located(&src, path)?;
    Ok((s, name_at, src))
}

/// Load files and folders (recursively, `*.toml`, sorted by path).
///
/// Files given explicitly are loaded whatever their extension. All errors of
/// all files are collected; two scenarios with the same name are an error.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let items = discover::scenario_files(paths);

    let mut errors = Vec::new();
    let mut scenarios = Vec::new();
    // The same file reached twice (e.g. a file and its folder) is loaded once.
    let mut seen = HashSet::new();
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    for item in items {
        let f = match item {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if !seen.insert(std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone())) {
            continue;
        }
        match load_located(&f) {
            Ok((s, name_at, src)) => {
                if let Some(first) = names.get(&s.name) {
                    errors.push(located(
                        &src,
                        &f,
                        name_at,
                        SourceProblem::DuplicateName {
                            name: s.name.clone(),
                            first: first.clone(),
                        },
                    ));
                } else {
                    names.insert(s.name.clone(), f.clone());
                    scenarios.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests;
