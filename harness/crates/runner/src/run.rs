//! One scenario x subject, end to end, in the order the data flows:
//! scenario -> preflight -> link -> start -> client actors -> probe ->
//! settle -> decide -> expect -> record. Each stage is in the file named for
//! it; this one only passes the data along. Every wait is bounded; the
//! server is killed and reaped at the end whatever happened. A scenario with
//! `netns = true` runs all of this inside a network namespace of its own
//! (`netns`).

use crate::client::{self, Session};
use crate::config::RunConfig;
use crate::plan::{Plan, Subject};
use crate::preflight::NotRun;
use crate::{
    backstop, busy, cut_short, decide, end_probe, expect, link, netns, preflight, record, settle,
    start,
};
use netrepro_report::ResultRecord;
use netrepro_scenario::{Impl, Scenario, Verdict};
use tokio::time::Instant;

/// Run one scenario against one built-in implementation.
pub async fn run_one(sc: &Scenario, imp: Impl, cfg: &RunConfig) -> ResultRecord {
    run_subject(sc, &Subject::Builtin(imp), cfg).await
}

/// Run one scenario against a built-in implementation or an external target.
pub async fn run_subject(sc: &Scenario, subject: &Subject, cfg: &RunConfig) -> ResultRecord {
    if sc.target.netns {
        let here = |sc: Scenario, subject: Subject, cfg: RunConfig| async move {
            run_bounded(&sc, &subject, &cfg).await
        };
        return netns::run_isolated(sc, subject, cfg, here).await;
    }
    run_bounded(sc, subject, cfg).await
}

/// [`run_here`] under the backstop: a run that outlives every stage's own
/// bound is dropped (which kills its server) and recorded as the harness's
/// error.
async fn run_bounded(sc: &Scenario, subject: &Subject, cfg: &RunConfig) -> ResultRecord {
    let started = Instant::now();
    let plan = Plan::new(sc, subject, cfg);
    let limit = backstop::limit(cfg, sc.timeout_ms, plan.probe_limit);
    match tokio::time::timeout(limit, run_here(sc, &plan, cfg, started)).await {
        Ok(rec) => rec,
        Err(_) => record::backstop_fired(record::new(sc, &plan), limit, started),
    }
}

/// [`run_subject`] in the calling thread's network namespace, as `plan`
/// says; `started` is when the run began.
async fn run_here(
    sc: &Scenario,
    plan: &Plan<'_>,
    cfg: &RunConfig,
    started: Instant,
) -> ResultRecord {
    let mut rec = record::new(sc, plan);

    // Does it run here, with which options, on which address?
    let cleared = match preflight::check(sc, plan, cfg.platform, &mut rec.notes) {
        Ok(c) => c,
        Err(why) => return record::not_run(rec, why, started),
    };
    // Link faults: the namespace's tc / nft ready before anything listens.
    let link = match cleared.link {
        None => None,
        Some(tools) => match link::prepare(sc, tools).await {
            Ok(l) => Some(l),
            Err(why) => return record::not_run(rec, NotRun::Skipped(why), started),
        },
    };

    // The server under test (and, in forward mode, the upstream listener).
    let start::Started {
        mut target,
        upstream,
    } = match start::start(sc, plan, cleared.bind, &cleared.options, cfg).await {
        Ok(s) => s,
        Err(e) => return record::not_started(rec, e, started),
    };
    crate::stall_hook::maybe_stall(&sc.name, target.pid());

    // The client actors run the steps. `pause` steps freeze the target's
    // tree; `Session::run` never returns with it frozen, so the probe and
    // the kill below see it running.
    let baseline = target.sample("baseline");
    let mut session = Session::new(sc, target.addr(), upstream.clone());
    session.set_pauser(target.pauser());
    session.set_link(link);
    session.set_probe(plan.probe.clone(), plan.probe_limit);
    let log = session.run(sc).await;
    if session.resumed_at_end() {
        rec.notes.push(
            "the server was still paused when the steps ended; it was resumed before the probe"
                .to_string(),
        );
    }
    if session.strays() > 0 {
        rec.notes.push(format!(
            "{} datagram(s) from elsewhere than the server's port were dropped by the clients \
             (another program's traffic to a port the kernel reused)",
            session.strays()
        ));
    }
    let merged = log.merged();
    rec.steps = log.into_records();
    rec.granted_sockopts = session.granted_sockopts();
    let sockopt_refused = session.sockopt_refused();
    rec.notes.extend(client::merged_note(merged, &rec.steps));
    rec.cut_short = cut_short::check(sc, &rec.steps, session.deadline_reached());
    rec.notes.extend(client::repeat_notes(sc, &rec.steps));
    rec.samples.push(baseline.clone());
    rec.samples.push(target.sample("after"));

    // The clients close; does the server still serve a new one?
    let mut evidence = end_probe::probe_after_steps(
        sc,
        &mut target,
        &mut session,
        &plan.probe,
        upstream,
        plan.probe_limit,
        cfg.exit_grace,
    )
    .await;
    if evidence.step_unserved {
        rec.notes.push(end_probe::STEP_UNSERVED_NOTE.to_string());
    }

    // A server that is alive and served: do its resources come back, and
    // does it go quiet now that nothing talks to it?
    if decide::decided(&evidence).is_none() {
        let builtin = plan.ext.is_none().then_some(plan.imp);
        let rule = settle::rule(sc, builtin, cfg.settle_timeout);
        let (sample, outcome, sampled_at) = settle::settle(&target, &baseline, rule).await;
        rec.notes.extend(settle::notes(&baseline, &sample, outcome));
        evidence.settled = Some(outcome);
        evidence.exit = target.try_exit();
        if decide::decided(&evidence).is_none() {
            let busy = busy::check(&target, &sample, sampled_at).await;
            rec.notes
                .extend(busy.as_ref().filter(|b| b.busy).map(busy::Busy::note));
            evidence.busy = busy.map(|b| b.busy);
        }
        rec.samples.push(sample);
    }

    let verdict = decide::verdict(&evidence);
    let stopped = target.stop().await;
    drop(session);

    rec.exit = evidence
        .exit
        .or(stopped.killed.filter(|_| verdict == Verdict::Crashed));
    rec.probe = evidence.probe;
    rec.server_errors = stopped.events;
    rec.output = stopped.output;
    rec.verdict = Some(verdict);
    rec.diff = expect::check(
        &plan.expect,
        verdict,
        &rec.steps,
        &rec.server_errors,
        rec.cut_short.as_ref(),
    );
    record::finished(rec, &plan.expect, sockopt_refused, started)
}
