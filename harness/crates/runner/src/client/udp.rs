//! UDP operations of one actor on a real socket.

use netrepro_observe::StepOutcome;
use netrepro_scenario::{RecvMode, UdpDest};
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use tokio::time::{timeout_at, Instant};

/// Largest datagram a `recv` with `RecvMode::Any` accepts.
const MAX_DATAGRAM: usize = 65_536;

/// A UDP socket bound to the loopback address of `server`'s family.
pub use crate::loopback::udp_socket_for as bind;

/// Where a UDP send or connect goes: the server, or the step's `to`. A
/// `closed` destination is a loopback port of the server's family that a
/// socket held a moment ago and has released, so nothing is bound to it
/// (the OS hands out ephemeral ports in turn, so it is not reused at once).
pub fn dest(to: Option<UdpDest>, server: SocketAddr) -> std::io::Result<SocketAddr> {
    match to {
        None => Ok(server),
        Some(UdpDest::Addr(a)) => Ok(a),
        Some(UdpDest::Closed) => {
            let s = std::net::UdpSocket::bind(SocketAddr::new(server.ip(), 0))?;
            s.local_addr()
        }
    }
}

/// Send one datagram, bounded by `deadline`: a UDP send normally completes
/// at once, but one that keeps reporting "would block" (a full send buffer,
/// or Wine's socket layer) must not hold the run.
pub async fn send(
    sock: &UdpSocket,
    connected: bool,
    to: SocketAddr,
    data: &[u8],
    deadline: Instant,
) -> StepOutcome {
    let started = Instant::now();
    let r = if connected {
        timeout_at(deadline, sock.send(data)).await
    } else {
        timeout_at(deadline, sock.send_to(data, to)).await
    };
    match r {
        Ok(Ok(n)) => StepOutcome::Ok { bytes: n },
        Ok(Err(e)) => StepOutcome::os_error(0, &e),
        Err(_) => StepOutcome::timed_out(0, started.elapsed()),
    }
}

pub async fn recv(
    sock: &UdpSocket,
    connected: bool,
    mode: RecvMode,
    deadline: Instant,
) -> StepOutcome {
    let started = Instant::now();
    let cap = match mode {
        RecvMode::Exact(n) => n,
        _ => MAX_DATAGRAM,
    };
    let mut buf = vec![0u8; cap.max(1)];
    let r = if connected {
        timeout_at(deadline, sock.recv(&mut buf[..cap])).await
    } else {
        timeout_at(deadline, async {
            sock.recv_from(&mut buf[..cap]).await.map(|(n, _)| n)
        })
        .await
    };
    match r {
        Ok(Ok(n)) => StepOutcome::Ok { bytes: n },
        Ok(Err(e)) => StepOutcome::os_error(0, &e),
        Err(_) => StepOutcome::timed_out(0, started.elapsed()),
    }
}

/// Wait until a datagram (or a pending error, e.g. an ICMP port
/// unreachable on a connected socket) is queued, without taking it: a peek.
/// `Ok` with the size of the next datagram, the error, or `Timeout`.
pub async fn wait_readable(sock: &UdpSocket, deadline: Instant) -> StepOutcome {
    let started = Instant::now();
    // Whole-datagram buffer: Windows fails a peek into a smaller one with
    // WSAEMSGSIZE.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    match timeout_at(deadline, sock.peek_from(&mut buf)).await {
        Ok(Ok((n, _))) => StepOutcome::Ok { bytes: n },
        Ok(Err(e)) => StepOutcome::os_error(0, &e),
        Err(_) => StepOutcome::timed_out(0, started.elapsed()),
    }
}
