//! Running many scenario x implementation pairs at once, bounded by `--jobs`,
//! while handing results back in the order of the files (so reports and
//! tables are stable whatever finishes first). Each run has its own server
//! process, ports and sockets, so runs do not share state.
//!
//! The default number of runs at once is chosen from what a run spends its
//! time on: waiting (probe and step timeouts against a hung server, the
//! settle wait, reply delays), not CPU. Measured on a 2-core machine (issue
//! 16): the catalog's results add up to about 90 s while each uses a few
//! ms of CPU, so [`PER_CPU`] runs per CPU keep the cores busy without
//! starving the timing of any one run. The runs also share the harness's
//! descriptor limit, so the default never exceeds what the widest scenario
//! times the jobs fits under it.

use crate::config::RunConfig;
use crate::plan::Subject;
use crate::run::run_subject;
use netrepro_report::ResultRecord;
use netrepro_scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// Runs at once per CPU by default (see module doc). At 16 per CPU on a
/// loaded 2-core machine hardened servers' probes began to miss their
/// timeouts; 4 per CPU passed every run.
pub const PER_CPU: usize = 4;

/// The most runs at once by default (the `--jobs` flag's own maximum).
pub const MAX_DEFAULT: usize = 64;

/// `--jobs`, or the default: [`PER_CPU`] runs per CPU, at most
/// [`MAX_DEFAULT`], and no more than fit under the harness's descriptor
/// limit `fd_limit` (`None`: no limit) when each run may hold `per_run_fds`
/// (the widest scenario's need). At least 1.
pub fn jobs(requested: Option<u16>, fd_limit: Option<u64>, per_run_fds: u64) -> usize {
    requested.map_or_else(
        || {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            default_jobs(cpus, fd_limit, per_run_fds)
        },
        usize::from,
    )
}

/// The default for `cpus` CPUs (see [`jobs`]).
pub fn default_jobs(cpus: usize, fd_limit: Option<u64>, per_run_fds: u64) -> usize {
    let by_cpu = cpus.saturating_mul(PER_CPU).min(MAX_DEFAULT);
    let by_fds = fd_limit.map_or(usize::MAX, |l| {
        usize::try_from(l / per_run_fds.max(1)).unwrap_or(usize::MAX)
    });
    by_cpu.min(by_fds).max(1)
}

/// The most descriptors one run of any of `scenarios` may hold in the
/// harness (see [`crate::harness_error::fds_needed`]).
pub fn widest(scenarios: &[Scenario]) -> u64 {
    scenarios
        .iter()
        .map(crate::harness_error::fds_needed)
        .max()
        .unwrap_or(1)
}

/// Start every (scenario, subject) pair, at most `jobs` at a time, and return
/// a channel that yields their results in scenario order, then subject order.
/// Must be called inside a tokio runtime.
pub fn run_all(
    scenarios: Vec<Scenario>,
    subjects: Vec<Subject>,
    cfg: RunConfig,
    jobs: usize,
) -> mpsc::Receiver<ResultRecord> {
    let cfg = Arc::new(cfg);
    let pairs: Vec<(Arc<Scenario>, Subject)> = scenarios
        .into_iter()
        .map(Arc::new)
        .flat_map(|sc| subjects.iter().map(move |s| (sc.clone(), s.clone())))
        .collect();
    in_order(pairs, jobs, move |(sc, subject)| {
        let cfg = cfg.clone();
        async move { run_subject(&sc, &subject, &cfg).await }
    })
}

/// Run `work` on every item, at most `jobs` at a time, *starting* them in
/// the order given (a job starts only once a slot is free, so with one job
/// the runs never overlap and follow the files), and yield the results in
/// that same order whatever finishes first.
fn in_order<I, F, Fut, R>(items: Vec<I>, jobs: usize, work: F) -> mpsc::Receiver<R>
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    let slots = Arc::new(Semaphore::new(jobs.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, R)>();
    // One dispatcher takes the slots in item order; spawning a task per item
    // that then raced for a slot let a later item start first.
    tokio::spawn(async move {
        for (position, item) in items.into_iter().enumerate() {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (done, fut) = (done_tx.clone(), work(item));
            tokio::spawn(async move {
                let r = fut.await;
                drop(permit);
                let _ = done.send((position, r));
            });
        }
    });
    // Reorder: hold results that finish early until their turn comes.
    tokio::spawn(async move {
        let mut next = 0;
        let mut waiting = BTreeMap::new();
        while let Some((position, r)) = done_rx.recv().await {
            waiting.insert(position, r);
            while let Some(r) = waiting.remove(&next) {
                if tx.send(r).await.is_err() {
                    return;
                }
                next += 1;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_default_to_several_per_cpu_within_the_fd_limit_and_respect_the_flag() {
        assert_eq!(jobs(Some(3), Some(10), 1000), 3);
        assert!(jobs(None, None, 100) >= PER_CPU);
        assert_eq!(default_jobs(2, None, 100), 2 * PER_CPU);
        assert_eq!(default_jobs(1000, None, 100), MAX_DEFAULT);
        // 1024 descriptors, runs of up to 200: five fit.
        assert_eq!(default_jobs(2, Some(1024), 200), 5.min(2 * PER_CPU));
        assert_eq!(default_jobs(64, Some(1024), 200), 5);
        // Even one run that does not fit runs alone (preflight then says why).
        assert_eq!(default_jobs(8, Some(50), 200), 1);
    }

    /// With one slot, items start in order and never overlap; with several,
    /// results still come back in item order although later ones finish first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn jobs_start_in_order_and_results_come_back_in_order() {
        use std::sync::Mutex;
        for (slots, n) in [(1usize, 40usize), (8, 40)] {
            let started = Arc::new(Mutex::new(Vec::new()));
            let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let (s, r, m) = (started.clone(), running.clone(), most.clone());
            let mut rx = in_order((0..n).collect(), slots, move |i: usize| {
                let (s, r, m) = (s.clone(), r.clone(), m.clone());
                async move {
                    use std::sync::atomic::Ordering::SeqCst;
                    s.lock().unwrap().push(i);
                    let now = r.fetch_add(1, SeqCst) + 1;
                    m.fetch_max(now, SeqCst);
                    // Later items finish sooner: yields, not sleeps.
                    for _ in 0..(n - i) {
                        tokio::task::yield_now().await;
                    }
                    r.fetch_sub(1, SeqCst);
                    i
                }
            });
            let mut got = Vec::new();
            while let Some(i) = rx.recv().await {
                got.push(i);
            }
            assert_eq!(got, (0..n).collect::<Vec<_>>(), "results in order");
            let most = most.load(std::sync::atomic::Ordering::SeqCst);
            assert!(most <= slots, "{most} ran at once with {slots} slots");
            if slots == 1 {
                assert_eq!(*started.lock().unwrap(), (0..n).collect::<Vec<_>>());
            }
        }
    }
}
