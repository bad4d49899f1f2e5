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
//!
//! actors = ["a", "b"]        # single clients: lowercase letters, digits, '-', '_'
//! groups = { crowd = 50 }    # optional groups of N identical clients (1..=MAX_ACTOR_COUNT)
//! # (TOML puts these two inside [target] when written here; they are accepted
//! # there or at the top level before any [table], but not in both places.)
//! # forward mode: an implicit actor "upstream" (the harness-played upstream server);
//! # it cannot be declared, and cannot be used outside forward mode.
//!
//! [[steps]]
//! actor = "a"          # required, except for wait / pause / resume / probe (which take none)
//! op = "connect"       # connect | bind | accept | send | recv | shutdown | close | abort | wait | pause | resume | probe
//! id = "first-read"    # optional, unique; expectations refer to steps by id
//! # send:     exactly one of bytes = N | text = "..."   (N <= MAX_PAYLOAD, udp: MAX_UDP_PAYLOAD)
//! # recv:     bytes = N (exact) | until = "eof" (tcp only) | neither (any);
//! #           timeout_ms = N (1..=MAX_RECV_TIMEOUT_MS, default DEFAULT_RECV_TIMEOUT_MS)
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
//! # udp clients: bind, connect, send, recv, close
//! # tcp clients: connect, send, recv, shutdown, close, abort
//! # upstream:    accept, send, recv, shutdown, close, abort
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

use super::model::*;
use serde::de::{self, SeqAccess, Visitor};
use serde::Deserialize;
use serde_spanned::Spanned;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with a scenario file, located for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is not in the file (e.g. it cannot be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

const OPS: &str =
    "connect, bind, accept, send, recv, shutdown, close, abort, wait, pause, resume, probe";
const VERDICTS: &str = "survived, hung, crashed, leaked, busy, rejecting";
const UPSTREAM: &str = "upstream";
const TOP_LEVEL_KEYS: &[&str] = &["name", "summary", "refs", "timeout_ms", "steps", "expect"];
const MIN_MAX_FDS: u64 = 16;
const MAX_MAX_FDS: u64 = 1_048_576;

/// True if `m` is an acceptable matcher in `server_errors` / `steps`:
/// `"ok"`, `"short"`, `"eof"`, `"timeout"`, `"skipped"`, an `ErrorClass`
/// kebab name or an OS error name.
/// The only place the parser depends on `netrepro_sys::errors`.
pub fn is_valid_matcher(m: &str) -> bool {
    matches!(m, "ok" | "short" | "eof" | "timeout" | "skipped")
        || netrepro_sys::errors::ErrorClass::from_name(m).is_some()
        || netrepro_sys::errors::is_known_name(m)
}

// ---------------------------------------------------------------------------
// Raw (serde) layer
// ---------------------------------------------------------------------------

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<S<String>>,
    summary: Option<S<String>>,
    refs: Option<S<Vec<S<String>>>>,
    timeout_ms: Option<S<u64>>,
    target: Option<S<RawTarget>>,
    actors: Option<S<Vec<S<String>>>>,
    groups: Option<S<BTreeMap<S<String>, S<u64>>>>,
    steps: Option<S<Vec<S<RawStep>>>>,
    expect: Option<S<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    proto: Option<S<String>>,
    mode: Option<S<String>>,
    bind: Option<S<String>>,
    ip_recverr: Option<S<bool>>,
    max_fds: Option<S<u64>>,
    reply_delay_ms: Option<S<u64>>,
    idle_timeout_ms: Option<S<u64>>,
    /// Accepted here too: `actors = ...` written after `[target]` lands in it.
    actors: Option<S<Vec<S<String>>>>,
    groups: Option<S<BTreeMap<S<String>, S<u64>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    actor: Option<S<String>>,
    op: Option<S<String>>,
    id: Option<S<String>>,
    bytes: Option<S<u64>>,
    text: Option<S<String>>,
    until: Option<S<String>>,
    timeout_ms: Option<S<u64>>,
    how: Option<S<String>>,
    ms: Option<S<u64>>,
    parallel: Option<S<bool>>,
    /// A repeated block: `repeat = N` with its steps in `do`.
    repeat: Option<S<u64>>,
    #[serde(rename = "do")]
    do_: Option<S<Vec<S<RawStep>>>>,
}

