//! Client actors: execute a scenario's steps in order on real sockets (tokio +
//! socket2) and record one `StepRecord` per step and group member. In forward
//! mode the harness also plays the upstream server through the `upstream`
//! actor, which accepts the forwarder's connections on a listener it owns.
//! `pause` / `resume` steps freeze the server's process tree through a
//! [`Pauser`]; `Session::run` resumes it before returning.

mod payload;
mod records;
mod tcp;
mod udp;

pub use records::{merged_note, StepLog};
pub use udp::bind as udp_bind_for;

use crate::probe::ProbeSpec;
use crate::subject::Pauser;
use netrepro_observe::{StepOutcome, StepRecord};
use netrepro_scenario::{ActorKind, Op, Proto, Scenario, Step};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::Instant;

/// Bound for a TCP connect or an upstream accept.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Bound for one send (a peer that stops reading blocks a large send).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

enum Sock {
    None,
    Tcp(TcpStream),
    Udp { sock: UdpSocket, connected: bool },
}

/// The sockets of every actor while a scenario runs. Dropping it closes them.
pub struct Session {
    server: SocketAddr,
    proto: Proto,
    upstream: Option<Arc<TcpListener>>,
    /// actor name -> one socket slot per group member.
    socks: BTreeMap<String, Vec<Sock>>,
    kinds: BTreeMap<String, ActorKind>,
    /// Earlier upstream connections, kept open like an idle real upstream would.
    retired: Vec<TcpStream>,
    /// Upstream connections after `release`; aborted when the session drops.
    drains: tokio::task::JoinSet<()>,
    /// The scenario's `timeout_ms` kept steps from running.
    deadline_reached: bool,
    /// Freezes the server's tree for `pause` steps (`None`: not our process).
    pauser: Option<Pauser>,
    /// The last `run` ended with the server paused (and resumed it).
    resumed_at_end: bool,
    /// What a `probe` step sends and expects, and how long it waits.
    probe: (ProbeSpec, Duration),
    mode: netrepro_scenario::Mode,
    /// A `probe` step was not served.
    probe_unserved: bool,
}

/// Bound on how long a released upstream connection waits for EOF.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

