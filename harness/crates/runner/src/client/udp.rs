//! UDP operations of one actor on a real socket.

use netrepro_observe::StepOutcome;
use netrepro_scenario::{RecvMode, UdpDest};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::UdpSocket;
use tokio::time::{timeout_at, Instant};

/// Largest datagram a `recv` with `RecvMode::Any` accepts.
const MAX_DATAGRAM: usize = 65_536;

/// A UDP socket bound to the loopback address of `server`'s family.
pub use crate::loopback::udp_socket_for as bind;

/// Where a UDP send or connect goes: the server, or the step's `to`. A
/// `closed` destination is a loopback port of the server's family that a
/// socket held a moment ago and has released, so nothing is bound to it:
/// one of the harness's client ports (`loopback::bind_client_port`), which
/// the kernel never hands out and the harness not again soon.
pub fn dest(to: Option<UdpDest>, server: SocketAddr) -> std::io::Result<SocketAddr> {
    match to {
        None => Ok(server),
        Some(UdpDest::Addr(a)) => Ok(a),
        Some(UdpDest::Closed) => {
            crate::loopback::bind_client_port(server.ip(), std::net::UdpSocket::bind)?.local_addr()
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

/// Whether a datagram from `from` can be the server's: sent from the
/// server's port. Not its address: a server bound to a wildcard address
/// answers a request to 127.0.0.2 from 127.0.0.1, the source the kernel
/// picks for the route back. Anything else is a stray: typically another
/// run's server answering, after a delay, a client whose port the kernel
/// has since handed to this socket (seen at 64 runs at once: a 16-byte
/// echo arriving at a crowd member of an unrelated scenario).
pub fn from_server(from: SocketAddr, server: SocketAddr) -> bool {
    from.port() == server.port()
}

/// Datagrams an unconnected socket dropped as strays ([`from_server`]);
/// shared by every actor of a run, for the result's note.
#[derive(Debug, Default)]
pub struct Strays(AtomicU64);

impl Strays {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Receive one datagram from the server. A connected socket only hears its
/// peer (the kernel filters); an unconnected one drops strays (counted in
/// `strays`) and waits on, within the same deadline.
pub async fn recv(
    sock: &UdpSocket,
    connected: bool,
    mode: RecvMode,
    deadline: Instant,
    server: SocketAddr,
    strays: &Strays,
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
            // Bounded by the deadline above; each stray is one datagram
            // taken off the queue, so the loop makes progress.
            loop {
                let (n, from) = sock.recv_from(&mut buf[..cap]).await?;
                if from_server(from, server) {
                    return Ok(n);
                }
                strays.add();
            }
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
/// `Ok` with the size of the next datagram, the error, or `Timeout`. A
/// stray at the head of an unconnected socket's queue is taken off and
/// counted, as in [`recv`].
pub async fn wait_readable(
    sock: &UdpSocket,
    connected: bool,
    deadline: Instant,
    server: SocketAddr,
    strays: &Strays,
) -> StepOutcome {
    let started = Instant::now();
    // Whole-datagram buffer: Windows fails a peek into a smaller one with
    // WSAEMSGSIZE.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let peeked = timeout_at(deadline, async {
        loop {
            let (n, from) = sock.peek_from(&mut buf).await?;
            if connected || from_server(from, server) {
                return Ok(n);
            }
            sock.recv_from(&mut buf).await?;
            strays.add();
        }
    })
    .await;
    match peeked {
        Ok(Ok(n)) => StepOutcome::Ok { bytes: n },
        Ok(Err(e)) => StepOutcome::os_error(0, &e),
        Err(_) => StepOutcome::timed_out(0, started.elapsed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn bound() -> UdpSocket {
        UdpSocket::bind("127.0.0.1:0").await.unwrap()
    }

    /// A stray queued before the server's reply is dropped and counted, by
    /// recv and by wait_readable; the server's datagram is what they see.
    #[tokio::test]
    async fn an_unconnected_socket_drops_datagrams_not_from_the_server_port() {
        let (client, server, other) = (bound().await, bound().await, bound().await);
        let to = client.local_addr().unwrap();
        let deadline = || Instant::now() + Duration::from_secs(5);
        let strays = Strays::default();
        let srv = server.local_addr().unwrap();

        other.send_to(&[7; 16], to).await.unwrap();
        server.send_to(&[1; 32], to).await.unwrap();
        let got = recv(&client, false, RecvMode::Any, deadline(), srv, &strays).await;
        assert_eq!(got, StepOutcome::Ok { bytes: 32 });
        assert_eq!(strays.count(), 1);

        other.send_to(&[7; 16], to).await.unwrap();
        server.send_to(&[1; 8], to).await.unwrap();
        let peeked = wait_readable(&client, false, deadline(), srv, &strays).await;
        assert_eq!(peeked, StepOutcome::Ok { bytes: 8 });
        assert_eq!(strays.count(), 2);
        // The peek left the server's datagram queued.
        let got = recv(&client, false, RecvMode::Any, deadline(), srv, &strays).await;
        assert_eq!(got, StepOutcome::Ok { bytes: 8 });

        // Only strays: the step times out, as with nothing at all.
        other.send_to(&[7; 4], to).await.unwrap();
        let short = Instant::now() + Duration::from_millis(100);
        let got = recv(&client, false, RecvMode::Any, short, srv, &strays).await;
        assert!(matches!(got, StepOutcome::Timeout { .. }), "{got:?}");
        assert_eq!(strays.count(), 3);
    }
}