impl RawStep {
    /// The keys whose meaning depends on the op, with where they are set
    /// (one list, so the repeat-block check and the per-op check agree).
    fn op_key_spans(&self) -> [(&'static str, Option<Range<usize>>); 6] {
        [
            ("bytes", self.bytes.as_ref().map(S::span)),
            ("text", self.text.as_ref().map(S::span)),
            ("until", self.until.as_ref().map(S::span)),
            ("timeout_ms", self.timeout_ms.as_ref().map(S::span)),
            ("how", self.how.as_ref().map(S::span)),
            ("ms", self.ms.as_ref().map(S::span)),
        ]
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    naive: Option<S<RawImplExpect>>,
    #[serde(rename = "naive-seq")]
    naive_seq: Option<S<RawImplExpect>>,
    hardened: Option<S<RawImplExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImplExpect {
    server: Option<S<StrOrList>>,
    server_errors: Option<S<StrOrList>>,
    steps: Option<S<BTreeMap<S<String>, S<StrOrList>>>>,
    linux: Option<S<RawOsExpect>>,
    windows: Option<S<RawOsExpect>>,
    macos: Option<S<RawOsExpect>>,
    wine: Option<S<RawOsExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOsExpect {
    server: Option<S<StrOrList>>,
    server_errors: Option<S<StrOrList>>,
    steps: Option<S<BTreeMap<S<String>, S<StrOrList>>>>,
}

/// A string, or an array of strings (each with its own span).
enum StrOrList {
    One(String),
    Many(Vec<S<String>>),
}

impl<'de> Deserialize<'de> for StrOrList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrList, E> {
                Ok(StrOrList::One(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrOrList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<S<String>>()? {
                    items.push(item);
                }
                Ok(StrOrList::Many(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// The strings of a `StrOrList` with their spans.
fn str_items(v: &S<StrOrList>) -> Vec<(String, Range<usize>)> {
    match v.get_ref() {
        StrOrList::One(s) => vec![(s.clone(), v.span())],
        StrOrList::Many(items) => items
            .iter()
            .map(|i| (i.get_ref().clone(), i.span()))
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Error helpers
// ---------------------------------------------------------------------------

/// A validation error before it is located: byte span + message.
struct VErr {
    span: Range<usize>,
    message: String,
}

type VResult<T> = Result<T, VErr>;

fn verr<T>(span: Range<usize>, message: impl Into<String>) -> VResult<T> {
    Err(VErr {
        span,
        message: message.into(),
    })
}

/// 1-based (line, column) of byte `offset` in `src`; column counts characters.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(src.len());
    while !src.is_char_boundary(off) {
        off -= 1;
    }
    let before = &src[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Every located error passes here; quoted values in it are shortened
/// (`clip`), as a value can be as large as the file.
fn located(src: &str, path: &Path, offset: usize, message: String) -> ScenarioError {
    let (line, column) = line_col(src, offset);
    ScenarioError {
        path: path.to_path_buf(),
        line,
        column,
        message: super::clip::clip_quoted(&message),
    }
}

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

/// "in [expect.naive]", "in [[steps]]", "at the top level".
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
fn de_error(src: &str, path: &Path, err: &toml::de::Error) -> ScenarioError {
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

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Parse and validate one scenario; `path` is only used in errors and stored
/// in `Scenario::path`.
pub fn parse_str(src: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    parse_located(src, path).map(|(s, _)| s)
}

/// Like `parse_str`, also returning the byte offset of the `name` value.
fn parse_located(src: &str, path: &Path) -> Result<(Scenario, usize), ScenarioError> {
    if src.trim().is_empty() {
        return Err(located(
            src,
            path,
            0,
            "empty file; expected a scenario with name, summary, [target], actors, [[steps]] and [expect]"
                .to_owned(),
        ));
    }
    let deserializer = toml::de::Deserializer::parse(src).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        located(
            src,
            path,
            offset,
            format!("invalid TOML: {}", e.message().trim()),
        )
    })?;
    let raw = RawScenario::deserialize(deserializer).map_err(|e| de_error(src, path, &e))?;
    validate(src, raw, path).map_err(|e| located(src, path, e.span.start, e.message))
}

/// Read and parse one file. Unreadable files get line 0 (so do files that
/// are not regular or are over `read::MAX_SCENARIO_BYTES`); invalid UTF-8
/// is located at the first bad byte.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    load_located(path).map(|(s, _, _)| s)
}

fn load_located(path: &Path) -> Result<(Scenario, usize, String), ScenarioError> {
    let bytes = super::read::read_bounded(path)?;
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
                format!(
                    "file is not valid UTF-8: expected UTF-8 text, found byte 0x{:02x}",
                    bytes[good]
                ),
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
    // Files to load, and problems finding them, in argument order.
    let mut items: Vec<Result<PathBuf, ScenarioError>> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let mut errors = Vec::new();
            walk(p, &mut found, &mut errors);
            found.sort();
            items.extend(errors.into_iter().map(Err));
            items.extend(found.into_iter().map(Ok));
        } else if p.exists() {
            items.push(Ok(p.clone()));
        } else {
            items.push(Err(ScenarioError {
                path: p.clone(),
                line: 0,
                column: 0,
                message: "no such file or directory".to_owned(),
            }));
        }
    }

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
                        format!(
                            "duplicate scenario name \"{}\": also used by {}",
                            s.name,
                            first.display()
                        ),
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

/// Collect `*.toml` files under `dir`. Symlinked folders are not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<ScenarioError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ScenarioError {
                path: dir.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("cannot read folder: {e}"),
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(ScenarioError {
                    path: dir.to_path_buf(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read folder: {e}"),
                });
                continue;
            }
        };
        let p = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            walk(&p, out, errors);
        } else if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
            out.push(p);
        }
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

fn is_scenario_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `what` is already quoted as needed, e.g. `"\"ms\""`.
/// An optional numeric target option: absent, not allowed here (`refused`
/// says why, at the value), or checked against `min..=max`.
fn opt_range(
    v: &Option<S<u64>>,
    what: &str,
    min: u64,
    max: u64,
    refused: Option<&str>,
) -> VResult<Option<u64>> {
    match (v, refused) {
        (None, _) => Ok(None),
        (Some(v), Some(why)) => verr(v.span(), why),
        (Some(v), None) => check_range(v, what, min, max).map(Some),
    }
}

fn check_range(v: &S<u64>, what: &str, min: u64, max: u64) -> VResult<u64> {
    let n = *v.get_ref();
    if n < min || n > max {
        return verr(
            v.span(),
            format!("{what} must be between {min} and {max}, found {n}"),
        );
    }
    Ok(n)
}

fn validate(src: &str, raw: RawScenario, path: &Path) -> VResult<(Scenario, usize)> {
    let doc = 0..0;

    let name = raw.name.ok_or_else(|| VErr {
        span: doc.clone(),
        message: "missing required key \"name\" (lowercase letters, digits and '-')".into(),
    })?;
    if !is_scenario_name(name.get_ref()) {
        return verr(
            name.span(),
            format!(
                "invalid name \"{}\"; expected lowercase letters, digits and '-'",
                name.get_ref()
            ),
        );
    }

    let summary = raw.summary.ok_or_else(|| VErr {
        span: doc.clone(),
        message: "missing required key \"summary\" (a one-line description)".into(),
    })?;
    if summary.get_ref().trim().is_empty() {
        return verr(summary.span(), "\"summary\" must not be empty");
    }

    let refs = raw
        .refs
        .map(|r| r.into_inner().into_iter().map(S::into_inner).collect())
        .unwrap_or_default();

    let timeout_ms = match &raw.timeout_ms {
        Some(t) => check_range(t, "\"timeout_ms\"", 1, limits::MAX_SCENARIO_TIMEOUT_MS)?,
        None => limits::DEFAULT_SCENARIO_TIMEOUT_MS,
    };

    let target_raw = raw.target.ok_or_else(|| VErr {
        span: doc.clone(),
        message: "missing required table [target] (with proto = \"tcp\" or \"udp\")".into(),
    })?;
    let target = validate_target(&target_raw)?;

    // `actors`/`groups` may be written at the top level or, as in the usual
    // layout where they follow `[target]`'s keys, inside [target]; not both.
    let t = target_raw.get_ref();
    let singles = pick_one(raw.actors.as_ref(), t.actors.as_ref(), "actors")?;
    let groups = pick_one(raw.groups.as_ref(), t.groups.as_ref(), "groups")?;
    let actors = validate_actors(singles, groups, target.mode)?;

    let raw_steps = raw.steps.map(S::into_inner).unwrap_or_default();
    let mut steps = Vec::with_capacity(raw_steps.len());
    let mut repeats = Vec::new();
    let mut repeat_spans = Vec::new();
    let mut ids: HashMap<String, Range<usize>> = HashMap::new();
    let mut add = |rs: &S<RawStep>, steps: &mut Vec<Step>| -> VResult<()> {
        if steps.len() >= limits::MAX_STEPS {
            return verr(
                rs.span(),
                format!("too many steps: at most {} allowed", limits::MAX_STEPS),
            );
        }
        let step = validate_step(src, rs, &target, &actors)?;
        if let (Some(id), Some(raw_id)) = (&step.id, &rs.get_ref().id) {
            if ids.contains_key(id) {
                return verr(
                    raw_id.span(),
                    format!("duplicate step id \"{id}\"; step ids must be unique"),
                );
            }
            ids.insert(id.clone(), raw_id.span());
        }
        steps.push(step);
        Ok(())
    };
    for rs in &raw_steps {
        match repeat_block(rs)? {
            None => add(rs, &mut steps)?,
            Some((times, times_at, block)) => {
                let first = steps.len();
                for inner in block {
                    if let Some(r) = &inner.get_ref().repeat {
                        return verr(
                            r.span(),
                            "repeat blocks cannot be nested; expected a step with op here",
                        );
                    }
                    add(inner, &mut steps)?;
                }
                repeats.push(Repeat {
                    first,
                    len: steps.len() - first,
                    times,
                    line: line_col(src, times_at.start).0,
                });
                repeat_spans.push(times_at);
            }
        }
    }

    let expect_raw = raw.expect.ok_or_else(|| VErr {
        span: doc.clone(),
        message: "missing required tables [expect.naive] and [expect.hardened]".into(),
    })?;
    let expect_span = expect_raw.span();
    let expect_raw = expect_raw.into_inner();
    let mut expect = BTreeMap::new();
    // [expect.naive-seq] came with the sequential naive server; a file
    // written before it stays valid, its naive-seq runs are unverified.
    if let Some(raw_seq) = &expect_raw.naive_seq {
        expect.insert(
            Impl::NaiveSeq,
            validate_impl_expect(Impl::NaiveSeq, raw_seq, &ids)?,
        );
    }
    for (imp, raw_impl) in [
        (Impl::Naive, expect_raw.naive),
        (Impl::Hardened, expect_raw.hardened),
    ] {
        let raw_impl = raw_impl.ok_or_else(|| VErr {
            span: expect_span.clone(),
            message: format!(
                "missing [expect.{}]; both [expect.naive] and [expect.hardened] are required",
                imp.as_str()
            ),
        })?;
        expect.insert(imp, validate_impl_expect(imp, &raw_impl, &ids)?);
    }

    let name_at = name.span().start;
    let scenario = Scenario {
        path: path.to_path_buf(),
        name: name.into_inner(),
        summary: summary.into_inner(),
        refs,
        target,
        actors,
        steps,
        repeats,
        expect,
        timeout_ms,
    };
    let first = raw_steps.first().map_or(doc, S::span);
    check_executions(&scenario, &repeat_spans, first)?;
    Ok((scenario, name_at))
}

/// `Some((times, span of repeat, steps))` for a `repeat` step, `None` for
/// an ordinary one.
type Block<'a> = (u32, Range<usize>, &'a [S<RawStep>]);

fn repeat_block(rs: &S<RawStep>) -> VResult<Option<Block<'_>>> {
    let r = rs.get_ref();
    let (times, d) = match (&r.repeat, &r.do_) {
        (None, None) => return Ok(None),
        (None, Some(d)) => {
            return verr(
                d.span(),
                "\"do\" needs \"repeat\" = N in the same step (the number of times to run it)",
            )
        }
        (Some(t), None) => {
            return verr(
                t.span(),
                "\"repeat\" needs its steps: add [[steps.do]] tables after it",
            )
        }
        (Some(t), Some(d)) => (t, d),
    };
    let n = check_range(times, "\"repeat\"", 1, limits::MAX_REPEAT)?;
    let common = [
        ("actor", r.actor.as_ref().map(S::span)),
        ("op", r.op.as_ref().map(S::span)),
        ("id", r.id.as_ref().map(S::span)),
        ("parallel", r.parallel.as_ref().map(S::span)),
    ];
    for (key, span) in common.into_iter().chain(r.op_key_spans()) {
        if let Some(span) = span {
            return verr(
                span,
                format!("key \"{key}\" does not apply to a repeat block; it takes only \"repeat\" and [[steps.do]] (put \"{key}\" in a step inside it)"),
            );
        }
    }
    if d.get_ref().is_empty() {
        return verr(d.span(), "a repeat block needs at least one step in \"do\"");
    }
    Ok(Some((n as u32, times.span(), d.get_ref().as_slice())))
}

/// The whole scenario stays bounded: steps x members x repetitions.
/// Located at the largest `repeat` (or the first step without one).
fn check_executions(sc: &Scenario, spans: &[Range<usize>], first: Range<usize>) -> VResult<()> {
    let n = sc.executions();
    if n > limits::MAX_EXECUTIONS {
        let span = sc
            .repeats
            .iter()
            .zip(spans)
            .max_by_key(|(r, _)| r.times)
            .map_or(first, |(_, s)| s.clone());
        return verr(
            span,
            format!(
                "the scenario runs {n} step executions (steps x group members x repetitions); at most {} allowed",
                limits::MAX_EXECUTIONS
            ),
        );
    }
    Ok(())
}

/// The top-level or the [target] variant of a key, but not both.
fn pick_one<'a, T>(
    top: Option<&'a S<T>>,
    in_target: Option<&'a S<T>>,
    key: &str,
) -> VResult<Option<&'a S<T>>> {
    match (top, in_target) {
        (Some(_), Some(t)) => verr(
            t.span(),
            format!("\"{key}\" is given both at the top level and in [target]; expected it once"),
        ),
        (a, b) => Ok(a.or(b)),
    }
}

fn validate_target(raw: &S<RawTarget>) -> VResult<TargetSpec> {
    let t = raw.get_ref();
    let proto_raw = t.proto.as_ref().ok_or_else(|| VErr {
        span: raw.span(),
        message: "missing required key \"proto\" in [target]; expected \"tcp\" or \"udp\"".into(),
    })?;
    let proto = match proto_raw.get_ref().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        other => {
            return verr(
                proto_raw.span(),
                format!("unknown proto \"{other}\"; expected one of: tcp, udp"),
            )
        }
    };
    let mode = match &t.mode {
        None => Mode::Echo,
        Some(m) => match m.get_ref().as_str() {
            "echo" => Mode::Echo,
            "forward" => Mode::Forward,
            other => {
                return verr(
                    m.span(),
                    format!("unknown mode \"{other}\"; expected one of: echo, forward"),
                )
            }
        },
    };
    if mode == Mode::Forward && proto != Proto::Tcp {
        let span = t.mode.as_ref().map_or(raw.span(), |m| m.span());
        return verr(
            span,
            "mode = \"forward\" requires proto = \"tcp\", found proto = \"udp\"",
        );
    }
    let bind = match &t.bind {
        None => "127.0.0.1".to_owned(),
        Some(b) => {
            let s = b.get_ref();
            match s.parse::<IpAddr>() {
                Ok(ip) if ip.is_loopback() => s.clone(),
                Ok(_) => {
                    return verr(
                        b.span(),
                        format!("bind address \"{s}\" is not loopback; expected an address in 127.0.0.0/8 or ::1"),
                    )
                }
                Err(_) => {
                    return verr(
                        b.span(),
                        format!("invalid bind address \"{s}\"; expected a loopback IP such as 127.0.0.1 or ::1"),
                    )
                }
            }
        }
    };
    let ip_recverr = match &t.ip_recverr {
        None => false,
        Some(v) if proto == Proto::Udp => *v.get_ref(),
        Some(v) => {
            return verr(
                v.span(),
                "\"ip_recverr\" is only valid with proto = \"udp\", found proto = \"tcp\"",
            )
        }
    };
    let max_fds = opt_range(&t.max_fds, "\"max_fds\"", MIN_MAX_FDS, MAX_MAX_FDS, None)?;
    let reply_delay_ms = opt_range(
        &t.reply_delay_ms,
        "\"reply_delay_ms\"",
        0,
        limits::MAX_WAIT_MS,
        (mode == Mode::Forward)
            .then_some("\"reply_delay_ms\" applies to echo servers only, found mode = \"forward\""),
    )?;
    let idle_timeout_ms = opt_range(
        &t.idle_timeout_ms,
        "\"idle_timeout_ms\"",
        1,
        limits::MAX_IDLE_TIMEOUT_MS,
        (proto == Proto::Udp).then_some(
            "\"idle_timeout_ms\" is only valid with proto = \"tcp\" (UDP has no connections), found proto = \"udp\"",
        ),
    )?;
    Ok(TargetSpec {
        proto,
        mode,
        bind,
        options: ServerOptions {
            ip_recverr,
            max_fds,
            reply_delay_ms,
            idle_timeout_ms,
        },
    })
}

fn validate_actors(
    singles: Option<&S<Vec<S<String>>>>,
    groups: Option<&S<BTreeMap<S<String>, S<u64>>>>,
    mode: Mode,
) -> VResult<Vec<Actor>> {
    let mut actors: Vec<Actor> = Vec::new();
    let declared = |name: &S<String>, count: u32, actors: &mut Vec<Actor>| -> VResult<()> {
        let n = name.get_ref();
        if !is_ident(n) {
            return verr(
                name.span(),
                format!(
                    "invalid actor name \"{n}\"; expected lowercase letters, digits, '-' and '_'"
                ),
            );
        }
        if n == UPSTREAM {
            return verr(
                name.span(),
                "actor \"upstream\" is reserved: it exists implicitly in forward mode and cannot be declared",
            );
        }
        if actors.iter().any(|a| a.name == *n) {
            return verr(name.span(), format!("actor \"{n}\" is declared twice"));
        }
        actors.push(Actor {
            name: n.clone(),
            kind: ActorKind::Client,
            count,
        });
        Ok(())
    };
    if let Some(list) = singles {
        for name in list.get_ref() {
            declared(name, 1, &mut actors)?;
        }
    }
    if let Some(groups) = groups {
        // Keep file order rather than the map's alphabetical order.
        let mut entries: Vec<_> = groups.get_ref().iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (name, count) in entries {
            let c = check_range(
                count,
                &format!("size of group \"{}\"", name.get_ref()),
                1,
                u64::from(limits::MAX_ACTOR_COUNT),
            )?;
            declared(name, c as u32, &mut actors)?;
        }
    }
    if mode == Mode::Forward {
        actors.push(Actor {
            name: UPSTREAM.to_owned(),
            kind: ActorKind::Upstream,
            count: 1,
        });
    }
    Ok(actors)
}

/// Keys each op accepts besides `op`, `actor` and `id`.
fn op_keys(op: &str) -> &'static [&'static str] {
    match op {
        "connect" => &["timeout_ms"],
        "send" => &["bytes", "text", "timeout_ms"],
        "recv" => &["bytes", "until", "timeout_ms"],
        "shutdown" => &["how"],
        "wait" => &["ms"],
        _ => &[],
    }
}

