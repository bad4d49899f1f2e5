//! Client actors: execute a scenario's steps in order on real sockets (tokio +
//! socket2) and record one `StepRecord` per step and group member. In forward
//! mode the harness also plays the upstream server through the `upstream`
//! actor, which accepts the forwarder's connections on a listener it owns.

mod payload;
mod tcp;
mod udp;

pub use payload::bytes as payload_bytes;
pub use udp::bind as udp_bind_for;

use crate::observe::{StepOutcome, StepRecord};
use crate::scenario::{ActorKind, Op, Proto, Scenario, Step};
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
        }
    }

    /// Run all steps in order, bounded by the scenario timeout.
    pub async fn run(&mut self, scenario: &Scenario) -> Vec<StepRecord> {
        let deadline = Instant::now() + Duration::from_millis(scenario.timeout_ms);
        let mut records = Vec::new();
        for (index, step) in scenario.steps.iter().enumerate() {
            let members = self.socks.get(&step.actor).map_or(1, |v| v.len() as u32);
            for member in 0..members {
                let started = Instant::now();
                let outcome = if started >= deadline {
                    StepOutcome::Skipped {
                        reason: format!("scenario timeout of {} ms reached", scenario.timeout_ms),
                    }
                } else {
                    self.exec(step, member, deadline).await
                };
                records.push(StepRecord {
                    index,
                    line: step.line,
                    id: step.id.clone(),
                    actor: step.actor.clone(),
                    member,
                    op: step.op.name().to_string(),
                    outcome,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
            }
        }
        records
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

    async fn exec(&mut self, step: &Step, member: u32, scenario_deadline: Instant) -> StepOutcome {
        let bounded = |d: Duration| (Instant::now() + d).min(scenario_deadline);
        if let Op::Wait { ms } = step.op {
            tokio::time::sleep_until(bounded(Duration::from_millis(ms))).await;
            return StepOutcome::Ok { bytes: 0 };
        }
        let kind = self
            .kinds
            .get(&step.actor)
            .copied()
            .unwrap_or(ActorKind::Client);
        let salt = salt(&step.actor, member);
        let server = self.server;
        let proto = self.proto;
        let upstream = self.upstream.clone();
        let Some(slot) = self
            .socks
            .get_mut(&step.actor)
            .and_then(|v| v.get_mut(member as usize))
        else {
            return skipped(format!("unknown actor {:?}", step.actor));
        };
        match (&step.op, kind, proto) {
            (Op::Accept, ActorKind::Upstream, _) => {
                let Some(listener) = upstream else {
                    return skipped("no upstream listener (not forward mode)".into());
                };
                match tcp::accept(&listener, bounded(CONNECT_TIMEOUT)).await {
                    Ok(s) => {
                        if let Sock::Tcp(old) = std::mem::replace(slot, Sock::Tcp(s)) {
                            self.retired.push(old);
                        }
                        StepOutcome::Ok { bytes: 0 }
                    }
                    Err(o) => o,
                }
            }
            (Op::Connect, ActorKind::Client, Proto::Tcp) => {
                match tcp::connect(server, bounded(CONNECT_TIMEOUT)).await {
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
            (Op::Connect, _, Proto::Udp) => {
                if let Err(o) = ensure_udp(slot, server).await {
                    return o;
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
            (Op::Send { payload }, _, _) => {
                let data = payload::bytes(payload, salt);
                if proto == Proto::Udp && kind == ActorKind::Client {
                    if let Err(o) = ensure_udp(slot, server).await {
                        return o;
                    }
                }
                match slot {
                    Sock::Tcp(s) => tcp::send(s, &data, bounded(SEND_TIMEOUT)).await,
                    Sock::Udp { sock, connected } => {
                        udp::send(sock, *connected, server, &data).await
                    }
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
        }
    }
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
        error: crate::errors::observe(e),
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
