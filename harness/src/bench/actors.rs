//! netrepro's side of the storm and UDP comparisons: a scenario with a
//! large repeat block, run by the runner's own client actors
//! (`netrepro_runner::client::Session`, the path every `netrepro run`
//! takes) in this process against an address, with the step log kept as a
//! run keeps it but no report written. The scenarios are generated as TOML
//! and parsed like any file, so they obey every limit a user's does.

use netrepro_observe::StepOutcome;
use netrepro_runner::client::Session;
use netrepro_scenario::{limits, Scenario, ScenarioError};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Datagram size of the UDP round trips (both sides).
pub const DATAGRAM: usize = 32;

/// `cycles` connect+abort cycles by one actor: blocks of at most
/// `MAX_REPEAT` in a row (blocks do not nest), bounded by `max`.
pub fn storm_scenario(cycles: u64, max: Duration) -> Result<Arc<Scenario>, ScenarioError> {
    let body = |times: u64| {
        format!(
            "[[steps]]\nrepeat = {times}\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n\
             [[steps.do]]\nactor = \"a\"\nop = \"abort\"\n"
        )
    };
    scenario("bench-storm", "tcp", cycles, max, body).map(Arc::new)
}

/// `count` round trips of a `DATAGRAM`-byte datagram by one actor.
pub fn udp_scenario(count: u64, max: Duration) -> Result<Arc<Scenario>, ScenarioError> {
    let body = |times: u64| {
        format!(
            "[[steps]]\nrepeat = {times}\n[[steps.do]]\nactor = \"a\"\nop = \"send\"\n\
             bytes = {DATAGRAM}\n[[steps.do]]\nactor = \"a\"\nop = \"recv\"\nbytes = {DATAGRAM}\n"
        )
    };
    scenario("bench-udp", "udp", count, max, body).map(Arc::new)
}

/// An empty scenario: start, probe, settle, stop and nothing else.
pub fn empty_scenario() -> Result<Scenario, ScenarioError> {
    scenario("bench-empty", "tcp", 0, Duration::from_secs(10), |_| {
        String::new()
    })
}

fn scenario(
    name: &str,
    proto: &str,
    count: u64,
    max: Duration,
    block: impl Fn(u64) -> String,
) -> Result<Scenario, ScenarioError> {
    let timeout = (max.as_millis() as u64).clamp(1, limits::MAX_SCENARIO_TIMEOUT_MS);
    let mut toml = format!(
        "name = \"{name}\"\nsummary = \"netrepro bench\"\ntimeout_ms = {timeout}\n\
         actors = [\"a\"]\n[target]\nproto = \"{proto}\"\n"
    );
    let mut left = count;
    while left > 0 {
        let times = left.min(limits::MAX_REPEAT);
        toml.push_str(&block(times));
        left -= times;
    }
    for imp in ["naive", "hardened"] {
        let _ = write!(toml, "[expect.{imp}]\nserver = \"survived\"\n");
    }
    netrepro_scenario::parse_str(&toml, Path::new(name))
}

/// What the actors did: runs of the counted step that went as asked, and
/// every other run of any step that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

/// Run `sc`'s steps against `server` with the runner's client actors and
/// count the runs of `op` (e.g. "abort" for a storm cycle, "recv" for a
/// round trip) that went as asked. Only the steps are timed. They run on a
/// task of the runtime, as `run`'s results do (`netrepro_runner::jobs`),
/// not on the thread that waits for them.
pub async fn run_steps(sc: &Arc<Scenario>, server: SocketAddr, op: &'static str) -> Counted {
    let sc = Arc::clone(sc);
    let task = tokio::spawn(async move {
        let mut session = Session::new(&sc, server, None);
        let started = Instant::now();
        let log = session.run(&sc).await;
        let elapsed = started.elapsed();
        drop(session);
        (log.into_records(), elapsed)
    });
    let (records, elapsed) = match task.await {
        Ok(done) => done,
        // A panic in the actors is a harness bug; nothing was measured.
        Err(_) => (Vec::new(), Duration::ZERO),
    };
    let mut c = Counted {
        ok: 0,
        failed: 0,
        elapsed,
    };
    for r in records {
        match (&r.outcome, r.op == op) {
            (StepOutcome::Ok { .. }, true) => c.ok += r.runs,
            (StepOutcome::Ok { .. }, false) => {}
            _ => c.failed += r.runs,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::super::sinks::{TcpSink, UdpEcho};
    use super::*;

    #[test]
    fn a_storm_over_the_repeat_limit_is_split_into_blocks() {
        let sc = storm_scenario(2_500, Duration::from_secs(5)).unwrap();
        let times: Vec<u32> = sc.repeats.iter().map(|r| r.times).collect();
        assert_eq!(times, [1_000, 1_000, 500]);
        assert_eq!(sc.timeout_ms, 5_000);
        assert!(empty_scenario().unwrap().steps.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_actors_count_every_cycle_and_round_trip() {
        let sink = TcpSink::start().unwrap();
        let sc = storm_scenario(40, Duration::from_secs(30)).unwrap();
        let c = run_steps(&sc, sink.addr(), "abort").await;
        assert_eq!((c.ok, c.failed), (40, 0));

        let echo = UdpEcho::start().unwrap();
        let sc = udp_scenario(40, Duration::from_secs(30)).unwrap();
        let c = run_steps(&sc, echo.addr(), "recv").await;
        assert_eq!((c.ok, c.failed), (40, 0));
    }
}