async fn drain_then_close(mut stream: TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(DRAIN_LIMIT, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

impl Session {
    pub fn new(
        scenario: &Scenario,
        server: SocketAddr,
        upstream: Option<Arc<TcpListener>>,
    ) -> Session {
        let mut socks = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        for a in &scenario.actors {
            socks.insert(a.name.clone(), (0..a.count).map(|_| Sock::None).collect());
            kinds.insert(a.name.clone(), a.kind);
        }
        Session {
            server,
            proto: scenario.target.proto,
            upstream,
            socks,
            kinds,
            retired: Vec::new(),
            drains: tokio::task::JoinSet::new(),
            deadline_reached: false,
            pauser: None,
            resumed_at_end: false,
            probe: (ProbeSpec::default(), Duration::from_secs(2)),
            mode: scenario.target.mode,
            probe_unserved: false,
        }
    }

    /// What `probe` steps send and expect, and how long they wait (the
    /// runner's end-of-run probe settings).
    pub fn set_probe(&mut self, spec: ProbeSpec, limit: Duration) {
        self.probe = (spec, limit);
    }

    /// Whether a `probe` step went unserved (the server did not serve a new
    /// client while the scenario's clients were open).
    pub fn probe_unserved(&self) -> bool {
        self.probe_unserved
    }

    /// What `pause` / `resume` steps act on; without one (`--target-addr`)
    /// they are skipped with the reason.
    pub fn set_pauser(&mut self, pauser: Option<Pauser>) {
        self.pauser = pauser;
    }

    /// Whether the server is frozen now. Always false once
    /// [`run`](Self::run) has returned.
    pub fn server_paused(&self) -> bool {
        self.pauser.as_ref().is_some_and(Pauser::is_paused)
    }

    /// Whether the last [`run`](Self::run) ended with the server paused (a
    /// scenario without a final `resume`, or one cut short): it was resumed
    /// before `run` returned.
    pub fn resumed_at_end(&self) -> bool {
        self.resumed_at_end
    }

    /// Run all steps in order, bounded by the scenario timeout. A repeated
    /// block runs its steps `times` times; each record says its iteration.
    /// Runs of a step with the same outcome are merged as they come in
    /// ([`StepLog`]), so memory and the report grow with distinct outcomes.
    ///
    /// The server is never left paused: whatever the steps did, it runs
    /// again before this returns, so nothing after it (probe, settle, kill)
    /// can mistake a frozen server for a hung one.
    pub async fn run(&mut self, scenario: &Scenario) -> StepLog {
        let records = self.run_steps(scenario).await;
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

    /// Whether the scenario's overall timeout kept steps (or iterations of
    /// a repeated block) of the last [`run`](Self::run) from running. A step
    /// that ran and was only bounded by the deadline does not count.
    pub fn deadline_reached(&self) -> bool {
        self.deadline_reached
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

    /// End of the scenario: close every client socket that is still open,
    /// and turn the upstream's connections into what a real idle upstream
    /// is: blocked in a read, closing when it sees EOF (or an error), never
    /// closing an idle connection on its own. Whatever the server still holds
    /// after that is its own doing.
    pub fn release(&mut self) {
        for (name, slots) in self.socks.iter_mut() {
            let is_upstream = self.kinds.get(name) == Some(&ActorKind::Upstream);
            for s in slots.iter_mut() {
                match std::mem::replace(s, Sock::None) {
                    Sock::Tcp(stream) if is_upstream => self.retired.push(stream),
                    _ => {}
                }
            }
        }
        for stream in self.retired.drain(..) {
            self.drains.spawn(drain_then_close(stream));
        }
    }

    fn ctx(&self, actor: &str) -> Ctx {
        Ctx {
            server: self.server,
            proto: self.proto,
            upstream: self.upstream.clone(),
            kind: self.kinds.get(actor).copied().unwrap_or(ActorKind::Client),
        }
    }

    async fn exec(&mut self, step: &Step, member: u32, scenario_deadline: Instant) -> StepOutcome {
        if matches!(step.op, Op::Pause | Op::Resume) {
            return self.pause_op(&step.op);
        }
        if step.op == Op::Probe {
            return self.probe_op().await;
        }
        let ctx = self.ctx(&step.actor);
        let Some(slot) = self
            .socks
            .get_mut(&step.actor)
            .and_then(|v| v.get_mut(member as usize))
        else {
            if let Op::Wait { ms } = step.op {
                return wait(ms, scenario_deadline).await;
            }
            return skipped(format!("unknown actor {:?}", step.actor));
        };
        let (outcome, retired) = exec_slot(&ctx, slot, step, member, scenario_deadline).await;
        self.retired.extend(retired);
        outcome
    }
}

impl Session {
    /// `probe`: the end-of-run probe, now, with the scenario's sockets open.
    async fn probe_op(&mut self) -> StepOutcome {
        let (spec, limit) = &self.probe;
        let p = crate::probe::probe_with(
            spec,
            self.proto,
            self.mode,
            self.server,
            self.upstream.clone(),
            *limit,
        )
        .await;
        if !p.served {
            self.probe_unserved = true;
        }
        p.outcome
    }

    /// `pause` / `resume` on the server's process tree.
    fn pause_op(&mut self, op: &Op) -> StepOutcome {
        let Some(p) = self.pauser.as_mut() else {
            return skipped(
                "the server is not netrepro's process (--target-addr): it cannot be paused"
                    .to_string(),
            );
        };
        if *op == Op::Pause {
            p.pause();
        } else {
            p.resume();
        }
        StepOutcome::Ok { bytes: 0 }
    }
}

/// What an op needs besides its own socket.
#[derive(Clone)]
struct Ctx {
    server: SocketAddr,
    proto: Proto,
    upstream: Option<Arc<TcpListener>>,
    kind: ActorKind,
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

async fn wait(ms: u64, scenario_deadline: Instant) -> StepOutcome {
    let until = (Instant::now() + Duration::from_millis(ms)).min(scenario_deadline);
    tokio::time::sleep_until(until).await;
    StepOutcome::Ok { bytes: 0 }
}

/// Run one op of one actor (member) on its socket slot. Returns the outcome
/// and, for an upstream `accept`, the connection it replaced (kept open).
async fn exec_slot(
    ctx: &Ctx,
    slot: &mut Sock,
    step: &Step,
    member: u32,
    scenario_deadline: Instant,
) -> (StepOutcome, Option<TcpStream>) {
    let bounded = |d: Duration| (Instant::now() + d).min(scenario_deadline);
    let (server, proto, kind) = (ctx.server, ctx.proto, ctx.kind);
    let salt = salt(&step.actor, member);
    let outcome = match (&step.op, kind, proto) {
        (Op::Wait { ms }, _, _) => wait(*ms, scenario_deadline).await,
        (Op::Accept, ActorKind::Upstream, _) => {
            let Some(listener) = &ctx.upstream else {
                return (
                    skipped("no upstream listener (not forward mode)".into()),
                    None,
                );
            };
            match tcp::accept(listener, bounded(CONNECT_TIMEOUT)).await {
                Ok(s) => {
                    let old = match std::mem::replace(slot, Sock::Tcp(s)) {
                        Sock::Tcp(old) => Some(old),
                        _ => None,
                    };
                    return (StepOutcome::Ok { bytes: 0 }, old);
                }
                Err(o) => o,
            }
        }
        (Op::Connect { timeout_ms }, ActorKind::Client, Proto::Tcp) => {
            let limit = timeout_ms.map_or(CONNECT_TIMEOUT, Duration::from_millis);
            match tcp::connect(server, bounded(limit)).await {
                Ok(s) => {
                    *slot = Sock::Tcp(s);
                    StepOutcome::Ok { bytes: 0 }
                }
                Err(o) => {
                    *slot = Sock::None;
                    o
                }
            }
        }
        (Op::Bind, _, Proto::Udp) => match udp::bind(server).await {
            Ok(sock) => {
                *slot = Sock::Udp {
                    sock,
                    connected: false,
                };
                StepOutcome::Ok { bytes: 0 }
            }
            Err(e) => io_error(&e),
        },
        (Op::Connect { .. }, _, Proto::Udp) => {
            if let Err(o) = ensure_udp(slot, server).await {
                return (o, None);
            }
            let Sock::Udp { sock, connected } = slot else {
                unreachable!()
            };
            match sock.connect(server).await {
                Ok(()) => {
                    *connected = true;
                    StepOutcome::Ok { bytes: 0 }
                }
                Err(e) => io_error(&e),
            }
        }
        (
            Op::Send {
                payload,
                timeout_ms,
            },
            _,
            _,
        ) => {
            let data = payload::Data::of(payload, salt);
            if proto == Proto::Udp && kind == ActorKind::Client {
                if let Err(o) = ensure_udp(slot, server).await {
                    return (o, None);
                }
            }
            let limit = timeout_ms.map_or(SEND_TIMEOUT, Duration::from_millis);
            match slot {
                Sock::Tcp(s) => tcp::send(s, data, bounded(limit)).await,
                Sock::Udp { sock, connected } => match data.whole() {
                    Some(d) => udp::send(sock, *connected, server, d).await,
                    None => skipped(format!(
                        "a {}-byte datagram is larger than any UDP datagram",
                        data.len()
                    )),
                },
                Sock::None => no_socket(&step.actor),
            }
        }
        (Op::Recv { mode, timeout_ms }, _, _) => {
            let d = bounded(Duration::from_millis(*timeout_ms));
            match slot {
                Sock::Tcp(s) => tcp::recv(s, *mode, d).await,
                Sock::Udp { sock, connected } => udp::recv(sock, *connected, *mode, d).await,
                Sock::None => no_socket(&step.actor),
            }
        }
        (Op::Shutdown { how }, _, _) => match slot {
            Sock::Tcp(s) => tcp::shutdown(s, *how),
            _ => no_socket(&step.actor),
        },
        (Op::Close, _, _) => match std::mem::replace(slot, Sock::None) {
            Sock::None => no_socket(&step.actor),
            _ => StepOutcome::Ok { bytes: 0 },
        },
        (Op::Abort, _, _) => match std::mem::replace(slot, Sock::None) {
            Sock::Tcp(s) => tcp::abort(s),
            _ => no_socket(&step.actor),
        },
        (op, kind, proto) => skipped(format!(
            "op {} is not valid for a {kind:?} actor over {proto:?}",
            op.name()
        )),
    };
    (outcome, None)
}

/// One line per repeated block for the report: how often it was asked to
/// run and how many iterations started before the scenario ended.
pub fn repeat_notes(sc: &Scenario, records: &[StepRecord]) -> Vec<String> {
    sc.repeats
        .iter()
        .map(|r| {
            let block = r.first..r.first + r.len;
            let ran = records
                .iter()
                .filter(|x| block.contains(&x.index))
                .filter(|x| !matches!(x.outcome, StepOutcome::Skipped { .. }))
                .map(|x| x.last.map_or(x.iteration, |l| l.iteration.max(x.iteration)))
                .max()
                .unwrap_or(0);
            let last = sc.steps[r.first + r.len - 1].line;
            format!(
                "repeat: the {} step(s) at lines {}-{last} ran {ran} of {} times",
                r.len, sc.steps[r.first].line, r.times
            )
        })
        .collect()
}

async fn ensure_udp(slot: &mut Sock, server: SocketAddr) -> Result<(), StepOutcome> {
    if !matches!(slot, Sock::Udp { .. }) {
        let sock = udp::bind(server).await.map_err(|e| io_error(&e))?;
        *slot = Sock::Udp {
            sock,
            connected: false,
        };
    }
    Ok(())
}

fn salt(actor: &str, member: u32) -> u32 {
    actor
        .bytes()
        .fold(member, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
}

fn io_error(e: &std::io::Error) -> StepOutcome {
    StepOutcome::Error {
        bytes: 0,
        error: netrepro_sys::errors::observe(e),
    }
}

fn skipped(reason: String) -> StepOutcome {
    StepOutcome::Skipped { reason }
}

fn no_socket(actor: &str) -> StepOutcome {
    skipped(format!(
        "actor {actor:?} has no open socket here (not connected, or already closed)"
    ))
}
