//! The bound on the harness itself, from outside its async runtime. Every
//! run has a backstop (`backstop`), but the backstop is a tokio timer: a
//! runtime whose worker threads are all stuck (seen under Wine 8.0, where
//! its socket layer spun and the run hung until the CI script's own timeout
//! killed it, with no report) cannot fire it, and neither can a task that
//! blocks the worker it runs on. The watchdog is a plain thread that the
//! runtime cannot starve. The command tells it how long it may go without
//! a run finishing ([`Watchdog::expect_within`]) and reports each one that
//! does ([`Beat::progress`]); if that time passes with no news, the
//! watchdog ends the run like an interrupt does: no report is
//! written by the run any more, every target is killed with its whole tree
//! (`netrepro_sys::interrupt::end_run`), then the command's `on_stall`
//! writes what was seen and the process exits with the code it returns.
//!
//! The bound is derived from the runs' own: a run ends within its backstop
//! ([`crate::backstop::for_scenario`]) plus the time the backstop's drop may
//! take to sweep the server's tree ([`netrepro_sys::process::group::SWEEP_WAIT`])
//! ([`bound`]). While runs remain, at least one of them is running (a run
//! waits only for the slots of running ones), so with a healthy runtime
//! some run finishes within the longest bound of the runs; whatever order
//! they start in. Tests shorten it with [`BOUND_ENV`].

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Test-only: the watchdog's bound in milliseconds, instead of the derived
/// one, so a test can stall a run and see it end in seconds. Not for users:
/// a bound shorter than a run's own would end healthy runs.
pub const BOUND_ENV: &str = "NETREPRO_TEST_ONLY_WATCHDOG_MS";

/// How long the harness may go without finishing a run of `sc` before the
/// watchdog ends it: the run's backstop plus the sweep its drop waits for
/// (or [`BOUND_ENV`], tests only).
pub fn bound(cfg: &crate::RunConfig, sc: &netrepro_scenario::Scenario) -> Duration {
    if let Some(ms) = std::env::var(BOUND_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Duration::from_millis(ms);
    }
    crate::backstop::for_scenario(cfg, sc) + netrepro_sys::process::group::SWEEP_WAIT
}

/// The harness error for every run the watchdog cut off.
pub fn reason(stalled_for: Duration) -> String {
    format!(
        "the harness's runtime stalled: no run finished for {:.1} s, past every run's own \
         backstop, so netrepro stopped (a netrepro or async-runtime bug, not the server's doing; \
         please report it). Every server was killed; this run was not judged",
        stalled_for.as_secs_f64()
    )
}

#[derive(Default)]
struct State {
    /// Since when, and for how long, the next run's end is awaited;
    /// `None` while no run is under way.
    awaited: Option<(Instant, Duration)>,
    stopped: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The watchdog thread; stopped (and joined) on drop.
pub struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Start watching. Nothing is awaited until [`Watchdog::expect_within`].
    /// When a wait runs out: targets killed, `on_stall(how long nothing
    /// finished)` on the watchdog's thread, then the process exits with the
    /// code `on_stall` returns.
    pub fn start(
        on_stall: impl FnOnce(Duration) -> u8 + Send + 'static,
    ) -> std::io::Result<Watchdog> {
        let shared = Arc::new(Shared::default());
        let watched = shared.clone();
        let thread = std::thread::Builder::new()
            .name("netrepro-watchdog".into())
            .spawn(move || {
                if let Some(stalled_for) = watch(&watched) {
                    netrepro_sys::interrupt::end_run();
                    let code = on_stall(stalled_for);
                    std::process::exit(i32::from(code));
                }
            })?;
        Ok(Watchdog {
            shared,
            thread: Some(thread),
        })
    }

    /// A run is due to finish within `bound` from now, and from then on
    /// within `bound` of the last [`Beat::progress`] (replaces what was
    /// awaited before).
    pub fn expect_within(&self, bound: Duration) {
        self.shared.lock().awaited = Some((Instant::now(), bound));
        self.shared.changed.notify_all();
    }

    /// A handle for whatever sees runs finish (the jobs' tasks, the loop
    /// that takes their results).
    pub fn beat(&self) -> Beat {
        Beat(self.shared.clone())
    }

    /// No run is under way (e.g. between `explore`'s cases).
    pub fn idle(&self) {
        self.shared.lock().awaited = None;
        self.shared.changed.notify_all();
    }

    /// `work` (one run, driven to its end) awaited within `bound`.
    pub fn watch<R>(&self, bound: Duration, work: impl FnOnce() -> R) -> R {
        self.expect_within(bound);
        let r = work();
        self.idle();
        r
    }
}

/// Tells the watchdog that a run finished; cheap, callable from any thread
/// or task.
#[derive(Clone)]
pub struct Beat(Arc<Shared>);

impl Beat {
    /// A run finished now: the next is due within the same bound from now.
    pub fn progress(&self) {
        if let Some((since, _)) = self.0.lock().awaited.as_mut() {
            *since = Instant::now();
        }
        // No notification: the watchdog only ever wakes later than it
        // would have, and then looks at the new time.
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            // It wakes on the notification; it cannot be inside `on_stall`
            // here, which ends the process.
            let _ = t.join();
        }
    }
}

/// Wait until stopped (`None`) or until an awaited run is overdue (how
/// long since it was awaited). Every wait ends on a change or on the
/// awaited deadline.
fn watch(shared: &Shared) -> Option<Duration> {
    let mut st = shared.lock();
    loop {
        if st.stopped {
            return None;
        }
        st = match st.awaited {
            None => shared.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
            Some((since, bound)) => {
                let waited = since.elapsed();
                if waited >= bound {
                    return Some(waited);
                }
                shared
                    .changed
                    .wait_timeout(st, bound - waited)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overdue_run_is_reported_and_a_stop_ends_the_wait() {
        let shared = Arc::new(Shared::default());
        shared.lock().awaited = Some((Instant::now(), Duration::from_millis(50)));
        let stalled = watch(&shared).expect("overdue");
        assert!(stalled >= Duration::from_millis(50), "{stalled:?}");

        // Re-armed far in the future, then stopped: the wait ends on the stop.
        let shared = Arc::new(Shared::default());
        shared.lock().awaited = Some((Instant::now(), Duration::from_secs(600)));
        let w = shared.clone();
        let t = std::thread::spawn(move || watch(&w));
        shared.lock().stopped = true;
        shared.changed.notify_all();
        assert_eq!(t.join().unwrap(), None);
    }

    #[test]
    fn progress_moves_the_deadline_and_idle_stops_awaiting() {
        let dog = Watchdog {
            shared: Arc::new(Shared::default()),
            thread: None,
        };
        dog.beat().progress(); // nothing awaited: stays so
        assert!(dog.shared.lock().awaited.is_none());
        dog.expect_within(Duration::from_secs(60));
        let first = dog.shared.lock().awaited.expect("awaited").0;
        dog.beat().progress();
        let (later, bound) = dog.shared.lock().awaited.expect("awaited");
        assert!(later >= first && bound == Duration::from_secs(60));
        dog.idle();
        assert!(dog.shared.lock().awaited.is_none());
    }

    #[test]
    fn the_reason_says_how_long() {
        assert!(reason(Duration::from_millis(87_500)).contains("87.5 s"));
    }
}
