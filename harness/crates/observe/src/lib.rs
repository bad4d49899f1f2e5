//! Observations: what the runner saw while a scenario ran. Produced by the
//! client executor and the target; consumed by `verdict` and `report`.

pub use netrepro_sys::errors::ObservedError;
pub use netrepro_sys::process::sample::{ExitInfo, FdKind, ResourceSample};
use serde::{Deserialize, Serialize};

/// Result of one step for one actor (group member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StepOutcome {
    /// Completed; `bytes` sent or received (0 for ops that move no data).
    Ok { bytes: usize },
    /// Peer closed (TCP read returned 0) after `bytes`.
    Eof { bytes: usize },
    /// The OS reported an error after `bytes`.
    Error { bytes: usize, error: ObservedError },
    /// The step's own timeout elapsed after `bytes` (no OS error).
    Timeout { bytes: usize, after_ms: u64 },
    /// Not run, e.g. an earlier step of the same actor failed to set up a socket.
    Skipped { reason: String },
}

impl StepOutcome {
    /// The OS error `e` after `bytes`, classified by its raw code.
    pub fn os_error(bytes: usize, e: &std::io::Error) -> StepOutcome {
        StepOutcome::Error {
            bytes,
            error: netrepro_sys::errors::observe(e),
        }
    }

    /// The step's bound ran out after `bytes`, `waited` after it started.
    pub fn timed_out(bytes: usize, waited: std::time::Duration) -> StepOutcome {
        StepOutcome::Timeout {
            bytes,
            after_ms: waited.as_millis() as u64,
        }
    }
}

/// One executed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepRecord {
    /// 0-based index in the scenario's steps.
    pub index: usize,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub actor: String,
    /// Group member (0 for single actors).
    pub member: u32,
    /// Repetition of the step's `repeat` block, from 1; 0 when the step is
    /// not in a repeated block.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub iteration: u32,
    pub op: String,
    pub outcome: StepOutcome,
    pub elapsed_ms: u64,
    /// Bytes the step asked for (`recv bytes = N`, or a send's payload), so
    /// a short UDP datagram can be told from a complete one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<usize>,
    /// How many runs of this step (group members x repeat iterations) this
    /// record stands for. Runs with the same outcome as an earlier run of
    /// the same step are merged into that run's record, which stays as the
    /// example (`member`, `iteration`, `outcome`; `elapsed_ms` becomes the
    /// longest). Absent: 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub runs: u64,
    /// The last run merged into this record, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<RunAt>,
}

impl StepRecord {
    /// A `recv` that asked for N bytes and got fewer (a truncated UDP
    /// datagram): `short`, not `ok`.
    pub fn is_short(&self) -> bool {
        match (&self.outcome, self.wanted) {
            (StepOutcome::Ok { bytes }, Some(w)) => self.op == "recv" && *bytes < w,
            _ => false,
        }
    }

    /// How the step went if not as it asked: the error's OS name,
    /// `timeout` (e.g. a lost reply), `eof` (the peer closed before the
    /// bytes the step asked for), `short`, or `skipped`. `None` for ok, and
    /// for an EOF the step itself waited for (`recv` until EOF, or any).
    pub fn not_ok(&self) -> Option<&str> {
        match &self.outcome {
            StepOutcome::Ok { .. } => self.is_short().then_some("short"),
            StepOutcome::Eof { .. } => self.wanted.map(|_| "eof"),
            StepOutcome::Error { error, .. } => Some(&error.name),
            StepOutcome::Timeout { .. } => Some("timeout"),
            StepOutcome::Skipped { .. } => Some("skipped"),
        }
    }
}

/// One run of a step: which group member, in which repeat iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunAt {
    pub member: u32,
    /// 0 when the step is not in a repeated block.
    pub iteration: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// One line of the server's stderr log: an error it handled or died from.
/// This is also the wire format the built-in servers print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerEvent {
    /// Server operation: accept, recv, send, recv_from, send_to, connect_upstream, ...
    pub op: String,
    /// Raw OS code, if any.
    pub raw: Option<i32>,
    pub name: String,
    pub class: netrepro_sys::errors::ErrorClass,
    /// True if the server stops because of it.
    pub fatal: bool,
    /// Milliseconds since the server started (the first time, for a
    /// repeated event).
    #[serde(default)]
    pub t_ms: u64,
    /// Where netrepro read it: a JSON event line, or an error code it
    /// recognised in the server's own stderr text (`crate::errtext`).
    #[serde(default)]
    pub source: EventSource,
    /// `source = text`: the line it was read from (cut to a bounded length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How many identical events (same op, code, name, class, fatal, source)
    /// this one stands for; 1 unless the server repeated it.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    /// Milliseconds since the server started, the last time it was seen
    /// (`count > 1` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_t_ms: Option<u64>,
}

