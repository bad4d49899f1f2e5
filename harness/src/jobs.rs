//! Running many scenario x implementation pairs at once, bounded by `--jobs`,
//! while handing results back in the order of the files (so reports and
//! tables are stable whatever finishes first). Each run has its own server
//! process, ports and sockets, so runs do not share state.

use crate::report::ResultRecord;
use crate::runner::{run_subject, RunConfig, Subject};
use crate::scenario::Scenario;
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
    let (tx, rx) = mpsc::channel(16);
    let cfg = Arc::new(cfg);
    let slots = Arc::new(Semaphore::new(jobs.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, ResultRecord)>();
    let mut n = 0;
    for sc in scenarios.into_iter().map(Arc::new) {
        for subject in &subjects {
            let (sc, cfg, slots, done) = (sc.clone(), cfg.clone(), slots.clone(), done_tx.clone());
            let subject = subject.clone();
            let position = n;
            n += 1;
            tokio::spawn(async move {
                let Ok(_permit) = slots.acquire_owned().await else {
                    return;
                };
                let r = run_subject(&sc, &subject, &cfg).await;
                let _ = done.send((position, r));
            });
        }
    }
    drop(done_tx);
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
}
