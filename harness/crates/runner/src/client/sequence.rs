//! The order the steps run in: one after another, a repeated block
//! `times` times (each record says its iteration), every member of an
//! actor's group one by one or all at once (`parallel`), all bounded by the
//! scenario's `timeout_ms`: steps past it are recorded as skipped. One
//! record per step and member goes to the [`StepLog`].

use super::records::StepLog;
use super::session::Session;
use super::step::{exec_slot, Sock};
use netrepro_observe::{StepOutcome, StepRecord};
use netrepro_scenario::{Op, Scenario, Step};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl Session {
    /// Run all steps in order, bounded by the scenario timeout. A repeated
    /// block runs its steps `times` times; each record says its iteration.
    /// Runs of a step with the same outcome are merged as they come in
    /// ([`StepLog`]), so memory and the report grow with distinct outcomes.
    ///
    /// The server is never left paused: whatever the steps did, it runs
    /// again before this returns, so nothing after it (probe, settle, kill)
    /// can mistake a frozen server for a hung one.
    pub async fn run(&mut self, scenario: &Scenario) -> StepLog {
        // A played upstream answers while the steps run, and has stopped
        // accepting before anything after them (the end probe) accepts.
        if let Some(p) = self.played.as_mut() {
            let steps = Duration::from_millis(scenario.timeout_ms);
            p.start(Instant::now() + steps + super::session::DRAIN_LIMIT);
        }
        let records = self.run_steps(scenario).await;
        if let Some(p) = self.played.as_mut() {
            p.finish().await;
        }
        self.resumed_at_end = self.pauser.as_mut().is_some_and(|p| p.resume() > 0);
        records
    }

    async fn run_steps(&mut self, scenario: &Scenario) -> StepLog {
        let deadline = Instant::now() + Duration::from_millis(scenario.timeout_ms);
        let mut records = StepLog::default();
        let mut index = 0;
        while index < scenario.steps.len() {
            let Some(block) = scenario.repeat_at(index) else {
                self.run_step(scenario, index, 0, deadline, &mut records)
                    .await;
                index += 1;
                continue;
            };
            for iteration in 1..=block.times {
                for i in block.first..block.first + block.len {
                    self.run_step(scenario, i, iteration, deadline, &mut records)
                        .await;
                }
                // Past the deadline the rest of the block was recorded as
                // skipped once; do not repeat that for every iteration.
                if Instant::now() >= deadline {
                    self.deadline_reached |= iteration < block.times;
                    break;
                }
            }
            index = block.first + block.len;
        }
        records
    }

    /// One step for every member of its actor (one by one, or all at once
    /// with `parallel`), appending a record per member.
    async fn run_step(
        &mut self,
        scenario: &Scenario,
        index: usize,
        iteration: u32,
        deadline: Instant,
        records: &mut StepLog,
    ) {
        let step = &scenario.steps[index];
        let members = self.socks.get(&step.actor).map_or(1, |v| v.len() as u32);
        let record = |member: u32, outcome: StepOutcome, elapsed_ms: u64| StepRecord {
            index,
            line: step.line,
            id: step.id.clone(),
            actor: step.actor.clone(),
            member,
            iteration,
            op: step.op.name().to_string(),
            outcome,
            elapsed_ms,
            wanted: wanted(&step.op),
            runs: 1,
            last: None,
        };
        if Instant::now() >= deadline {
            self.deadline_reached = true;
            for member in 0..members {
                let reason = format!("scenario timeout of {} ms reached", scenario.timeout_ms);
                records.push(record(member, StepOutcome::Skipped { reason }, 0));
            }
            return;
        }
        if step.parallel && members > 1 {
            for (member, outcome, ms) in self.exec_parallel(step, deadline).await {
                records.push(record(member, outcome, ms));
            }
            return;
        }
        for member in 0..members {
            let started = Instant::now();
            let outcome = if started >= deadline {
                self.deadline_reached = true;
                StepOutcome::Skipped {
                    reason: format!("scenario timeout of {} ms reached", scenario.timeout_ms),
                }
            } else {
                self.exec(step, member, deadline).await
            };
            records.push(record(
                member,
                outcome,
                started.elapsed().as_millis() as u64,
            ));
        }
    }

    /// Every member of a group runs `step` at the same time, each on its own
    /// task and socket; the sockets go back to their slots afterwards.
    /// Bounded: a group has at most `limits::MAX_ACTOR_COUNT` members, and
    /// every op is bounded by its own deadline.
    async fn exec_parallel(
        &mut self,
        step: &Step,
        deadline: Instant,
    ) -> Vec<(u32, StepOutcome, u64)> {
        let ctx = self.ctx(&step.actor);
        let Some(slots) = self.socks.get_mut(&step.actor) else {
            return Vec::new();
        };
        let mut tasks = tokio::task::JoinSet::new();
        // One copy of the step (and its text payload) for the whole group.
        let step = Arc::new(step.clone());
        for (member, mut slot) in std::mem::take(slots).into_iter().enumerate() {
            let (ctx, step) = (ctx.clone(), Arc::clone(&step));
            tasks.spawn(async move {
                let started = Instant::now();
                let (outcome, retired) =
                    exec_slot(&ctx, &mut slot, &step, member as u32, deadline).await;
                let ms = started.elapsed().as_millis() as u64;
                (member as u32, slot, outcome, ms, retired)
            });
        }
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(r) => done.push(r),
                // A panicking op is a harness bug; keep going without it.
                Err(e) => netrepro_sys::errln!("netrepro: a parallel step task failed: {e}"),
            }
        }
        done.sort_by_key(|r| r.0);
        let slots = self.socks.entry(step.actor.clone()).or_default();
        let mut out = Vec::new();
        for (member, slot, outcome, ms, retired) in done {
            while slots.len() < member as usize {
                slots.push(Sock::None);
            }
            slots.push(slot);
            self.retired.extend(retired);
            out.push((member, outcome, ms));
        }
        out
    }
}

/// Bytes a step asks for, for `StepRecord::wanted`.
fn wanted(op: &Op) -> Option<usize> {
    match op {
        Op::Send { payload, .. } => Some(payload.len()),
        Op::Recv {
            mode: netrepro_scenario::RecvMode::Exact(n),
            ..
        } => Some(*n),
        _ => None,
    }
}