fn validate_step(
    src: &str,
    raw: &S<RawStep>,
    target: &TargetSpec,
    actors: &[Actor],
) -> VResult<Step> {
    let r = raw.get_ref();
    let span = raw.span();
    let line_at = span.start;

    let op_raw = r.op.as_ref().ok_or_else(|| VErr {
        span: span.clone(),
        message: format!("step is missing required key \"op\"; expected one of: {OPS}"),
    })?;
    let op_name = op_raw.get_ref().as_str();
    if !OPS.split(", ").any(|o| o == op_name) {
        return verr(
            op_raw.span(),
            format!("unknown op \"{op_name}\"; expected one of: {OPS}"),
        );
    }

    // Actor: required except for the scenario-level ops, which take none.
    let actor: Option<&Actor> = if matches!(op_name, "wait" | "pause" | "resume" | "probe") {
        if let Some(a) = &r.actor {
            let what = if op_name == "wait" {
                "a scenario-level pause"
            } else {
                "a scenario-level op on the server under test"
            };
            return verr(
                a.span(),
                format!("op \"{op_name}\" is {what} and takes no actor"),
            );
        }
        None
    } else {
        let a = r.actor.as_ref().ok_or_else(|| VErr {
            span: span.clone(),
            message: format!("step with op \"{op_name}\" is missing required key \"actor\""),
        })?;
        let name = a.get_ref();
        match actors.iter().find(|x| x.name == *name) {
            Some(x) => Some(x),
            None if name == UPSTREAM => {
                return verr(
                    a.span(),
                    "actor \"upstream\" exists only in forward mode (target.mode = \"forward\")",
                )
            }
            None => {
                let list: Vec<&str> = actors.iter().map(|x| x.name.as_str()).collect();
                let list = if list.is_empty() {
                    "(none)".to_owned()
                } else {
                    list.join(", ")
                };
                return verr(
                    a.span(),
                    format!("step uses actor \"{name}\", which is not declared; declared actors: {list}"),
                );
            }
        }
    };

    // Is the op valid for this actor / proto?
    if let Some(a) = actor {
        let (allowed, who): (&[&str], String) = match (a.kind, target.proto) {
            (ActorKind::Upstream, _) => (
                &["accept", "send", "recv", "shutdown", "close", "abort"],
                "the upstream actor".to_owned(),
            ),
            (ActorKind::Client, Proto::Udp) => (
                &["bind", "connect", "send", "recv", "close"],
                "a UDP client".to_owned(),
            ),
            (ActorKind::Client, Proto::Tcp) => (
                &["connect", "send", "recv", "shutdown", "close", "abort"],
                "a TCP client".to_owned(),
            ),
        };
        if !allowed.contains(&op_name) {
            return verr(
                op_raw.span(),
                format!(
                    "op \"{op_name}\" is not valid for {who} (actor \"{}\"); expected one of: {}",
                    a.name,
                    allowed.join(", ")
                ),
            );
        }
    }

    // Keys that do not belong to this op.
    let allowed = op_keys(op_name);
    for (key, s) in r.op_key_spans() {
        if let Some(s) = s {
            if !allowed.contains(&key) {
                let takes = if allowed.is_empty() {
                    "no other keys".to_owned()
                } else {
                    format!("only {}", allowed.join(", "))
                };
                return verr(
                    s,
                    format!("key \"{key}\" does not apply to op \"{op_name}\"; \"{op_name}\" takes {takes} (besides actor, op, id)"),
                );
            }
        }
    }

    let udp = target.proto == Proto::Udp;
    let op = match op_name {
        "connect" => {
            if let (true, Some(t)) = (udp, &r.timeout_ms) {
                return verr(
                    t.span(),
                    "\"timeout_ms\" on connect is TCP only (a UDP connect does not wait for anyone)",
                );
            }
            Op::Connect {
                timeout_ms: r
                    .timeout_ms
                    .as_ref()
                    .map(|t| check_range(t, "\"timeout_ms\"", 1, limits::MAX_CONNECT_TIMEOUT_MS))
                    .transpose()?,
            }
        }
        "bind" => Op::Bind,
        "accept" => Op::Accept,
        "close" => Op::Close,
        "abort" => Op::Abort,
        "pause" => Op::Pause,
        "resume" => Op::Resume,
        "probe" => Op::Probe,
        "send" => {
            let payload = match (&r.bytes, &r.text) {
                (Some(_), Some(t)) => {
                    return verr(
                        t.span(),
                        "send takes exactly one of \"bytes\" or \"text\", found both",
                    )
                }
                (None, None) => return verr(
                    op_raw.span(),
                    "send needs exactly one of \"bytes\" = N or \"text\" = \"...\", found neither",
                ),
                (Some(b), None) => {
                    Payload::Bytes(usize::try_from(*b.get_ref()).unwrap_or(usize::MAX))
                }
                (None, Some(t)) => Payload::Text(t.get_ref().clone()),
            };
            let max = if udp {
                limits::MAX_UDP_PAYLOAD
            } else {
                limits::MAX_PAYLOAD
            };
            if payload.len() > max {
                let s = r
                    .bytes
                    .as_ref()
                    .map(S::span)
                    .or(r.text.as_ref().map(S::span))
                    .unwrap_or(span.clone());
                return verr(
                    s,
                    format!(
                        "payload of {} bytes is too large; at most {max} bytes allowed{}",
                        payload.len(),
                        if udp { " for UDP" } else { "" }
                    ),
                );
            }
            let timeout_ms = r
                .timeout_ms
                .as_ref()
                .map(|t| check_range(t, "\"timeout_ms\"", 1, limits::MAX_SEND_TIMEOUT_MS))
                .transpose()?;
            Op::Send {
                payload,
                timeout_ms,
            }
        }
        "recv" => {
            let mode =
                match (&r.bytes, &r.until) {
                    (Some(_), Some(u)) => {
                        return verr(
                            u.span(),
                            "recv takes at most one of \"bytes\" or \"until\", found both",
                        )
                    }
                    (Some(b), None) => {
                        let max = if udp {
                            limits::MAX_UDP_PAYLOAD
                        } else {
                            limits::MAX_PAYLOAD
                        } as u64;
                        RecvMode::Exact(check_range(b, "\"bytes\"", 1, max)? as usize)
                    }
                    (None, Some(u)) => match u.get_ref().as_str() {
                        "eof" if udp => return verr(
                            u.span(),
                            "until = \"eof\" is only valid with proto = \"tcp\" (UDP has no EOF)",
                        ),
                        "eof" => RecvMode::Eof,
                        other => {
                            return verr(
                                u.span(),
                                format!("unknown until \"{other}\"; expected: eof"),
                            )
                        }
                    },
                    (None, None) => RecvMode::Any,
                };
            let timeout_ms = match &r.timeout_ms {
                Some(t) => check_range(t, "\"timeout_ms\"", 1, limits::MAX_RECV_TIMEOUT_MS)?,
                None => limits::DEFAULT_RECV_TIMEOUT_MS,
            };
            Op::Recv { mode, timeout_ms }
        }
        "shutdown" => {
            let h = r.how.as_ref().ok_or_else(|| VErr {
                span: op_raw.span(),
                message: "shutdown needs \"how\"; expected one of: write, read, both".into(),
            })?;
            let how = match h.get_ref().as_str() {
                "write" => ShutdownHow::Write,
                "read" => ShutdownHow::Read,
                "both" => ShutdownHow::Both,
                other => {
                    return verr(
                        h.span(),
                        format!("unknown how \"{other}\"; expected one of: write, read, both"),
                    )
                }
            };
            Op::Shutdown { how }
        }
        "wait" => {
            let m = r.ms.as_ref().ok_or_else(|| VErr {
                span: op_raw.span(),
                message: format!("wait needs \"ms\" = N (at most {})", limits::MAX_WAIT_MS),
            })?;
            Op::Wait {
                ms: check_range(m, "\"ms\"", 0, limits::MAX_WAIT_MS)?,
            }
        }
        // Checked against OPS above.
        other => {
            return verr(
                op_raw.span(),
                format!("unknown op \"{other}\"; expected one of: {OPS}"),
            )
        }
    };

    let id = match &r.id {
        None => None,
        Some(i) => {
            if !is_ident(i.get_ref()) {
                return verr(
                    i.span(),
                    format!(
                        "invalid step id \"{}\"; expected lowercase letters, digits, '-' and '_'",
                        i.get_ref()
                    ),
                );
            }
            Some(i.get_ref().clone())
        }
    };

    let parallel = match (&r.parallel, actor) {
        (None, _) => false,
        (Some(p), Some(a)) if a.count > 1 => *p.get_ref(),
        (Some(p), Some(a)) => {
            return verr(
                p.span(),
                format!(
                    "\"parallel\" applies to a step on a group (groups = {{ name = N }}); actor \"{}\" is a single {}",
                    a.name,
                    if a.kind == ActorKind::Upstream { "upstream" } else { "client" }
                ),
            )
        }
        (Some(p), None) => {
            return verr(
                p.span(),
                format!("key \"parallel\" does not apply to op \"{op_name}\""),
            )
        }
    };

    Ok(Step {
        id,
        actor: actor.map(|a| a.name.clone()).unwrap_or_default(),
        op,
        parallel,
        line: line_col(src, line_at).0,
    })
}

