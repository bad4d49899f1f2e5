//! The raw clients netrepro is compared with: what a programmer writes
//! with blocking sockets and no harness around them. [`storm`]: socket,
//! connect, SO_LINGER 0, close (an RST), as fast as it can; [`udp_echo`]:
//! send a datagram, receive the echo, on one std `UdpSocket`. Both bounded
//! in count and in time.

use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A connect this slow waited for a SYN retransmit (initial RTO is 1 s,
/// RFC 6298): the listen queue was full.
pub const STALL: Duration = Duration::from_millis(900);
/// Upper bound of one connect (SO_SNDTIMEO, which bounds a blocking
/// connect on Linux and macOS; a stalled one retransmits at 1 s, 3 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// Upper bound of one wait for an echo.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(1);
/// A storm gives up after this many failed connects (the server is gone).
const MAX_FAILED: u32 = 10;

/// What one storm measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Storm {
    pub cycles: u32,
    pub elapsed: Duration,
    /// Connects that took [`STALL`] or more (a dropped SYN, retransmitted).
    pub stalls: u32,
    /// Connects that failed (refused, timed out: the server died or stopped).
    pub failed: u32,
    pub slowest: Duration,
}

impl Storm {
    pub fn per_sec(&self) -> f64 {
        per_sec(u64::from(self.cycles), self.elapsed)
    }

    pub fn tally(&self) -> Tally {
        Tally {
            ok: u64::from(self.cycles),
            failed: u64::from(self.failed),
            elapsed: self.elapsed,
        }
    }
}

pub fn per_sec(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// One connect+RST cycle on a blocking socket2 socket.
fn cycle(addr: SocketAddr) -> std::io::Result<()> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_write_timeout(Some(CONNECT_TIMEOUT))?;
    s.connect(&addr.into())?;
    // Abort: RST, not FIN. If it fails the close is a FIN, which is still
    // a finished cycle.
    let _ = s.set_linger(Some(Duration::ZERO));
    Ok(())
}

/// Run `cycles` connect+abort cycles against `addr` (at most `max` long).
pub fn storm(addr: SocketAddr, cycles: u32, max: Duration) -> Storm {
    let start = Instant::now();
    let mut s = Storm {
        cycles: 0,
        elapsed: Duration::ZERO,
        stalls: 0,
        failed: 0,
        slowest: Duration::ZERO,
    };
    while s.cycles < cycles && start.elapsed() < max {
        let t = Instant::now();
        let res = cycle(addr);
        let took = t.elapsed();
        s.slowest = s.slowest.max(took);
        if took >= STALL {
            s.stalls += 1;
        }
        match res {
            Ok(()) => s.cycles += 1,
            Err(_) => {
                s.failed += 1;
                if s.failed >= MAX_FAILED {
                    break;
                }
            }
        }
    }
    s.elapsed = start.elapsed();
    s
}

/// What a raw run counted: cycles or round trips that went as asked, and
/// those that failed (a refused connect, a send that failed, an echo that
/// did not come back in time).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

/// `count` round trips of a `size`-byte datagram to the echo at `addr`,
/// on one unconnected socket (as netrepro's actors use it), at most `max`.
pub fn udp_echo(
    addr: SocketAddr,
    count: u64,
    size: usize,
    max: Duration,
) -> std::io::Result<Tally> {
    let sock = UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
    sock.set_read_timeout(Some(RECV_TIMEOUT))?;
    let data = vec![0x5au8; size];
    let mut buf = vec![0u8; size.max(1)];
    let start = Instant::now();
    let mut r = Tally {
        ok: 0,
        failed: 0,
        elapsed: Duration::ZERO,
    };
    while r.ok + r.failed < count && start.elapsed() < max {
        let echoed = sock
            .send_to(&data, addr)
            .and_then(|_| sock.recv_from(&mut buf));
        match echoed {
            Ok((n, _)) if n == size => r.ok += 1,
            _ => r.failed += 1,
        }
    }
    r.elapsed = start.elapsed();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::sinks::{TcpSink, UdpEcho};
    use super::*;

    #[test]
    fn storm_against_the_sink_counts_every_cycle() {
        let sink = TcpSink::start().unwrap();
        let s = storm(sink.addr(), 50, Duration::from_secs(30));
        assert_eq!((s.cycles, s.failed), (50, 0));
    }

    #[test]
    fn storm_against_a_closed_port_stops_after_failures() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let s = storm(addr, 50, Duration::from_secs(30));
        assert_eq!((s.cycles, s.failed), (0, MAX_FAILED));
    }

    #[test]
    fn udp_round_trips_against_the_echo_all_come_back() {
        let echo = UdpEcho::start().unwrap();
        let r = udp_echo(echo.addr(), 50, 32, Duration::from_secs(30)).unwrap();
        assert_eq!((r.ok, r.failed), (50, 0));
    }
}
