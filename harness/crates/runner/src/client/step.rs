//! Where one step runs: one op (connect, send, recv, wait_readable, shutdown, close,
//! abort, bind, accept, wait) of one actor's group member, on that member's
//! socket slot, bounded by its own timeout and the scenario's deadline.
//! Returns the outcome as observed; errors are classified by
//! `netrepro_sys::errors`, never by message text. `pause`, `resume` and
//! `probe` act on the server, not on a socket: see `session`.

use super::payload;
use super::sockopts::{self, ActorOpts};
use super::{tcp, udp};
use netrepro_observe::StepOutcome;
use netrepro_scenario::{ActorKind, Op, Proto, Step};
use netrepro_sys::process::inherit;
use socket2::SockRef;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::Instant;

/// Bound for a TCP connect or an upstream accept.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Bound for one send (a peer that stops reading blocks a large send).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// One group member's socket.
pub(super) enum Sock {
    None,
    Tcp(TcpStream),
    /// Connected, not yet registered with the reactor (`tcp::Connected`):
    /// a step that waits on it registers it first ([`registered`]).
    TcpIdle(std::net::TcpStream),
    Udp {
        sock: UdpSocket,
        connected: bool,
    },
}

/// What an op needs besides its own socket.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) server: SocketAddr,
    pub(super) proto: Proto,
    pub(super) upstream: Option<Arc<TcpListener>>,
    pub(super) kind: ActorKind,
    /// The actor's `[sockopts]`, if any.
    pub(super) sockopts: Option<ActorOpts>,
    /// Datagrams from elsewhere than the server, dropped (`udp::Strays`).
    pub(super) strays: Arc<udp::Strays>,
}

pub(super) async fn wait(ms: u64, scenario_deadline: Instant) -> StepOutcome {
    let until = (Instant::now() + Duration::from_millis(ms)).min(scenario_deadline);
    tokio::time::sleep_until(until).await;
    StepOutcome::Ok { bytes: 0 }
}

