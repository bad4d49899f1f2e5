//! The harness's own client-side sockets stay on loopback: a UDP socket for
//! a step or for the probe is bound to the loopback address of the server's
//! family, so traffic never leaves the machine and `::1` scenarios stay IPv6.
//!
//! Its port comes from the harness, not the kernel ([`bind_client_port`]):
//! ports outside the ephemeral range (`netrepro_sys::ports::client_range`),
//! taken in turn, so a port a client released is not bound again by anyone
//! soon. The kernel's own pick can hand a just-closed port to the next
//! socket of another run; a server's late reply to the vanished client then
//! reaches that socket instead of drawing the ICMP port unreachable the
//! scenario is about (seen at 64 runs at once: udp-vanished-client-then-crowd
//! crowd members receiving another run's 16-byte echo).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use tokio::net::UdpSocket;

/// The loopback address of `server`'s family.
pub fn ip_for(server: SocketAddr) -> IpAddr {
    if server.is_ipv6() {
        Ipv6Addr::LOCALHOST.into()
    } else {
        Ipv4Addr::LOCALHOST.into()
    }
}

/// A UDP socket bound to the loopback address of `server`'s family, on a
/// port of the harness's choosing ([`bind_client_port`]).
pub async fn udp_socket_for(server: SocketAddr) -> io::Result<UdpSocket> {
    let sock = bind_client_port(ip_for(server), std::net::UdpSocket::bind)?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock)
}

/// How many ports of the client range are tried (one in use by someone
/// else is skipped) before the kernel is left to pick.
const TRIES: u32 = 16;

/// Bind with `bind` on `ip` and the next port of the client range, skipping
/// ports in use or refused (Windows reserves ranges for Hyper-V, refused
/// with WSAEACCES), then on port 0 if none bound or there is no such range.
pub fn bind_client_port<T>(
    ip: IpAddr,
    bind: impl Fn(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    if let Some(range) = client_range() {
        for _ in 0..TRIES {
            match bind(SocketAddr::new(ip, next_port(range, cursor()))) {
                Ok(s) => return Ok(s),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
    bind(SocketAddr::new(ip, 0))
}

fn client_range() -> &'static Option<Range<u16>> {
    static RANGE: OnceLock<Option<Range<u16>>> = OnceLock::new();
    RANGE.get_or_init(netrepro_sys::ports::client_range)
}

/// This process's place in the client range, started at random so that
/// several netrepro processes (a test suite) start apart.
fn cursor() -> &'static AtomicU32 {
    static CURSOR: OnceLock<AtomicU32> = OnceLock::new();
    CURSOR.get_or_init(|| AtomicU32::new(random_u64() as u32))
}

/// The next port of `range`: every port once before any comes again.
fn next_port(range: &Range<u16>, cursor: &AtomicU32) -> u16 {
    let width = u32::from(range.end - range.start).max(1);
    // Kept below `width` so the count never wraps mid-turn.
    let step = cursor
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
            Some((c % width + 1) % width)
        })
        .unwrap_or_default()
        % width;
    range.start + step as u16
}

/// A random number from std's per-process random hash keys (no RNG
/// dependency for a starting point and a port pick per run).
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_in_turn_and_every_one_before_a_repeat() {
        let cursor = AtomicU32::new(u32::MAX - 1);
        let range = 100..103;
        let got: Vec<u16> = (0..6).map(|_| next_port(&range, &cursor)).collect();
        // Wraps around u32 without leaving the range.
        assert!(got.iter().all(|p| range.contains(p)), "{got:?}");
        let mut first: Vec<u16> = got[..3].to_vec();
        first.sort_unstable();
        assert_eq!(first, vec![100, 101, 102]);
    }

    #[tokio::test]
    async fn a_client_socket_binds_outside_the_ephemeral_range_and_is_not_reused() {
        let server: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let eph = netrepro_sys::ports::ephemeral_range();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let s = udp_socket_for(server).await.unwrap();
            let port = s.local_addr().unwrap().port();
            if client_range().is_some() {
                assert!(!eph.contains(&u32::from(port)), "{port} in {eph:?}");
            }
            // Closed at once, yet not handed out again in 200 binds.
            assert!(seen.insert(port), "port {port} came back");
        }
    }

    #[test]
    fn a_port_in_use_is_skipped() {
        let Some(range) = client_range().clone() else {
            return;
        };
        let ip = IpAddr::from([127, 0, 0, 1]);
        // Hold the port the cursor gives next: the bind must go past it.
        let held_port = range.start
            + (cursor().load(Ordering::Relaxed) % u32::from(range.end - range.start)) as u16;
        let held = std::net::UdpSocket::bind(SocketAddr::new(ip, held_port));
        let got = bind_client_port(ip, std::net::UdpSocket::bind).unwrap();
        if held.is_ok() {
            assert_ne!(got.local_addr().unwrap().port(), held_port);
        }
    }
}
