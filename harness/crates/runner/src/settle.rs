//! After the scenario: wait for the server's resources to come back to the
//! baseline and decide whether it leaked.
//!
//! A leak is judged only on what a scenario can cause in the server (issue
//! 10, item 11): its own TCP and UDP sockets, TCP sockets in CLOSE_WAIT,
//! threads and processes of its tree. Other descriptors (pipes, AF_UNIX
//! sockets, files, anon inodes) are pooled or opened lazily by runtimes — the
//! JVM opens an AF_UNIX socket at its first socket close, Go's `io.Copy`
//! keeps splice pipes until GC — so their growth is reported as information
//! ([`fd_growth`]), not as a verdict. Where the platform cannot tell a TCP
//! socket from another descriptor, the coarser counter stands in: socket
//! descriptors of any family (macOS), then all descriptors.
//!
//! When to stop waiting: as soon as every judged counter is back at or below
//! the baseline (settled), or, where the server's behaviour is known (the
//! built-in servers, [`Rule::Stable`]), as soon as the judged counters have
//! stayed unchanged above the baseline for a stable period longer than any
//! timer the server has. A server we did not write may close sockets on
//! timers we do not know, so for it only the full window decides
//! ([`Rule::Window`]).

use crate::live::Live;
use netrepro_observe::{FdKind, ResourceSample};
use netrepro_scenario::{Impl, Scenario};
use std::time::Duration;
use tokio::time::Instant;

/// Pause between two samples while waiting, once the first few did not
/// find the resources back.
const POLL: Duration = Duration::from_millis(20);
/// The first pause; each next one doubles, up to [`POLL`]. Most servers
/// close the end probe's connection within a millisecond or two of its
/// EOF, so the first sample, taken at once, often still sees it: a whole
/// [`POLL`] then was most of a result's overhead (issue 16.3). The
/// decisions are timed, not counted (stable for [`STABLE_FOR`], the
/// window), so polling sooner changes none of them.
const FIRST_POLL: Duration = Duration::from_millis(2);

/// The pause after the `n`th sample (from 0) that did not settle: 2, 4,
/// 8, 16, then 20 ms.
fn poll_pause(n: u32) -> Duration {
    FIRST_POLL.saturating_mul(1 << n.min(4)).min(POLL)
}

/// How long judged counters must stay unchanged above the baseline before a
/// built-in server is judged leaked early. The built-in servers close a
/// connection's sockets in the same event-loop turn / thread iteration that
/// sees its EOF or error, so 300 ms (15 unchanged samples) with no change is
/// far beyond their reaction time even on a loaded 2-core machine.
pub const STABLE_FOR: Duration = Duration::from_millis(300);

/// A counter the leak decision uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    TcpSockets,
    UdpSockets,
    CloseWait,
    Threads,
    Processes,
    /// Socket descriptors of any family (when TCP is unknown).
    Sockets,
    /// All descriptors (when sockets are unknown).
    Fds,
}

impl Counter {
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::TcpSockets => "tcp sockets",
            Counter::UdpSockets => "udp sockets",
            Counter::CloseWait => "CLOSE_WAIT sockets",
            Counter::Threads => "threads",
            Counter::Processes => "processes",
            Counter::Sockets => "sockets",
            Counter::Fds => "descriptors",
        }
    }
}

/// The judged counters of a sample and their values (`None` = unknown).
pub fn judged(s: &ResourceSample) -> Vec<(Counter, Option<u64>)> {
    let mut v = vec![
        (Counter::TcpSockets, s.tcp_sockets),
        (Counter::UdpSockets, s.udp_sockets),
        (Counter::CloseWait, s.close_wait),
        (Counter::Threads, s.threads),
        (Counter::Processes, s.processes),
    ];
    if s.tcp_sockets.is_none() {
        if s.sockets.is_some() {
            v.push((Counter::Sockets, s.sockets));
        } else {
            v.push((Counter::Fds, s.fds));
        }
    }
    v
}

/// Threads a runtime may add for itself and keep: Go parks the OS threads it
/// started under load and never ends them (measured: +1 or +2 after the
/// 40-client tcp-fd-exhaustion), the JVM starts compiler threads on demand.
/// A thread per connection that never ends exceeds this on any scenario with
/// more than two connections (abort-storm, many-clients-one-aborts); a
/// single stuck thread in a one-connection scenario is not seen.
pub const RUNTIME_THREADS: u64 = 2;

/// How far above the baseline a counter may end without being a leak.
fn allowance(c: Counter) -> u64 {
    match c {
        Counter::Threads => RUNTIME_THREADS,
        _ => 0,
    }
}

