//! Running many scenario x implementation pairs at once, bounded by `--jobs`,
//! while handing results back in the order of the files (so reports and
//! tables are stable whatever finishes first). Each run has its own server
//! process, ports and sockets, so runs do not share state.
//!
//! The default number of runs at once is chosen from what a run spends its
//! time on: waiting (probe and step timeouts against a hung server, the
//! settle wait, reply delays), not CPU. Measured on a 2-core machine (issue
//! 16): the catalog's 126 results add up to about 110 s while the whole
//! catalog uses about 3.5 s of CPU, so [`PER_CPU`] runs per CPU keep the
//! cores busy without starving the timing of any one run. Which run starts
//! when is [`estimate`]'s: longest expected wait first, storms on more
//! slots. The runs also share the harness's
//! descriptor limit, so the default never exceeds what the widest scenario
//! times the jobs fits under it.

use crate::config::RunConfig;
use crate::estimate;
use crate::plan::{Plan, Subject};
use crate::run::run_subject;
use netrepro_report::ResultRecord;
use netrepro_scenario::Scenario;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// Runs at once per CPU by default (see module doc). 32: the catalog's
/// results add up to ~97 s of mostly waiting, so at 32 jobs on 2 cores
/// (16 per CPU) the slots themselves were the floor (~3 s) and runs started
/// late; at 64 it ends with its slowest result. That took the start gate
/// (`start::STARTS_PER_CPU`: 64 servers starting at once were ready only
/// after up to 560 ms) and UDP clients that ignore another run's datagrams
/// (`client::udp::from_server`). Before the longest-first order, the slots
/// by weight, sock_diag samples and `netrepro_sys::process::inherit`, 16
/// per CPU made hardened servers miss their probes and 4 was the default
/// (issue 16; docs/benchmarks.md).
pub const PER_CPU: usize = 32;

/// Runs at once per CPU by default against a `--target-cmd` program: its
/// start-up is the user's (an interpreter or a JVM starting costs CPU, not
/// waiting), so the old default stays: at 16 per CPU 32 Python targets
/// starting at once on a loaded 2-core machine missed the 5 s ready bound
/// (2 of 5 runs of tests/sequential.rs).
pub const PER_CPU_COMMAND: usize = 4;

/// The most runs at once by default (the `--jobs` flag's own maximum).
pub const MAX_DEFAULT: usize = 64;

/// `--jobs`, or the default: [`PER_CPU`] runs per CPU for the built-in
/// servers, [`PER_CPU_COMMAND`] for a program the user gives
/// (`command = true`), at most [`MAX_DEFAULT`]. At least 1. The descriptor
/// limit is not a cap on the count: each run takes its share of it in
/// slots ([`run_all`]), so a wide scenario (a storm of 1,000 clients) runs
/// beside fewer others instead of every run being counted as wide as the
/// widest.
pub fn jobs(requested: Option<u16>, command: bool) -> usize {
    requested.map_or_else(
        || {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            default_jobs(cpus, command)
        },
        usize::from,
    )
}

/// The default for `cpus` CPUs (see [`jobs`]).
pub fn default_jobs(cpus: usize, command: bool) -> usize {
    let per_cpu = if command { PER_CPU_COMMAND } else { PER_CPU };
    cpus.saturating_mul(per_cpu).clamp(1, MAX_DEFAULT)
}

/// Start every (scenario, subject) pair, at most `jobs` at a time, longest
/// guessed first (`estimate::guess`, from the scenario and the `history` of
/// an earlier report), and return
/// a channel that yields their results in scenario order, then subject order.
/// Each run takes slots for its CPU use and for its share of the harness's
/// descriptor limit `fd_limit` (`None`: no limit), see [`estimate::slots`].
/// `finished` is called as each run ends, in whatever order (the
/// watchdog's heartbeat, `watchdog::Beat`). Must be called inside a tokio
/// runtime.
pub fn run_all(
    scenarios: Vec<Scenario>,
    subjects: Vec<Subject>,
    cfg: RunConfig,
    jobs: usize,
    fd_limit: Option<u64>,
    history: &estimate::History,
    finished: impl Fn() + Send + Sync + 'static,
) -> mpsc::Receiver<ResultRecord> {
    let cfg = Arc::new(cfg);
    let pairs: Vec<(Arc<Scenario>, Subject)> = scenarios
        .into_iter()
        .map(Arc::new)
        .flat_map(|sc| subjects.iter().map(move |s| (sc.clone(), s.clone())))
        .collect();
    // One at a time, file order is the natural order and costs nothing; at
    // several, the longest waits start first and storms take more slots
    // (module doc).
    let start = if jobs > 1 {
        let waits: Vec<_> = pairs
            .iter()
            .map(|(sc, s)| estimate::guess(sc, s, &Plan::new(sc, s, &cfg), &cfg, history))
            .collect();
        estimate::longest_first(&waits)
    } else {
        (0..pairs.len()).collect()
    };
    let slots: Vec<u32> = pairs
        .iter()
        .map(|(sc, _)| estimate::slots(sc, jobs, fd_limit))
        .collect();
    let finished = Arc::new(finished);
    in_order(pairs, &start, &slots, jobs, move |(sc, subject)| {
        let (cfg, finished) = (cfg.clone(), finished.clone());
        async move {
            let r = run_subject(&sc, &subject, &cfg).await;
            finished();
            r
        }
    })
}