fn validate_verdicts(v: &S<StrOrList>) -> VResult<Vec<Verdict>> {
    let items = str_items(v);
    if items.is_empty() {
        return verr(
            v.span(),
            format!("\"server\" needs at least one verdict; expected one of: {VERDICTS}"),
        );
    }
    // "unknown": nobody has observed it here and no source says; unverified.
    if let [(s, span)] = items.as_slice() {
        if s == "unknown" {
            let _ = span;
            return Ok(Vec::new());
        }
    }
    let mut out = Vec::new();
    for (s, span) in items {
        let verdict = match s.as_str() {
            "survived" => Verdict::Survived,
            "hung" => Verdict::Hung,
            "crashed" => Verdict::Crashed,
            "leaked" => Verdict::Leaked,
            "busy" => Verdict::Busy,
            "rejecting" => Verdict::Rejecting,
            "unknown" => return verr(
                span,
                "\"unknown\" cannot be combined with other verdicts; write server = \"unknown\"",
            ),
            other => {
                return verr(
                    span,
                    format!(
                        "unknown verdict \"{other}\"; expected one of: {VERDICTS}, or \"unknown\""
                    ),
                )
            }
        };
        if !out.contains(&verdict) {
            out.push(verdict);
        }
    }
    Ok(out)
}

