//! Sockets for actors with `[sockopts.<actor>]` (issue 14.2): created
//! unconnected, given their options (`netrepro_sys::sockopt::apply`, which
//! also binds the source address), read back (`read_back`: what the OS
//! granted goes to the report, per actor), and only then connected (TCP)
//! or bound (UDP). Actors without options keep the plain path in `tcp` /
//! `udp`.
//!
//! An option the OS refuses (e.g. a source address the host lacks) is the
//! harness's problem, not the server's: the step is skipped with the reason
//! and the run becomes a harness error ([`SockoptLog::refused`]).

use netrepro_observe::StepOutcome;
use netrepro_sys::sockopt::{self, Granted, SockOpts};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;

/// What the actors' sockets were granted, and the first option refused.
#[derive(Debug, Default)]
pub struct SockoptLog {
    /// Actor -> what its first socket with options was granted.
    pub granted: BTreeMap<String, Granted>,
    /// The first option the OS refused, described for `harness_error`.
    pub refused: Option<String>,
}

/// One actor's options and the run's shared log.
#[derive(Clone)]
pub(super) struct ActorOpts {
    pub(super) actor: String,
    pub(super) opts: SockOpts,
    pub(super) log: Arc<Mutex<SockoptLog>>,
}

impl ActorOpts {
    fn granted(&self, g: Granted) {
        if let Ok(mut log) = self.log.lock() {
            log.granted.entry(self.actor.clone()).or_insert(g);
        }
    }

    /// Note the refusal and turn it into the step's outcome.
    fn refused(&self, r: &sockopt::Refused) -> StepOutcome {
        let why = format!(
            "the harness could not set actor {:?}'s socket options: {r}",
            self.actor
        );
        if let Ok(mut log) = self.log.lock() {
            log.refused.get_or_insert_with(|| why.clone());
        }
        StepOutcome::Skipped { reason: why }
    }
}

/// TCP connect to `addr` with the actor's options set first. TCP_NODELAY
/// is on unless the options say otherwise, as on the plain path.
pub(super) async fn tcp_connect(
    addr: SocketAddr,
    a: &ActorOpts,
    deadline: Instant,
) -> Result<TcpStream, StepOutcome> {
    let sock = if addr.is_ipv6() {
        TcpSocket::new_v6()
    } else {
        TcpSocket::new_v4()
    }
    .map_err(|e| StepOutcome::os_error(0, &e))?;
    let opts = SockOpts {
        nodelay: Some(a.opts.nodelay.unwrap_or(true)),
        ..a.opts
    };
    let r = SockRef::from(&sock);
    sockopt::apply(&r, &opts).map_err(|e| a.refused(&e))?;
    a.granted(sockopt::read_back(&r, &a.opts));
    super::tcp::finish_connect(sock.connect(addr), deadline).await
}

/// A UDP socket with the actor's options, bound to its source address or
/// to the loopback address of `server`'s family.
pub(super) fn udp_bind(server: SocketAddr, a: &ActorOpts) -> Result<UdpSocket, StepOutcome> {
    let sock = Socket::new(
        Domain::for_address(server),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(|e| StepOutcome::os_error(0, &e))?;
    sockopt::apply(&sock, &a.opts).map_err(|e| a.refused(&e))?;
    if a.opts.source.is_none() {
        crate::loopback::bind_client_port(crate::loopback::ip_for(server), |at| {
            sock.bind(&at.into())
        })
        .map_err(|e| StepOutcome::os_error(0, &e))?;
    }
    a.granted(sockopt::read_back(&sock, &a.opts));
    sock.set_nonblocking(true)
        .map_err(|e| StepOutcome::os_error(0, &e))?;
    UdpSocket::from_std(sock.into()).map_err(|e| StepOutcome::os_error(0, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::net::TcpListener;

    fn actor(opts: SockOpts) -> (ActorOpts, Arc<Mutex<SockoptLog>>) {
        let log = Arc::<Mutex<SockoptLog>>::default();
        let a = ActorOpts {
            actor: "a".into(),
            opts,
            log: Arc::clone(&log),
        };
        (a, log)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn options_are_read_back_once_per_actor_and_the_socket_connects() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (a, log) = actor(SockOpts {
            linger_s: Some(0),
            ..SockOpts::default()
        });
        for _ in 0..2 {
            let s = tcp_connect(l.local_addr().unwrap(), &a, soon()).await;
            assert!(s.is_ok(), "{:?}", s.err());
            // The harness's default stays: TCP_NODELAY on.
            assert!(s.unwrap().nodelay().unwrap());
        }
        let log = log.lock().unwrap();
        assert_eq!(log.granted.len(), 1);
        let g = &log.granted["a"];
        assert_eq!(g.linger.map(|l| (l.on, l.s)), Some((true, 0)));
        assert!(log.refused.is_none());
    }

    /// An option the OS refuses is the harness's problem: the step is
    /// skipped with the reason and the log keeps it for `harness_error`.
    /// The scenario parser allows loopback sources only; TEST-NET-1
    /// (RFC 5737) is on no interface, so binding it fails before any
    /// packet could leave.
    #[tokio::test]
    async fn a_refused_option_skips_the_step_and_is_logged() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (a, log) = actor(SockOpts {
            source: Some("192.0.2.1".parse().unwrap()),
            ..SockOpts::default()
        });
        match tcp_connect(l.local_addr().unwrap(), &a, soon()).await {
            Err(StepOutcome::Skipped { reason }) => assert!(reason.contains("source"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match udp_bind(l.local_addr().unwrap(), &a) {
            Err(StepOutcome::Skipped { .. }) => {}
            other => panic!("{other:?}"),
        }
        let log = log.lock().unwrap();
        assert!(log.granted.is_empty());
        assert!(log.refused.as_deref().unwrap().contains("source"));
    }
}
