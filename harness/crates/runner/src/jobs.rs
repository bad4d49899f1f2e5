//! Running many scenario x implementation pairs at once, bounded by `--jobs`,
//! while handing results back in the order of the files (so reports and
//! tables are stable whatever finishes first). Each run has its own server
//! process, ports and sockets, so runs do not share state.

use crate::config::RunConfig;
use crate::plan::Subject;
use crate::run::run_subject;
use netrepro_report::ResultRecord;
use netrepro_scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// `--jobs`, or the number of CPUs (at least 1).
pub fn jobs(requested: Option<u16>) -> usize {
    requested.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    )
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
    fn jobs_default_to_the_cpus_and_respect_the_flag() {
        assert_eq!(jobs(Some(3)), 3);
        assert!(jobs(None) >= 1);
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