fn validate_matchers(v: &S<StrOrList>, what: &str) -> VResult<Vec<Matcher>> {
    let items = str_items(v);
    if items.is_empty() {
        return verr(v.span(), format!("{what} needs at least one matcher"));
    }
    let mut out = Vec::new();
    for (s, span) in items {
        if !is_valid_matcher(&s) {
            return verr(
                span,
                format!(
                    "unknown matcher \"{s}\" in {what}; expected \"ok\", \"eof\", \"timeout\", an error class \
                     (e.g. reset, refused, broken-pipe) or an OS error name (e.g. ECONNRESET, WSAECONNRESET)"
                ),
            );
        }
        out.push(s);
    }
    Ok(out)
}

/// `is_override`: a per-OS override may say `server_errors = []`, i.e. no
/// server error is required on that OS (it clears the base list).
fn validate_partial(
    server: Option<&S<StrOrList>>,
    server_errors: Option<&S<StrOrList>>,
    steps: Option<&S<BTreeMap<S<String>, S<StrOrList>>>>,
    ids: &HashMap<String, Range<usize>>,
    is_override: bool,
) -> VResult<PartialExpectation> {
    let server = server.map(validate_verdicts).transpose()?;
    let server_errors = match server_errors {
        Some(v) if is_override && str_items(v).is_empty() => Some(Vec::new()),
        other => other
            .map(|v| validate_matchers(v, "server_errors"))
            .transpose()?,
    };
    let steps = match steps {
        None => None,
        Some(map) => {
            let mut entries: Vec<_> = map.get_ref().iter().collect();
            entries.sort_by_key(|(k, _)| k.span().start);
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let id = k.get_ref();
                if !ids.contains_key(id) {
                    let mut known: Vec<&str> = ids.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    let known = if known.is_empty() {
                        "(none)".to_owned()
                    } else {
                        known.join(", ")
                    };
                    return verr(
                        k.span(),
                        format!("expectation refers to step id \"{id}\", which no step has; step ids: {known}"),
                    );
                }
                out.insert(id.clone(), validate_matchers(v, &format!("steps.{id}"))?);
            }
            Some(out)
        }
    };
    Ok(PartialExpectation {
        server,
        server_errors,
        steps,
    })
}

