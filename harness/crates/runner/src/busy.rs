//! Is the server still busy after the scenario ended? (issue 10, item 15)
//!
//! A server that serves the probe and gives back its resources can still be
//! broken: an asyncio UDP server with IP_RECVERR that never reads its error
//! queue is woken by epoll forever after one ICMP error and burns a core.
//! After the settle wait, when nothing talks to the server any more, the
//! process tree's time is measured over short windows: CPU time plus time
//! spent waiting for a CPU where the OS tells it (Linux schedstat), CPU time
//! alone elsewhere. A window below the threshold with no thread of the tree
//! runnable at its end ends the check (quiet); a server above the threshold
//! in [`WINDOWS`] windows is busy. A window below the threshold while a
//! thread is runnable (Linux: it wants a CPU whose wait is not counted yet)
//! decides nothing; at most [`MAX_WINDOWS`] are measured.

use crate::live::Live;
use netrepro_observe::ResourceSample;
use std::time::Duration;
use tokio::time::Instant;

/// One measurement window. CPU use is a rate: it can only be measured over
/// an interval, so this wait is the measurement itself, not a
/// synchronisation. Linux's schedstat counts nanoseconds, so 50 ms is
/// plenty; CPU times elsewhere move in scheduler ticks (10-16 ms), so they
/// get 100 ms. A quiet server is done after one window.
pub const WINDOW_PRECISE: Duration = Duration::from_millis(50);
/// The first window where time is counted precisely: most servers are
/// quiet, and a quiet one is told apart from a spinning one in 5 ms (a
/// spinning thread is runnable at every instant, so it is never "quiet");
/// only a server that is not quiet in it is measured over [`WINDOWS`]
/// full windows (this one does not count as one of them). Per result this
/// is 45 ms less of the overhead measured by `netrepro bench overhead`.
pub const WINDOW_FIRST: Duration = Duration::from_millis(5);
pub const WINDOW_TICKS: Duration = Duration::from_millis(100);
/// Windows a busy server must stay busy in ("stays busy", not a burst such
/// as a JIT compiling or a GC finishing after the storm).
pub const WINDOWS: u32 = 3;
/// Most windows measured: a window below the threshold while a thread of
/// the tree is runnable decides nothing (see [`check`]), so the check may
/// need more than [`WINDOWS`]; bounded all the same.
pub const MAX_WINDOWS: u32 = 8;
/// Share of one core (of the window's wall time) that counts as busy.
pub const BUSY_SHARE: f64 = 0.5;

/// What the check measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    /// Time used (ms) over the windows measured.
    pub used_ms: u64,
    /// Wall time (ms) of those windows.
    pub wall_ms: u64,
    /// [`WINDOWS`] windows were above the threshold.
    pub busy: bool,
    /// "CPU + run-queue time" or "CPU time".
    pub what: &'static str,
}

/// The counter measured: run-queue aware where known.
fn used(s: &ResourceSample) -> Option<(u64, &'static str)> {
    s.runnable_ms
        .map(|v| (v, "CPU + run-queue time"))
        .or(s.cpu_ms.map(|v| (v, "CPU time")))
}

/// Measure up to [`MAX_WINDOWS`] windows from `first`, a sample begun at
/// `first_at` (the settled one: the first window runs while the settle's
/// last sample is taken, not after it); `None` if the platform cannot tell.
///
/// A window runs from the start of one sample to the start of the next, so
/// each sample's own cost is inside a window, never added to it; the
/// samples here are CPU-only ones ([`Live::sample_cpu`]: no descriptors,
/// no socket tables, which this check does not read).
pub async fn check(target: &Live, first: &ResourceSample, first_at: Instant) -> Option<Busy> {
    let (mut prev, what) = used(first)?;
    let window = if first.runnable_ms.is_some() {
        WINDOW_PRECISE
    } else {
        WINDOW_TICKS
    };
    let start = first_at;
    let mut t0 = start;
    let mut total = 0u64;
    let mut busy_windows = 0;
    for n in 0..MAX_WINDOWS {
        let first = n == 0 && window == WINDOW_PRECISE;
        crate::precise_sleep::until(t0 + if first { WINDOW_FIRST } else { window }).await;
        let t1 = Instant::now();
        let sample = target.sample_cpu("busy");
        let (now_used, _) = used(&sample)?;
        let delta = now_used.saturating_sub(prev);
        total += delta;
        let wall = t1.duration_since(t0).as_millis().max(1) as f64;
        let done = |busy| Busy {
            used_ms: total,
            wall_ms: t1.duration_since(start).as_millis() as u64,
            busy,
            what,
        };
        if (delta as f64) >= BUSY_SHARE * wall {
            busy_windows += u32::from(!first);
            if busy_windows == WINDOWS {
                return Some(done(true));
            }
        } else if netrepro_sys::process::resources::runnable_now(&sample.pids) != Some(true) {
            return Some(done(false));
        }
        // Below the threshold but a thread is runnable: its run-queue wait
        // is counted only once it runs (schedstat), so a spinning server
        // kept off the CPUs by load through a whole window looks idle in it
        // (4 of 8 spinning servers at once on a loaded 2-core machine were
        // judged quiet, issue 16.2). Neither quiet nor busy: measure again.
        prev = now_used;
        t0 = t1;
    }
    // Never quiet, but not busy in WINDOWS windows either (e.g. a JVM's
    // compiler threads runnable now and then after a storm): not busy.
    Some(Busy {
        used_ms: total,
        wall_ms: start.elapsed().as_millis() as u64,
        busy: false,
        what,
    })
}

impl Busy {
    /// "busy: 296 ms of CPU + run-queue time in 301 ms after the scenario ended"
    pub fn note(&self) -> String {
        format!(
            "{}: {} ms of {} in {} ms after the scenario ended",
            if self.busy { "busy" } else { "quiet" },
            self.used_ms,
            self.what,
            self.wall_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_queue_time_is_preferred_over_cpu_time() {
        let s = ResourceSample {
            cpu_ms: Some(5),
            runnable_ms: Some(9),
            ..Default::default()
        };
        assert_eq!(used(&s), Some((9, "CPU + run-queue time")));
        let s = ResourceSample {
            cpu_ms: Some(5),
            ..Default::default()
        };
        assert_eq!(used(&s), Some((5, "CPU time")));
        assert_eq!(used(&ResourceSample::default()), None);
    }
}