/// Judged counters above the baseline (plus its allowance): (counter,
/// baseline, now). Unknown counts (on either side) never count as growth.
pub fn grown(base: &ResourceSample, now: &ResourceSample) -> Vec<(Counter, u64, u64)> {
    judged(base)
        .into_iter()
        .zip(judged(now))
        .filter_map(|((c, b), (c2, n))| match (b, n) {
            (Some(b), Some(n)) if c == c2 && n > b + allowance(c) => Some((c, b, n)),
            _ => None,
        })
        .collect()
}

/// Resources are back to baseline for every judged counter.
pub fn settled(base: &ResourceSample, now: &ResourceSample) -> bool {
    grown(base, now).is_empty()
}

/// Descriptor types that grew (information, not a verdict): (kind, baseline, now).
pub fn fd_growth(base: &ResourceSample, now: &ResourceSample) -> Vec<(FdKind, u64, u64)> {
    now.fds_by_type
        .iter()
        .filter_map(|(k, n)| {
            let b = base.fds_by_type.get(k).copied().unwrap_or(0);
            (*n > b).then_some((*k, b, *n))
        })
        .collect()
}

/// "tcp sockets 3 -> 5, threads 2 -> 4"
pub fn describe_growth<T: Copy>(
    items: &[(T, u64, u64)],
    name: impl Fn(T) -> &'static str,
) -> String {
    items
        .iter()
        .map(|(c, b, n)| format!("{} {b} -> {n}", name(*c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How long to wait for resources to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Wait the whole window (a server whose timers we do not know).
    Window(Duration),
    /// Stop early once the judged counters stayed unchanged above the
    /// baseline for `stable`; never wait longer than `limit`.
    Stable { stable: Duration, limit: Duration },
}

/// How the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Back to baseline.
    Settled,
    /// Above the baseline and unchanged for the stable period.
    Stable,
    /// Still above the baseline when the window ended.
    TimedOut,
}

impl Outcome {
    pub fn leaked(self) -> bool {
        self != Outcome::Settled
    }
}

/// How long to wait for resources to settle: a built-in server (`builtin`:
/// which one; `None` for a server we did not write) is judged as soon as
/// its counters are stable past its own timers: the scenario's reply delay,
/// and the idle timeout, which only the hardened servers keep (the naive
/// ones have none: a leaked naive forwarder was watched 500 ms longer than
/// anything in it could change); an external server gets the whole `window`.
pub fn rule(sc: &Scenario, builtin: Option<Impl>, window: Duration) -> Rule {
    let opts = &sc.target.options;
    let idle = match builtin {
        Some(Impl::Hardened) => opts.idle_timeout_ms.unwrap_or(0),
        Some(Impl::Naive | Impl::NaiveSeq) => 0,
        Some(Impl::External) | None => return Rule::Window(window),
    };
    let timer = Duration::from_millis(idle.saturating_add(opts.reply_delay_ms.unwrap_or(0)));
    Rule::Stable {
        stable: STABLE_FOR + timer,
        limit: window.max(timer + STABLE_FOR),
    }
}

/// The result notes for a settled sample: what leaked (judged) and which
/// other descriptors grew (information only).
pub fn notes(base: &ResourceSample, settled: &ResourceSample, outcome: Outcome) -> Vec<String> {
    let mut notes = Vec::new();
    let grown = grown(base, settled);
    if !grown.is_empty() {
        notes.push(format!(
            "leaked: {} ({})",
            describe_growth(&grown, Counter::as_str),
            match outcome {
                Outcome::Stable => "unchanged for the stable period",
                _ => "still there when the settle window ended",
            }
        ));
    }
    let info = fd_growth(base, settled);
    if !info.is_empty() {
        notes.push(format!(
            "descriptors grew (information, not judged as a leak): {}",
            describe_growth(&info, FdKind::as_str)
        ));
    }
    notes
}

/// Poll the server's resources until they are back to `base`, or stay
/// unchanged above it (`Rule::Stable`), or the window ends. Returns the
/// last sample, how the wait ended and when that sample was begun (where
/// the busy check's first window starts).
pub async fn settle(
    target: &Live,
    base: &ResourceSample,
    rule: Rule,
) -> (ResourceSample, Outcome, Instant) {
    let (limit, stable) = match rule {
        Rule::Window(l) => (l, None),
        Rule::Stable { stable, limit } => (limit, Some(stable)),
    };
    let start = Instant::now();
    let deadline = start + limit;
    let mut last: Option<Vec<(Counter, Option<u64>)>> = None;
    let mut since = start;
    let mut polls = 0u32;
    loop {
        let at = Instant::now();
        let s = target.sample("settled");
        if settled(base, &s) {
            return (s, Outcome::Settled, at);
        }
        let now = Instant::now();
        let j = judged(&s);
        if last.as_ref() != Some(&j) {
            last = Some(j);
            since = now;
        } else if stable.is_some_and(|d| now.duration_since(since) >= d) {
            return (s, Outcome::Stable, at);
        }
        if now >= deadline {
            return (s, Outcome::TimedOut, at);
        }
        crate::precise_sleep::sleep(poll_pause(polls)).await;
        polls += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tcp: Option<u64>, cw: Option<u64>, threads: Option<u64>) -> ResourceSample {
        ResourceSample {
            label: "x".into(),
            fds: Some(10),
            tcp_sockets: tcp,
            close_wait: cw,
            threads,
            processes: Some(1),
            ..Default::default()
        }
    }

    #[test]
    fn polls_start_soon_and_back_off_to_the_poll_interval() {
        let ms = |n| poll_pause(n).as_millis();
        assert_eq!((0..6).map(ms).collect::<Vec<_>>(), [2, 4, 8, 16, 20, 20]);
        assert_eq!(poll_pause(u32::MAX), POLL);
    }

    #[test]
    fn the_stable_period_covers_the_timers_the_server_has() {
        let sc = netrepro_scenario::parse_str(
            "name = \"t\"\nsummary = \"s\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\n\
             idle_timeout_ms = 500\nreply_delay_ms = 100\n[[steps]]\nactor = \"a\"\nop = \"connect\"\n\
             [expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let window = Duration::from_millis(1500);
        let stable = |ms: u64| Rule::Stable {
            stable: Duration::from_millis(ms),
            limit: window.max(Duration::from_millis(ms)),
        };
        // Hardened: its idle timeout and the reply delay.
        assert_eq!(
            rule(&sc, Some(Impl::Hardened), window),
            stable(300 + 500 + 100)
        );
        // The naive servers keep no idle timer: only the reply delay.
        assert_eq!(rule(&sc, Some(Impl::Naive), window), stable(300 + 100));
        assert_eq!(rule(&sc, Some(Impl::NaiveSeq), window), stable(300 + 100));
        // Someone else's server: the whole window.
        assert_eq!(rule(&sc, None, window), Rule::Window(window));
    }

    #[test]
    fn growth_in_sockets_close_wait_or_threads_is_not_settled() {
        let base = sample(Some(1), Some(0), Some(1));
        assert!(settled(&base, &sample(Some(1), Some(0), Some(1))));
        assert!(settled(&base, &sample(Some(0), Some(0), Some(1))));
        assert!(!settled(&base, &sample(Some(3), Some(0), Some(1))));
        assert!(!settled(&base, &sample(Some(1), Some(1), Some(1))));
        // A runtime's own few threads are allowed, a thread per connection is not.
        assert!(settled(
            &base,
            &sample(Some(1), Some(0), Some(1 + RUNTIME_THREADS))
        ));
        assert!(!settled(
            &base,
            &sample(Some(1), Some(0), Some(2 + RUNTIME_THREADS))
        ));
        let mut more = sample(Some(1), Some(0), Some(1));
        more.processes = Some(2);
        assert_eq!(grown(&base, &more), vec![(Counter::Processes, 1, 2)]);
        // Unknown counts cannot prove a leak.
        assert!(settled(
            &ResourceSample::default(),
            &sample(Some(50), Some(3), Some(9))
        ));
    }

    #[test]
    fn other_descriptors_are_information_not_a_leak() {
        let mut base = sample(Some(1), Some(0), Some(1));
        base.fds_by_type.insert(FdKind::Pipe, 2);
        let mut now = base.clone();
        now.fds = Some(110);
        now.fds_by_type.insert(FdKind::Pipe, 102);
        now.fds_by_type.insert(FdKind::Unix, 1);
        assert!(settled(&base, &now));
        assert_eq!(
            fd_growth(&base, &now),
            vec![(FdKind::Unix, 0, 1), (FdKind::Pipe, 2, 102)]
        );
        assert_eq!(
            describe_growth(&fd_growth(&base, &now), FdKind::as_str),
            "unix 0 -> 1, pipe 2 -> 102"
        );
    }

    #[test]
    fn coarser_counters_stand_in_when_tcp_is_unknown() {
        // macOS: sockets of any family.
        let mut base = sample(None, None, Some(1));
        base.sockets = Some(1);
        let mut now = base.clone();
        now.sockets = Some(4);
        assert_eq!(grown(&base, &now), vec![(Counter::Sockets, 1, 4)]);
        // Only a descriptor count (e.g. Windows handles without the TCP table).
        let base = ResourceSample {
            fds: Some(10),
            ..Default::default()
        };
        let now = ResourceSample {
            fds: Some(12),
            ..Default::default()
        };
        assert_eq!(grown(&base, &now), vec![(Counter::Fds, 10, 12)]);
    }
}