/// Run `work` on every item, at most `jobs` slots' worth at a time (item
/// `i` takes `slots[i]` of them, 1 if absent, at most `jobs`), *starting*
/// them in the order `start` gives (a permutation of the items' indices; a
/// job starts only once its slots are free, so with one job the runs never
/// overlap), and yield the results in the items' own order whatever
/// finishes first.
fn in_order<I, F, Fut, R>(
    items: Vec<I>,
    start: &[usize],
    slots: &[u32],
    jobs: usize,
    work: F,
) -> mpsc::Receiver<R>
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    let jobs = jobs.max(1);
    let free = Arc::new(Semaphore::new(jobs));
    let most = u32::try_from(jobs).unwrap_or(u32::MAX);
    let need: Vec<u32> = (0..items.len())
        .map(|i| slots.get(i).copied().unwrap_or(1).clamp(1, most))
        .collect();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, R)>();
    // One dispatcher takes the slots in item order; spawning a task per item
    // that then raced for a slot let a later item start first.
    let mut pending: Vec<Option<I>> = items.into_iter().map(Some).collect();
    let mut ordered: Vec<(usize, I)> = start
        .iter()
        .filter_map(|&i| Some((i, pending.get_mut(i)?.take()?)))
        .collect();
    // Any item `start` left out still runs (last), or its result's turn
    // would never come.
    ordered.extend(
        pending
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| Some((i, item?))),
    );
    tokio::spawn(async move {
        for (position, item) in ordered {
            let Ok(permit) = free.clone().acquire_many_owned(need[position]).await else {
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
    fn jobs_default_to_several_per_cpu_and_respect_the_flag() {
        assert_eq!(jobs(Some(3), false), 3);
        assert_eq!(jobs(Some(3), true), 3);
        assert!(jobs(None, false) >= PER_CPU);
        assert_eq!(default_jobs(2, false), 2 * PER_CPU);
        assert_eq!(default_jobs(2, true), 2 * PER_CPU_COMMAND);
        assert_eq!(default_jobs(1000, false), MAX_DEFAULT);
        assert_eq!(default_jobs(0, false), 1);
    }

    /// With one slot, items start in the given order and never overlap;
    /// with several, results still come back in item order although later
    /// ones finish first. A start order that leaves items out still runs
    /// them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn jobs_start_in_the_given_order_and_results_come_back_in_item_order() {
        use std::sync::Mutex;
        for (slots, n) in [(1usize, 40usize), (8, 40)] {
            let started = Arc::new(Mutex::new(Vec::new()));
            let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let (s, r, m) = (started.clone(), running.clone(), most.clone());
            // Started last to first; with one slot that is the order they run in.
            let start: Vec<usize> = (0..n).rev().collect();
            let mut rx = in_order((0..n).collect(), &start, &[], slots, move |i: usize| {
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
                assert_eq!(*started.lock().unwrap(), start);
            }
        }
    }

    #[tokio::test]
    async fn items_the_start_order_leaves_out_run_last_in_item_order() {
        use std::sync::Mutex;
        let started = Arc::new(Mutex::new(Vec::new()));
        let s = started.clone();
        let mut rx = in_order((0..4).collect(), &[2, 9], &[], 1, move |i: usize| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(i);
                i
            }
        });
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        assert_eq!(got, vec![0, 1, 2, 3]);
        assert_eq!(*started.lock().unwrap(), vec![2, 0, 1, 3]);
    }

    /// An item that takes several slots shares the jobs with fewer others:
    /// the slots in use never exceed `jobs`, and an item that asks for more
    /// than there are still runs (alone).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn heavy_items_take_their_slots_and_never_exceed_the_jobs() {
        use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
        let weights: Vec<u32> = (0..24).map(|i| [3, 1, 1, 9][i % 4]).collect();
        let in_use = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let (u, m, w) = (in_use.clone(), most.clone(), weights.clone());
        let start: Vec<usize> = (0..24).collect();
        let mut rx = in_order((0..24).collect(), &start, &weights, 4, move |i: usize| {
            let (u, m) = (u.clone(), m.clone());
            let took = w[i].min(4);
            async move {
                m.fetch_max(u.fetch_add(took, SeqCst) + took, SeqCst);
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                u.fetch_sub(took, SeqCst);
                i
            }
        });
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        assert_eq!(got, (0..24).collect::<Vec<_>>());
        let most = most.load(SeqCst);
        assert!(most <= 4, "{most} slots in use with 4 jobs");
        assert!(most >= 2, "items never overlapped: {most}");
    }
}
