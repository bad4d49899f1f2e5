//! UDP echo, modelled on the Tribler / CPython proactor bug: naive dies on
//! the first receive error (an ICMP port unreachable from an earlier reply
//! to a vanished client, on Windows or on Linux with IP_RECVERR); hardened
//! disables the reports where it can and survives them where it cannot.

use super::log::{self, RepeatLimiter};
use super::{sockopt, Fatal};
use netrepro_sys::errors::ErrorClass;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

/// Bounded drain of Linux MSG_ERRQUEUE per error.
const ERRQUEUE_DRAIN: usize = 64;
/// Pause after an unexpected receive error so a persistent one cannot spin.
const UNEXPECTED_BACKOFF: Duration = Duration::from_millis(10);

/// Create and bind the socket; `configure` sets options before bind.
pub fn bind(addr: SocketAddr, configure: impl FnOnce(&Socket)) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    configure(&sock);
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock.into())
}

/// `--ip-recverr`: ask Linux to report ICMP errors on this unconnected socket.
pub fn apply_ip_recverr(sock: &Socket, addr: SocketAddr, wanted: bool) {
    if wanted {
        if let Err(err) = sockopt::set_ip_recverr(sock, addr.is_ipv6()) {
            log::event("setsockopt", &err, false);
        }
    }
}

/// What people write: a 2048-byte buffer and `?` on recv_from and send_to.
pub async fn naive(sock: UdpSocket, delay: Duration) -> Result<(), Fatal> {
    let mut buf = [0u8; 2048];
    loop {
        let (n, peer) = sock
            .recv_from(&mut buf)
            .await
            .map_err(Fatal::op("recv_from"))?;
        super::reply_delay(delay).await;
        sock.send_to(&buf[..n], peer)
            .await
            .map_err(Fatal::op("send_to"))?;
    }
}

/// Windows: turn off SIO_UDP_CONNRESET / SIO_UDP_NETRESET (tolerating
/// stacks that do not implement them, e.g. Wine). No-op elsewhere.
pub fn harden_socket(sock: &Socket) {
    for result in [
        sockopt::disable_udp_connreset(sock),
        sockopt::disable_udp_netreset(sock),
    ] {
        if let Err(err) = result {
            log::event("setsockopt", &err, false);
        }
    }
}

/// 64 KiB buffer; every error is logged (rate-limited when it repeats) and
/// the loop goes on. Never exits.
pub async fn hardened(sock: UdpSocket, delay: Duration) -> Result<(), Fatal> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut recv_repeats = RepeatLimiter::new(100, 1000);
    let mut send_repeats = RepeatLimiter::new(100, 1000);
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, peer)) => {
                recv_repeats.reset();
                super::reply_delay(delay).await;
                match sock.send_to(&buf[..n], peer).await {
                    Ok(_) => send_repeats.reset(),
                    Err(err) => {
                        if send_repeats.should_log(&err) {
                            log::event("send_to", &err, false);
                        }
                        sockopt::drain_error_queue(&sock, ERRQUEUE_DRAIN);
                    }
                }
            }
            Err(err) => {
                let class = netrepro_sys::errors::observe(&err).class;
                if recv_repeats.should_log(&err) {
                    log::event("recv_from", &err, false);
                }
                sockopt::drain_error_queue(&sock, ERRQUEUE_DRAIN);
                if !is_peer_error(class) {
                    tokio::time::sleep(UNEXPECTED_BACKOFF).await;
                }
            }
        }
    }
}

/// Errors caused by one peer or one datagram, not by the socket: skip and
/// receive the next datagram at once.
fn is_peer_error(class: ErrorClass) -> bool {
    matches!(
        class,
        ErrorClass::Reset
            | ErrorClass::Refused
            | ErrorClass::NetReset
            | ErrorClass::MessageSize
            | ErrorClass::Unreachable
            | ErrorClass::TimedOut
            | ErrorClass::WouldBlock
            | ErrorClass::Interrupted
    )
}