fn validate_impl_expect(
    imp: Impl,
    raw: &S<RawImplExpect>,
    ids: &HashMap<String, Range<usize>>,
) -> VResult<ImplExpectations> {
    let r = raw.get_ref();
    if r.server.is_none() {
        return verr(
            raw.span(),
            format!(
                "[expect.{}] is missing required key \"server\"; expected a verdict or a list of: {VERDICTS}",
                imp.as_str()
            ),
        );
    }
    let base = validate_partial(
        r.server.as_ref(),
        r.server_errors.as_ref(),
        r.steps.as_ref(),
        ids,
        false,
    )?;
    let mut per_os = BTreeMap::new();
    for (os, o) in [
        (ExpectKey::Linux, &r.linux),
        (ExpectKey::Windows, &r.windows),
        (ExpectKey::Macos, &r.macos),
        (ExpectKey::Wine, &r.wine),
    ] {
        if let Some(o) = o {
            let o = o.get_ref();
            per_os.insert(
                os,
                validate_partial(
                    o.server.as_ref(),
                    o.server_errors.as_ref(),
                    o.steps.as_ref(),
                    ids,
                    true,
                )?,
            );
        }
    }
    Ok(ImplExpectations { base, per_os })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    const VALID: &str = r#"name = "tcp-rst-mid-echo"
summary = "Clients abort with RST while the server echoes"
refs = ["https://example.com/issue/1", "https://example.com/issue/2"]
timeout_ms = 15000

[target]
proto = "tcp"
bind = "127.0.0.2"
max_fds = 64

actors = ["a", "b_2"]
groups = { crowd = 50, alpha = 2 }

[[steps]]
actor = "a"
op = "connect"

[[steps]]
actor = "crowd"
op = "connect"

[[steps]]
actor = "a"
op = "send"
text = "hello"

[[steps]]
actor = "crowd"
op = "send"
bytes = 4096

[[steps]]
op = "wait"
ms = 200

[[steps]]
actor = "a"
op = "recv"
id = "first-read"
bytes = 5
timeout_ms = 2000

[[steps]]
actor = "crowd"
op = "abort"

[[steps]]
actor = "b_2"
op = "connect"

[[steps]]
actor = "b_2"
op = "shutdown"
how = "write"

[[steps]]
actor = "b_2"
op = "recv"
id = "b-eof"
until = "eof"

[[steps]]
actor = "a"
op = "recv"

[[steps]]
actor = "a"
op = "close"

[expect.naive]
server = ["crashed", "hung"]
server_errors = ["reset", "ECONNRESET"]
steps = { first-read = ["ok", "reset"], b-eof = "eof" }

[expect.naive.windows]
server_errors = ["WSAECONNRESET"]

[expect.naive.macos]
server = "leaked"

[expect.hardened]
server = "survived"
"#;

    fn p() -> PathBuf {
        PathBuf::from("s.toml")
    }

    #[test]
    fn valid_scenario_round_trips() {
        let s = parse_str(VALID, &p()).unwrap();
        let step = |id: Option<&str>, actor: &str, op: Op, line: usize| Step {
            id: id.map(str::to_owned),
            actor: actor.to_owned(),
            op,
            parallel: false,
            line,
        };
        let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let expected = Scenario {
            path: p(),
            name: "tcp-rst-mid-echo".into(),
            summary: "Clients abort with RST while the server echoes".into(),
            refs: strs(&["https://example.com/issue/1", "https://example.com/issue/2"]),
            target: TargetSpec {
                proto: Proto::Tcp,
                mode: Mode::Echo,
                bind: "127.0.0.2".into(),
                options: ServerOptions {
                    ip_recverr: false,
                    reply_delay_ms: None,
                    idle_timeout_ms: None,
                    max_fds: Some(64),
                },
            },
            actors: vec![
                Actor {
                    name: "a".into(),
                    kind: ActorKind::Client,
                    count: 1,
                },
                Actor {
                    name: "b_2".into(),
                    kind: ActorKind::Client,
                    count: 1,
                },
                Actor {
                    name: "crowd".into(),
                    kind: ActorKind::Client,
                    count: 50,
                },
                Actor {
                    name: "alpha".into(),
                    kind: ActorKind::Client,
                    count: 2,
                },
            ],
            steps: vec![
                step(None, "a", Op::Connect { timeout_ms: None }, 14),
                step(None, "crowd", Op::Connect { timeout_ms: None }, 18),
                step(
                    None,
                    "a",
                    Op::Send {
                        payload: Payload::Text("hello".into()),
                        timeout_ms: None,
                    },
                    22,
                ),
                step(
                    None,
                    "crowd",
                    Op::Send {
                        payload: Payload::Bytes(4096),
                        timeout_ms: None,
                    },
                    27,
                ),
                step(None, "", Op::Wait { ms: 200 }, 32),
                step(
                    Some("first-read"),
                    "a",
                    Op::Recv {
                        mode: RecvMode::Exact(5),
                        timeout_ms: 2000,
                    },
                    36,
                ),
                step(None, "crowd", Op::Abort, 43),
                step(None, "b_2", Op::Connect { timeout_ms: None }, 47),
                step(
                    None,
                    "b_2",
                    Op::Shutdown {
                        how: ShutdownHow::Write,
                    },
                    51,
                ),
                step(
                    Some("b-eof"),
                    "b_2",
                    Op::Recv {
                        mode: RecvMode::Eof,
                        timeout_ms: limits::DEFAULT_RECV_TIMEOUT_MS,
                    },
                    56,
                ),
                step(
                    None,
                    "a",
                    Op::Recv {
                        mode: RecvMode::Any,
                        timeout_ms: limits::DEFAULT_RECV_TIMEOUT_MS,
                    },
                    62,
                ),
                step(None, "a", Op::Close, 66),
            ],
            expect: BTreeMap::from([
                (
                    Impl::Naive,
                    ImplExpectations {
                        base: PartialExpectation {
                            server: Some(vec![Verdict::Crashed, Verdict::Hung]),
                            server_errors: Some(strs(&["reset", "ECONNRESET"])),
                            steps: Some(BTreeMap::from([
                                ("first-read".to_string(), strs(&["ok", "reset"])),
                                ("b-eof".to_string(), strs(&["eof"])),
                            ])),
                        },
                        per_os: BTreeMap::from([
                            (
                                ExpectKey::Windows,
                                PartialExpectation {
                                    server_errors: Some(strs(&["WSAECONNRESET"])),
                                    ..Default::default()
                                },
                            ),
                            (
                                ExpectKey::Macos,
                                PartialExpectation {
                                    server: Some(vec![Verdict::Leaked]),
                                    ..Default::default()
                                },
                            ),
                        ]),
                    },
                ),
                (
                    Impl::Hardened,
                    ImplExpectations {
                        base: PartialExpectation {
                            server: Some(vec![Verdict::Survived]),
                            ..Default::default()
                        },
                        per_os: BTreeMap::new(),
                    },
                ),
            ]),
            repeats: Vec::new(),
            timeout_ms: 15000,
        };
        assert_eq!(s, expected);
        let win = s.expect[&Impl::Naive].resolve(Platform {
            os: Os::Windows,
            wine: false,
        });
        assert_eq!(win.server, vec![Verdict::Crashed, Verdict::Hung]);
        assert_eq!(win.server_errors, strs(&["WSAECONNRESET"]));
    }

    #[test]
    fn an_override_may_clear_server_errors_but_the_base_may_not() {
        let src = "name = \"x\"\nsummary = \"y\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\n\
                   [[steps]]\nactor = \"a\"\nop = \"connect\"\n\
                   [expect.naive]\nserver = \"survived\"\nserver_errors = [\"reset\"]\n\
                   [expect.naive.wine]\nserver_errors = []\n\
                   [expect.hardened]\nserver = \"survived\"\n";
        let s = parse_str(src, Path::new("x.toml")).unwrap();
        let on = |wine| {
            s.expect[&Impl::Naive].resolve(Platform {
                os: Os::Windows,
                wine,
            })
        };
        assert_eq!(on(false).server_errors, vec!["reset".to_string()]);
        assert!(on(true).server_errors.is_empty());
        let bad = src.replace("server_errors = [\"reset\"]", "server_errors = []");
        let err = parse_str(&bad, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs at least one matcher"), "{err}");
    }

    const FORWARD: &str = r#"name = "fwd-upstream-rst"
summary = "Upstream resets while a client is connected"
[target]
proto = "tcp"
mode = "forward"
bind = "::1"
actors = ["c"]
[[steps]]
actor = "c"
op = "connect"
[[steps]]
actor = "upstream"
op = "accept"
[[steps]]
actor = "upstream"
op = "abort"
[expect.naive]
server = "crashed"
[expect.hardened]
server = "survived"
"#;

    #[test]
    fn forward_mode_has_implicit_upstream_and_defaults() {
        let s = parse_str(FORWARD, &p()).unwrap();
        assert_eq!(s.target.mode, Mode::Forward);
        assert_eq!(s.target.bind, "::1");
        assert_eq!(s.timeout_ms, limits::DEFAULT_SCENARIO_TIMEOUT_MS);
        assert_eq!(
            s.actors.last(),
            Some(&Actor {
                name: "upstream".into(),
                kind: ActorKind::Upstream,
                count: 1
            })
        );
        assert_eq!(s.steps[1].op, Op::Accept);
        assert_eq!(s.steps[1].line, 11);
        assert!(s.refs.is_empty());
    }

    #[test]
    fn udp_scenario_with_recverr() {
        let src = r#"name = "udp-icmp"
summary = "x"
actors = ["u"]
steps = [
  { actor = "u", op = "bind" },
  { actor = "u", op = "send", bytes = 65507 },
  { actor = "u", op = "recv", bytes = 10, id = "r" },
]
[target]
proto = "udp"
ip_recverr = true
[expect.naive]
server = "survived"
steps = { r = ["timeout", "refused", "message-size"] }
[expect.hardened]
server = "survived"
"#;
        let s = parse_str(src, &p()).unwrap();
        assert!(s.target.options.ip_recverr);
        assert_eq!(s.steps.len(), 3);
        assert_eq!(s.steps[2].line, 7);
        assert_eq!(
            s.steps[2].op,
            Op::Recv {
                mode: RecvMode::Exact(10),
                timeout_ms: 1000
            }
        );
    }

    #[test]
    fn repeat_blocks_and_parallel_steps() {
        let src = r#"name = "storm"
summary = "x"
timeout_ms = 5000
[target]
proto = "tcp"
idle_timeout_ms = 250
actors = ["a"]
groups = { crowd = 3 }
[[steps]]
actor = "crowd"
op = "connect"
parallel = true
[[steps]]
repeat = 200
[[steps.do]]
actor = "a"
op = "connect"
[[steps.do]]
id = "flood"
actor = "a"
op = "send"
bytes = 10
timeout_ms = 300
[[steps]]
actor = "a"
op = "close"
[expect.naive]
server = "survived"
steps = { flood = ["ok", "short"] }
[expect.hardened]
server = "survived"
"#;
        let s = parse_str(src, &p()).unwrap();
        assert_eq!(s.target.options.idle_timeout_ms, Some(250));
        assert_eq!(s.steps.len(), 4);
        assert!(s.steps[0].parallel);
        assert!(!s.steps[1].parallel);
        assert_eq!(
            s.repeats,
            vec![Repeat {
                first: 1,
                len: 2,
                times: 200,
                line: 14
            }]
        );
        assert_eq!(
            s.steps.iter().map(|x| x.line).collect::<Vec<_>>(),
            vec![9, 15, 18, 24]
        );
        assert_eq!(
            s.steps[2].op,
            Op::Send {
                payload: Payload::Bytes(10),
                timeout_ms: Some(300)
            }
        );
        assert_eq!(s.repeat_at(1).map(|r| r.times), Some(200));
        assert_eq!(s.repeat_at(2), None);
        // crowd connect 3 + (connect + send) x 200 + close.
        assert_eq!(s.executions(), 3 + 400 + 1);
    }

    const HEAD: &str = "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\n";
    const TAIL: &str =
        "[expect.naive]\nserver = \"crashed\"\n[expect.hardened]\nserver = \"survived\"\n";
    const UDP_HEAD: &str = "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\n";

    fn with_head(middle: &str) -> String {
        format!("{HEAD}{middle}{TAIL}")
    }

    fn with_udp_head(middle: &str) -> String {
        format!("{UDP_HEAD}{middle}{TAIL}")
    }

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
    #[case::unknown_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"abrot\"\n"), 8, 6, "unknown op \"abrot\"; expected one of: connect, bind, accept, send, recv, shutdown, close, abort, wait, pause, resume, probe")]
    #[case::missing_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\n"),
        6,
        1,
        "missing required key \"op\""
    )]
    #[case::undeclared_actor(
        with_head("actors = [\"a\", \"b\"]\n[[steps]]\nactor = \"c\"\nop = \"connect\"\n"),
        7,
        9,
        "step uses actor \"c\", which is not declared; declared actors: a, b"
    )]
    #[case::op_invalid_for_udp(
        with_udp_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"abort\"\n"),
        8,
        6,
        "op \"abort\" is not valid for a UDP client"
    )]
    #[case::bind_invalid_for_tcp(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"bind\"\n"),
        8,
        6,
        "not valid for a TCP client"
    )]
    #[case::upstream_outside_forward(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"upstream\"\nop = \"accept\"\n"),
        7,
        9,
        "exists only in forward mode"
    )]
    #[case::upstream_declared(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nmode = \"forward\"\nactors = [\"a\", \"upstream\"]\n".to_string(), 6, 16, "actor \"upstream\" is reserved")]
    #[case::forward_on_udp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\nmode = \"forward\"\n".to_string(), 5, 8, "requires proto = \"tcp\"")]
    #[case::send_both_bytes_and_text(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 3\ntext = \"abc\"\n"), 10, 8, "exactly one of \"bytes\" or \"text\", found both")]
    #[case::send_neither(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\n"),
        8,
        6,
        "found neither"
    )]
    #[case::udp_payload_too_large(
        with_udp_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 65508\n"
        ),
        9,
        9,
        "at most 65507 bytes"
    )]
    #[case::recv_until_eof_on_udp(
        with_udp_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"recv\"\nuntil = \"eof\"\n"
        ),
        9,
        9,
        "until = \"eof\" is only valid with proto = \"tcp\""
    )]
    #[case::key_not_for_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 1\nhow = \"write\"\n"), 10, 7, "key \"how\" does not apply to op \"send\"")]
    #[case::wait_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"wait\"\nms = 5\n"),
        7,
        9,
        "takes no actor"
    )]
    #[case::probe_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"probe\"\n"),
        7,
        9,
        "op \"probe\" is a scenario-level op on the server under test and takes no actor"
    )]
    #[case::pause_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"pause\"\n"),
        7,
        9,
        "op \"pause\" is a scenario-level op on the server under test and takes no actor"
    )]
    #[case::resume_with_key(
        with_head("[[steps]]\nop = \"resume\"\nms = 5\n"),
        7,
        6,
        "key \"ms\" does not apply to op \"resume\""
    )]
    #[case::wait_too_long(
        with_head("[[steps]]\nop = \"wait\"\nms = 10001\n"),
        7,
        6,
        "between 0 and 10000"
    )]
    #[case::non_loopback_bind(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nbind = \"0.0.0.0\"\n".to_string(), 5, 8, "is not loopback")]
    #[case::bind_not_an_ip(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nbind = \"localhost\"\n".to_string(), 5, 8, "invalid bind address \"localhost\"")]
    #[case::recverr_on_tcp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nip_recverr = true\n".to_string(), 5, 14, "only valid with proto = \"udp\"")]
    #[case::max_fds_out_of_range(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nmax_fds = 8\n".to_string(), 5, 11, "between 16 and 1048576, found 8")]
    #[case::group_too_big(with_head("groups = { crowd = 1001 }\n"), 5, 20, "between 1 and 1000")]
    #[case::duplicate_actor(
        with_head("actors = [\"a\"]\ngroups = { a = 2 }\n"),
        6,
        12,
        "actor \"a\" is declared twice"
    )]
    #[case::duplicate_step_id(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nid = \"s\"\n[[steps]]\nactor = \"a\"\nop = \"close\"\nid = \"s\"\n"), 13, 6, "duplicate step id \"s\"")]
    #[case::expectation_unknown_step(
        format!("{HEAD}actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nid = \"s\"\n[expect.naive]\nserver = \"crashed\"\nsteps = {{ t = \"eof\" }}\n[expect.hardened]\nserver = \"survived\"\n"), 12, 11, "refers to step id \"t\", which no step has; step ids: s")]
    #[case::unknown_verdict(
        format!("{HEAD}[expect.naive]\nserver = [\"crashed\", \"exploded\"]\n"), 6, 22, "unknown verdict \"exploded\"; expected one of: survived, hung, crashed, leaked, busy, rejecting")]
    #[case::server_wrong_type(
        format!("{HEAD}[expect.naive]\nserver = 3\n"), 6, 10, "expected a string or an array of strings, found integer")]
    #[case::unknown_matcher(
        format!("{HEAD}[expect.naive]\nserver = \"crashed\"\nserver_errors = [\"reset\", \"ECONNRESTE\"]\n"), 7, 27, "unknown matcher \"ECONNRESTE\"")]
    #[case::missing_server(
        format!("{HEAD}[expect.naive]\nserver_errors = [\"reset\"]\n[expect.hardened]\nserver = \"survived\"\n"), 5, 1, "missing required key \"server\"")]
    #[case::missing_hardened(
        format!("{HEAD}[expect.naive]\nserver = \"crashed\"\n"), 5, 2, "missing [expect.hardened]")]
    #[case::missing_expect(
        HEAD.to_string(), 1, 1, "missing required tables [expect.naive] and [expect.hardened]")]
    #[case::missing_name(
        "summary = \"y\"\n".to_string(), 1, 1, "missing required key \"name\"")]
    #[case::bad_name(
        "name = \"Tcp Thing\"\n".to_string(), 1, 8, "invalid name \"Tcp Thing\"")]
    #[case::empty_summary(
        "name = \"x\"\nsummary = \"  \"\n".to_string(), 2, 11, "\"summary\" must not be empty")]
    #[case::toml_syntax_error(
        "name = \"x\"\nsummary = \"y\"\nproto = = 3\n".to_string(), 3, 9, "invalid TOML")]
    #[case::duplicate_toml_key(
        "name = \"x\"\nname = \"y\"\n".to_string(), 2, 1, "invalid TOML")]
    #[case::repeat_without_do(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 3\n"),
        7,
        10,
        "\"repeat\" needs its steps: add [[steps.do]]"
    )]
    #[case::do_without_repeat(
        with_head("actors = [\"a\"]\n[[steps]]\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"),
        7,
        1,
        "\"do\" needs \"repeat\" = N"
    )]
    #[case::repeat_too_many(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 1001\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 7, 10, "\"repeat\" must be between 1 and 1000, found 1001")]
    #[case::repeat_zero(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 0\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 7, 10, "between 1 and 1000, found 0")]
    #[case::repeat_with_op_key(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\nactor = \"a\"\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 8, 9, "key \"actor\" does not apply to a repeat block")]
    #[case::nested_repeat(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nrepeat = 3\n[[steps.do.do]]\nactor = \"a\"\nop = \"connect\"\n"), 9, 10, "repeat blocks cannot be nested")]
    #[case::unknown_key_in_block_step(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nactor = \"a\"\nopp = \"connect\"\n"), 10, 1, "unknown key \"opp\"")]
    #[case::op_error_inside_block(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nactor = \"a\"\nop = \"abrot\"\n"), 10, 6, "unknown op \"abrot\"")]
    #[case::too_many_executions(
        with_head("groups = { crowd = 1000 }\n[[steps]]\nactor = \"crowd\"\nop = \"connect\"\n[[steps]]\nrepeat = 51\n[[steps.do]]\nactor = \"crowd\"\nop = \"close\"\n"), 10, 10, "the scenario runs 52000 step executions")]
    #[case::parallel_on_single_actor(
        with_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nparallel = true\n"
        ),
        9,
        12,
        "\"parallel\" applies to a step on a group"
    )]
    #[case::parallel_on_wait(
        with_head("[[steps]]\nop = \"wait\"\nms = 5\nparallel = true\n"),
        8,
        12,
        "key \"parallel\" does not apply to op \"wait\""
    )]
    #[case::send_timeout_out_of_range(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 1\ntimeout_ms = 0\n"), 10, 14, "\"timeout_ms\" must be between 1 and 30000")]
    #[case::idle_timeout_on_udp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\nidle_timeout_ms = 100\n".to_string(), 5, 19, "\"idle_timeout_ms\" is only valid with proto = \"tcp\"")]
    #[case::empty_file("".to_string(), 1, 1, "empty file")]
    #[case::whitespace_file("\n  \n".to_string(), 1, 1, "empty file")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        let err = parse_str(&src, &p()).unwrap_err();
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

    #[test]
    fn line_col_counts_characters_and_clamps() {
        let s = "ab\né€x";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 5), (2, 2)); // after "é" (2 bytes)
        assert_eq!(line_col(s, 6), (2, 2)); // inside "€": back to its start
        assert_eq!(line_col(s, 100), (2, 4));
    }

    /// Delete or duplicate some lines of the valid file.
    fn mutate(src: &str, ops: &[(bool, usize)]) -> String {
        let mut lines: Vec<&str> = src.lines().collect();
        for &(dup, i) in ops {
            if lines.is_empty() {
                break;
            }
            let i = i % lines.len();
            if dup {
                lines.insert(i, lines[i]);
            } else {
                lines.remove(i);
            }
        }
        lines.join("\n")
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(src in "\\PC*") {
            let _ = parse_str(&src, &p());
        }

        #[test]
        fn never_panics_on_toml_like_text(src in "[a-z_\\[\\]=\" .{},0-9\n-]{0,200}") {
            let _ = parse_str(&src, &p());
        }

        #[test]
        fn never_panics_on_mutated_valid_files(
            ops in proptest::collection::vec((any::<bool>(), any::<usize>()), 1..6),
            which in any::<bool>(),
        ) {
            let base = if which { VALID } else { FORWARD };
            let src = mutate(base, &ops);
            if let Err(e) = parse_str(&src, &p()) {
                prop_assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e}");
                prop_assert!(e.line <= src.lines().count() + 1, "line out of range: {e}");
            }
        }
    }
}
