//! Observations: what the runner saw while a scenario ran. Produced by the
//! client executor and the target; consumed by `verdict` and `report`.

use crate::errors::ObservedError;
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
    pub class: crate::errors::ErrorClass,
    /// True if the server stops because of it.
    pub fatal: bool,
    /// Milliseconds since the server started.
    #[serde(default)]
    pub t_ms: u64,
}

/// Resource usage of the server process at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceSample {
    /// `baseline` (after readiness), `after` (steps done), `settled` (after the settle wait).
    pub label: String,
    /// Open file descriptors (Unix) or handles (Windows).
    pub fds: Option<u64>,
    /// TCP sockets of the process in CLOSE_WAIT.
    pub close_wait: Option<u64>,
    pub t_ms: u64,
}

/// How a server process ended, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExitInfo {
    pub code: Option<i32>,
    /// Unix signal number.
    pub signal: Option<i32>,
}