impl ServerEvent {
    /// A single event read from a JSON line (the wire format's fields).
    pub fn new(
        op: &str,
        error: &netrepro_sys::errors::ObservedError,
        fatal: bool,
        t_ms: u64,
    ) -> Self {
        ServerEvent {
            op: op.to_string(),
            raw: error.raw,
            name: error.name.clone(),
            class: error.class,
            fatal,
            t_ms,
            source: EventSource::Json,
            text: None,
            count: 1,
            last_t_ms: None,
        }
    }
}

/// How netrepro learned of a server event.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    /// A JSON event line the server wrote on stderr (the built-in servers,
    /// the examples' `_events.py`).
    #[default]
    Json,
    /// An error code recognised in the server's plain stderr text, e.g. a
    /// Python traceback's `[Errno 104]` or Node's `code: 'ECONNRESET'`;
    /// `fatal` is not known and is false.
    Text,
}

/// What the target wrote, bounded: the newest lines of each stream and how
/// much was merged, cut or dropped on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetOutput {
    /// The newest stderr lines that were not JSON events, oldest first.
    pub stderr_tail: Vec<String>,
    /// The newest stdout lines (the readiness line included), oldest first.
    pub stdout_tail: Vec<String>,
    /// Non-event stderr lines read in total (the tail keeps the newest).
    pub stderr_lines: u64,
    /// Stdout lines read in total.
    pub stdout_lines: u64,
    /// Lines shortened because they were longer than netrepro keeps (each
    /// such line ends with a note saying how long it was).
    pub cut_lines: u64,
    /// Server events read (JSON lines and errors recognised in text).
    pub events_read: u64,
    /// Events folded into an identical earlier one (see `count`).
    pub events_merged: u64,
    /// Events not kept because the result already held the maximum number
    /// of distinct events.
    pub events_dropped: u64,
}

/// The liveness probe after the scenario: did the server still answer?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeResult {
    /// The reply came back byte for byte.
    pub served: bool,
    pub outcome: StepOutcome,
    pub elapsed_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ErrorClass;

    fn rec(op: &str, outcome: StepOutcome, wanted: Option<usize>) -> StepRecord {
        StepRecord {
            index: 0,
            line: 1,
            id: None,
            actor: "a".into(),
            member: 0,
            iteration: 0,
            op: op.into(),
            outcome,
            elapsed_ms: 0,
            wanted,
            runs: 1,
            last: None,
        }
    }

    #[test]
    fn every_outcome_a_step_did_not_ask_for_has_a_label() {
        let ok = |bytes| StepOutcome::Ok { bytes };
        let eof = StepOutcome::Eof { bytes: 3 };
        assert_eq!(rec("recv", ok(32), Some(32)).not_ok(), None);
        assert_eq!(rec("send", ok(32), Some(32)).not_ok(), None);
        assert_eq!(rec("recv", ok(8), Some(32)).not_ok(), Some("short"));
        // EOF before the asked bytes, versus a recv that waits for EOF.
        assert_eq!(rec("recv", eof.clone(), Some(32)).not_ok(), Some("eof"));
        assert_eq!(rec("recv", eof, None).not_ok(), None);
        let lost = StepOutcome::Timeout {
            bytes: 0,
            after_ms: 1000,
        };
        assert_eq!(rec("recv", lost, Some(32)).not_ok(), Some("timeout"));
        let err = StepOutcome::Error {
            bytes: 0,
            error: netrepro_sys::errors::ObservedError {
                raw: Some(104),
                name: "ECONNRESET".into(),
                class: ErrorClass::Reset,
            },
        };
        assert_eq!(rec("recv", err, Some(32)).not_ok(), Some("ECONNRESET"));
        let skipped = StepOutcome::Skipped { reason: "x".into() };
        assert_eq!(rec("close", skipped, None).not_ok(), Some("skipped"));
    }
}
