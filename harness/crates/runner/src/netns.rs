//! A scenario with `[target] netns = true` runs whole inside a network
//! namespace of its own (issue 14.6). Design: one dedicated OS thread moves
//! into a fresh anonymous namespace (`netrepro_sys::netns::enter_new`) and
//! runs the ordinary run (`run::run_here`, passed in as `here`) on a
//! single-threaded tokio runtime of its own. Everything that run does happens on that thread, so:
//! every socket it creates (clients, the upstream listener, probes) belongs
//! to the namespace, and every process it starts (the server under test,
//! `tc`, `nft`) is forked from it and so is born inside it. Nothing outside
//! the namespace is touched, and nothing needs cleaning up: the kernel frees
//! an anonymous namespace with its last thread, process and socket.
//!
//! Where no namespace can be had (not Linux, no privilege, tools missing)
//! the scenario is `skipped` with the reason.

use crate::config::RunConfig;
use crate::plan::{Plan, Subject};
use crate::preflight::NotRun;
use crate::record;
use netrepro_report::ResultRecord;
use netrepro_scenario::Scenario;
use tokio::time::Instant;

/// Why a scenario that wants a namespace cannot have one here.
fn unavailable(e: &std::io::Error) -> String {
    let why = netrepro_sys::errors::observe(e);
    format!(
        "needs a network namespace of its own (Linux, root or CAP_SYS_ADMIN) for its link faults; none could be created here: {}",
        why.name
    )
}

fn skipped(
    sc: &Scenario,
    subject: &Subject,
    cfg: &RunConfig,
    why: NotRun,
    started: Instant,
) -> ResultRecord {
    let plan = Plan::new(sc, subject, cfg);
    record::not_run(record::new(sc, &plan), why, started)
}

/// Run `sc` against `subject` inside a new network namespace: `here` is
/// the run itself, called on the namespace's thread.
pub async fn run_isolated<F, Fut>(
    sc: &Scenario,
    subject: &Subject,
    cfg: &RunConfig,
    here: F,
) -> ResultRecord
where
    F: FnOnce(Scenario, Subject, RunConfig) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ResultRecord>,
{
    let started = Instant::now();
    let (sc2, subject2, cfg2) = (sc.clone(), subject.clone(), cfg.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("netrepro-netns".into())
        .spawn(move || {
            let (sc, subject, cfg) = (&sc2, &subject2, &cfg2);
            let rec = match netrepro_sys::netns::enter_new() {
                Err(e) => skipped(sc, subject, cfg, NotRun::Skipped(unavailable(&e)), started),
                Ok(()) => match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(here(sc.clone(), subject.clone(), cfg.clone())),
                    Err(e) => {
                        let why = format!("cannot start a runtime in the network namespace: {e}");
                        skipped(sc, subject, cfg, NotRun::HarnessError(why), started)
                    }
                },
            };
            // The thread ends after this, and with it the namespace (the run
            // has stopped its server and closed its sockets).
            let _ = tx.send(rec);
        });
    let why = match spawned {
        Ok(_) => match rx.await {
            Ok(rec) => return rec,
            Err(_) => "the network namespace thread ended without a result".to_string(),
        },
        Err(e) => format!("cannot start the network namespace thread: {e}"),
    };
    skipped(sc, subject, cfg, NotRun::HarnessError(why), started)
}
