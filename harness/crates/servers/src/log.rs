//! The server's side of the harness protocol: one `LISTENING <addr>` line on
//! stdout when ready, and one JSON `ServerEvent` line on stderr per error the
//! server handles or dies from.

use netrepro_observe::ServerEvent;
use netrepro_sys::errors::ObservedError;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Fix the time origin of `t_ms` (call once, at startup).
pub fn start_clock() {
    START.get_or_init(Instant::now);
}

fn t_ms() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Announce readiness: exactly one line on stdout, flushed.
pub fn listening(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    // If nobody reads stdout there is nothing better to do than carry on.
    let _ = writeln!(out, "LISTENING {addr}");
    let _ = out.flush();
}

/// Log one error event; returns what was logged (handy for callers that
/// decide on the class).
pub fn event(op: &str, err: &io::Error, fatal: bool) -> ObservedError {
    let observed = netrepro_sys::errors::observe(err);
    emit(&ServerEvent::new(op, &observed, fatal, t_ms()));
    observed
}

fn emit(ev: &ServerEvent) {
    let Ok(mut line) = serde_json::to_string(ev) else {
        return;
    };
    line.push('\n');
    // One write per line so concurrent tasks never interleave inside a line.
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// Bounds logging of an error that repeats back to back (a UDP socket that
/// keeps failing the same way): log the first `burst` repeats, then one in
/// every `every`.
#[derive(Debug)]
pub struct RepeatLimiter {
    last: Option<(Option<i32>, io::ErrorKind)>,
    count: u64,
    burst: u64,
    every: u64,
}

impl RepeatLimiter {
    pub fn new(burst: u64, every: u64) -> Self {
        RepeatLimiter {
            last: None,
            count: 0,
            burst,
            every: every.max(1),
        }
    }

    /// Record `err`; true if it should be logged.
    pub fn should_log(&mut self, err: &io::Error) -> bool {
        let key = (err.raw_os_error(), err.kind());
        if self.last == Some(key) {
            self.count += 1;
        } else {
            self.last = Some(key);
            self.count = 1;
        }
        self.count <= self.burst || self.count % self.every == 0
    }

    /// An operation succeeded: the run of repeats is over.
    pub fn reset(&mut self) {
        self.last = None;
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_logs_burst_then_every_nth() {
        let mut l = RepeatLimiter::new(3, 10);
        let e = || io::Error::from_raw_os_error(111);
        let logged: Vec<bool> = (0..25).map(|_| l.should_log(&e())).collect();
        assert_eq!(logged.iter().filter(|b| **b).count(), 3 + 2); // 1..=3, 10, 20
        l.reset();
        assert!(l.should_log(&e()));
    }

    #[test]
    fn different_error_restarts_run() {
        let mut l = RepeatLimiter::new(1, 1000);
        assert!(l.should_log(&io::Error::from_raw_os_error(111)));
        assert!(!l.should_log(&io::Error::from_raw_os_error(111)));
        assert!(l.should_log(&io::Error::from_raw_os_error(104)));
    }
}