/// Run one op of one actor (member) on its socket slot. Returns the outcome
/// and, for an upstream `accept`, the connection it replaced (kept open).
pub(super) async fn exec_slot(
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
                        Sock::TcpIdle(old) => tcp::register(old).ok(),
                        _ => None,
                    };
                    return (StepOutcome::Ok { bytes: 0 }, old);
                }
                Err(o) => o,
            }
        }
        (Op::Connect { timeout_ms, .. }, ActorKind::Client, Proto::Tcp) => {
            let limit = timeout_ms.map_or(CONNECT_TIMEOUT, Duration::from_millis);
            let connected = match &ctx.sockopts {
                None => tcp::connect(server, bounded(limit)).await,
                Some(a) => sockopts::tcp_connect(server, a, bounded(limit))
                    .await
                    .map(tcp::Connected::Registered),
            };
            match connected {
                Ok(c) => {
                    *slot = match c {
                        tcp::Connected::Idle(s) => Sock::TcpIdle(s),
                        tcp::Connected::Registered(s) => Sock::Tcp(s),
                    };
                    StepOutcome::Ok { bytes: 0 }
                }
                Err(o) => {
                    *slot = Sock::None;
                    o
                }
            }
        }
        (Op::Bind, _, Proto::Udp) => match udp_socket(ctx).await {
            Ok(sock) => {
                *slot = Sock::Udp {
                    sock,
                    connected: false,
                };
                StepOutcome::Ok { bytes: 0 }
            }
            Err(o) => o,
        },
        (Op::Connect { to, .. }, _, Proto::Udp) => {
            if let Err(o) = ensure_udp(slot, ctx).await {
                return (o, None);
            }
            let Sock::Udp { sock, connected } = slot else {
                unreachable!()
            };
            let dest = match udp::dest(*to, server) {
                Ok(d) => d,
                Err(e) => return (harness_setup_error(&e), None),
            };
            match sock.connect(dest).await {
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
                to,
                timeout_ms,
            },
            _,
            _,
        ) => {
            let data = payload::Data::of(payload, salt);
            if proto == Proto::Udp && kind == ActorKind::Client {
                if let Err(o) = ensure_udp(slot, ctx).await {
                    return (o, None);
                }
            }
            let limit = timeout_ms.map_or(SEND_TIMEOUT, Duration::from_millis);
            if let Err(o) = registered(slot) {
                return (o, None);
            }
            match slot {
                Sock::Tcp(s) => tcp::send(s, data, bounded(limit)).await,
                Sock::Udp { sock, connected } => match data.whole() {
                    Some(d) => match to {
                        None => udp::send(sock, *connected, server, d, bounded(limit)).await,
                        // An explicit destination: sendto, even on a
                        // connected socket (what the OS says is the outcome).
                        Some(to) => match udp::dest(Some(*to), server) {
                            Ok(dest) => udp::send(sock, false, dest, d, bounded(limit)).await,
                            Err(e) => harness_setup_error(&e),
                        },
                    },
                    None => skipped(format!(
                        "a {}-byte datagram is larger than any UDP datagram",
                        data.len()
                    )),
                },
                Sock::None => no_socket(&step.actor),
                Sock::TcpIdle(_) => unreachable!("registered above"),
            }
        }
        (Op::Recv { mode, timeout_ms }, _, _) => {
            let d = bounded(Duration::from_millis(*timeout_ms));
            if let Err(o) = registered(slot) {
                return (o, None);
            }
            match slot {
                Sock::Tcp(s) => tcp::recv(s, *mode, d).await,
                Sock::Udp { sock, connected } => {
                    udp::recv(sock, *connected, *mode, d, server, &ctx.strays).await
                }
                Sock::None => no_socket(&step.actor),
                Sock::TcpIdle(_) => unreachable!("registered above"),
            }
        }
        (Op::WaitReadable { timeout_ms }, _, _) => {
            let d = bounded(Duration::from_millis(*timeout_ms));
            if let Err(o) = registered(slot) {
                return (o, None);
            }
            match slot {
                Sock::Tcp(s) => tcp::wait_readable(s, d).await,
                Sock::Udp { sock, connected } => {
                    udp::wait_readable(sock, *connected, d, server, &ctx.strays).await
                }
                Sock::None => no_socket(&step.actor),
                Sock::TcpIdle(_) => unreachable!("registered above"),
            }
        }
        (Op::Shutdown { how }, _, _) => match slot {
            Sock::Tcp(s) => tcp::shutdown(SockRef::from(&*s), *how),
            Sock::TcpIdle(s) => tcp::shutdown(SockRef::from(&*s), *how),
            _ => no_socket(&step.actor),
        },
        // Closes wait for other runs' spawns between fork and exec, which
        // would otherwise keep the socket open (netrepro_sys::process::inherit).
        (Op::Close, _, _) => match std::mem::replace(slot, Sock::None) {
            Sock::None => no_socket(&step.actor),
            sock => {
                inherit::close(sock);
                StepOutcome::Ok { bytes: 0 }
            }
        },
        // SO_LINGER 0, then the close: an RST, sent now, not when another
        // run's spawn execs (netrepro_sys::process::inherit).
        (Op::Abort, _, _) => {
            let sock = std::mem::replace(slot, Sock::None);
            let outcome = match &sock {
                Sock::Tcp(s) => tcp::arm_reset(SockRef::from(s)),
                Sock::TcpIdle(s) => tcp::arm_reset(SockRef::from(s)),
                _ => no_socket(&step.actor),
            };
            inherit::close(sock);
            outcome
        }
        (op, kind, proto) => skipped(format!(
            "op {} is not valid for a {kind:?} actor over {proto:?}",
            op.name()
        )),
    };
    (outcome, None)
}

/// Register an idle TCP socket with the reactor before a step waits on it.
/// If that fails the socket is gone (closed) and the step's outcome is the
/// error.
fn registered(slot: &mut Sock) -> Result<(), StepOutcome> {
    if !matches!(slot, Sock::TcpIdle(_)) {
        return Ok(());
    }
    let Sock::TcpIdle(s) = std::mem::replace(slot, Sock::None) else {
        unreachable!()
    };
    let s = tcp::register(s).map_err(|e| io_error(&e))?;
    *slot = Sock::Tcp(s);
    Ok(())
}

/// A fresh UDP socket for the actor: with its options, or the plain one.
async fn udp_socket(ctx: &Ctx) -> Result<UdpSocket, StepOutcome> {
    match &ctx.sockopts {
        None => udp::bind(ctx.server).await.map_err(|e| io_error(&e)),
        Some(a) => sockopts::udp_bind(ctx.server, a),
    }
}

async fn ensure_udp(slot: &mut Sock, ctx: &Ctx) -> Result<(), StepOutcome> {
    if !matches!(slot, Sock::Udp { .. }) {
        let sock = udp_socket(ctx).await?;
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
    StepOutcome::os_error(0, e)
}

/// The harness could not prepare a step (e.g. find a closed port): not an
/// outcome of the server's, so the step is skipped with the reason.
fn harness_setup_error(e: &std::io::Error) -> StepOutcome {
    skipped(format!("the harness could not prepare this step: {e}"))
}

pub(super) fn skipped(reason: String) -> StepOutcome {
    StepOutcome::Skipped { reason }
}

fn no_socket(actor: &str) -> StepOutcome {
    skipped(format!(
        "actor {actor:?} has no open socket here (not connected, or already closed)"
    ))
}
