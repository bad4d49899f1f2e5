//! The sockets of every actor while a scenario runs ([`Session`]): one
//! slot per group member, the upstream connections accepted in forward
//! mode, and what `pause` / `resume` / `probe` steps act on. Running one
//! member's step dispatches here (`exec`); the order the steps run in is
//! `sequence`, one op on one socket is `step`. [`Session::release`] ends
//! the scenario's side of every connection.

use super::sockopts::{ActorOpts, SockoptLog};
use super::step::{exec_slot, skipped, wait, Ctx, Sock};
use super::upstream::Played;
use crate::link::Link;
use crate::probe::ProbeSpec;
use netrepro_observe::StepOutcome;
use netrepro_scenario::{ActorKind, Op, Proto, Scenario, Step};
use netrepro_sys::process::pause::Pauser;
use netrepro_sys::sockopt::{Granted, SockOpts};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The sockets of every actor while a scenario runs. Dropping it closes them.
pub struct Session {
    server: SocketAddr,
    proto: Proto,
    upstream: Option<Arc<TcpListener>>,
    /// actor name -> one socket slot per group member.
    pub(super) socks: BTreeMap<String, Vec<Sock>>,
    kinds: BTreeMap<String, ActorKind>,
    /// Earlier upstream connections, kept open like an idle real upstream would.
    pub(super) retired: Vec<TcpStream>,
    /// Upstream connections after `release`; aborted when the session drops.
    drains: tokio::task::JoinSet<()>,
    /// The scenario's `timeout_ms` kept steps from running.
    pub(super) deadline_reached: bool,
    /// Freezes the server's tree for `pause` steps (`None`: not our process).
    pub(super) pauser: Option<Pauser>,
    /// The last `run` ended with the server paused (and resumed it).
    pub(super) resumed_at_end: bool,
    /// What a `probe` step sends and expects, and how long it waits.
    probe: (ProbeSpec, Duration),
    mode: netrepro_scenario::Mode,
    /// A `probe` step was not served.
    probe_unserved: bool,
    /// The run's own network namespace's link (`netns = true`).
    link: Option<Link>,
    /// The upstream answering on its own (`[target] upstream = ...` other
    /// than "scripted"); `None` when the steps drive it.
    pub(super) played: Option<Played>,
    /// Actor -> `[sockopts]` of the scenario.
    sockopts: BTreeMap<String, SockOpts>,
    /// What those options were granted, or the first one refused.
    sockopt_log: Arc<Mutex<SockoptLog>>,
    /// Datagrams dropped as not the server's (`udp::Strays`).
    strays: Arc<super::udp::Strays>,
}

/// Bound on how long a released upstream connection waits for EOF.
pub(super) const DRAIN_LIMIT: Duration = Duration::from_secs(30);

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
        let played = match scenario.target.mode {
            netrepro_scenario::Mode::Forward => {
                Played::new(scenario.target.upstream, upstream.clone())
            }
            netrepro_scenario::Mode::Echo => None,
        };
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
            link: None,
            played,
            sockopts: scenario.sockopts.clone(),
            sockopt_log: Arc::default(),
            strays: Arc::default(),
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

    /// Actor -> what the OS granted for its `[sockopts]` (read back from
    /// its first socket).
    pub fn granted_sockopts(&self) -> BTreeMap<String, Granted> {
        self.sockopt_log
            .lock()
            .map(|l| l.granted.clone())
            .unwrap_or_default()
    }

    /// The first socket option the OS refused: the harness could not set
    /// up the scenario as written (a harness error, not a verdict).
    pub fn sockopt_refused(&self) -> Option<String> {
        self.sockopt_log.lock().ok().and_then(|l| l.refused.clone())
    }

    /// What `netem` / `blackhole` / `heal` steps act on (`None`: no
    /// namespace of its own; such steps are skipped with the reason).
    pub fn set_link(&mut self, link: Option<Link>) {
        self.link = link;
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

    /// Whether the scenario's overall timeout kept steps (or iterations of
    /// a repeated block) of the last [`run`](Self::run) from running. A step
    /// that ran and was only bounded by the deadline does not count.
    pub fn deadline_reached(&self) -> bool {
        self.deadline_reached
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

    pub(super) fn ctx(&self, actor: &str) -> Ctx {
        Ctx {
            server: self.server,
            proto: self.proto,
            upstream: self.upstream.clone(),
            kind: self.kinds.get(actor).copied().unwrap_or(ActorKind::Client),
            sockopts: self.sockopts.get(actor).map(|o| ActorOpts {
                actor: actor.to_owned(),
                opts: *o,
                log: Arc::clone(&self.sockopt_log),
            }),
            strays: Arc::clone(&self.strays),
        }
    }

    /// How many datagrams the actors' unconnected UDP sockets dropped
    /// because they came from elsewhere than the server (`udp::Strays`).
    pub fn strays(&self) -> u64 {
        self.strays.count()
    }

    pub(super) async fn exec(
        &mut self,
        step: &Step,
        member: u32,
        scenario_deadline: Instant,
    ) -> StepOutcome {
        if matches!(step.op, Op::Pause | Op::Resume) {
            return self.pause_op(&step.op);
        }
        if step.op == Op::Probe {
            return self.probe_op().await;
        }
        if step.op.is_link_fault() {
            return self.link_op(step, member).await;
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

    /// `probe`: the end-of-run probe, now, with the scenario's sockets open.
    async fn probe_op(&mut self) -> StepOutcome {
        // The probe answers on the upstream listener itself: a played
        // upstream stops accepting there first, and starts again after.
        if let Some(p) = self.played.as_mut() {
            p.pause().await;
        }
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
        if let Some(played) = self.played.as_mut() {
            played.resume();
        }
        p.outcome
    }

    /// `netem` / `heal` on the whole link, `blackhole` on the local port of
    /// the actor's socket.
    async fn link_op(&mut self, step: &Step, member: u32) -> StepOutcome {
        let port = match &step.op {
            Op::Blackhole { .. } => {
                let slot = self
                    .socks
                    .get(&step.actor)
                    .and_then(|v| v.get(member as usize));
                let local = match slot {
                    Some(Sock::Tcp(s)) => s.local_addr().ok(),
                    Some(Sock::TcpIdle(s)) => s.local_addr().ok(),
                    Some(Sock::Udp { sock, .. }) => sock.local_addr().ok(),
                    _ => None,
                };
                match local {
                    Some(a) => Some(a.port()),
                    None => {
                        return skipped(format!(
                            "actor {:?} has no open socket to blackhole",
                            step.actor
                        ))
                    }
                }
            }
            _ => None,
        };
        let Some(link) = self.link.as_mut() else {
            return skipped("this run has no network namespace of its own".to_string());
        };
        match (&step.op, port) {
            (Op::Netem(n), _) => link.netem(n).await,
            (Op::Blackhole { only }, Some(p)) => link.blackhole(p, *only).await,
            _ => link.heal().await,
        }
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
            if !p.pause() {
                // Signalled but still running: the steps after it are not
                // the ordering the scenario asked for, and the record says so.
                return StepOutcome::timed_out(0, netrepro_sys::process::pause::STOP_WAIT);
            }
        } else {
            p.resume();
        }
        StepOutcome::Ok { bytes: 0 }
    }
}
