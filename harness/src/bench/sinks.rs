//! The minimal servers both sides of a comparison run against, in this
//! process, on loopback, each on its own thread: an accept-and-close loop
//! for TCP (what any C or Rust programmer writes first: `accept`, `close`,
//! repeat, on a listener with the kernel's maximum backlog) and a
//! receive-and-send-back loop for UDP. Each loop is bounded in count
//! ([`MAX_SERVED`]) and stops when its handle is dropped.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Upper bound of connections (or datagrams) one sink serves.
pub const MAX_SERVED: u64 = 10_000_000;
/// How often the UDP echo looks at its stop flag while idle.
const UDP_POLL: Duration = Duration::from_millis(50);
/// Bound on the connect that wakes the TCP sink's blocking accept.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// `accept`, `close`, repeat. Stops on drop.
pub struct TcpSink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpSink {
    pub fn start() -> io::Result<TcpSink> {
        let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        sock.bind(&addr.into())?;
        // The backlog a C programmer passes (`listen(fd, SOMAXCONN)`; on
        // Linux the kernel caps it at somaxconn).
        sock.listen(netrepro_servers::max_listen_backlog())?;
        let l: TcpListener = sock.into();
        let addr = l.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for _ in 0..MAX_SERVED {
                // An accept error (a connection reset while queued) ends
                // only that connection.
                drop(l.accept());
                if flag.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        Ok(TcpSink {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TcpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // One more connection wakes the blocking accept; if it cannot be
        // made the thread is left to end with the process, never joined
        // (a join could wait forever).
        let woken = TcpStream::connect_timeout(&self.addr, WAKE_TIMEOUT).is_ok();
        if let Some(t) = self.thread.take().filter(|_| woken) {
            let _ = t.join();
        }
    }
}

/// Receive a datagram, send it back to its sender, repeat. Stops on drop.
pub struct UdpEcho {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpEcho {
    pub fn start() -> io::Result<UdpEcho> {
        let sock = UdpSocket::bind(("127.0.0.1", 0))?;
        // Wakes up to look at the stop flag; a busy echo never waits.
        sock.set_read_timeout(Some(UDP_POLL))?;
        let addr = sock.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            for _ in 0..MAX_SERVED {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                // Timeouts and errors (an ICMP error from a client that is
                // gone) end only that datagram.
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    let _ = sock.send_to(&buf[..n], from);
                }
            }
        });
        Ok(UdpEcho {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Returns within one UDP_POLL.
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tcp_sink_accepts_and_stops_on_drop() {
        let sink = TcpSink::start().unwrap();
        let c = TcpStream::connect_timeout(&sink.addr(), WAKE_TIMEOUT).unwrap();
        drop(c);
        let addr = sink.addr();
        drop(sink);
        // The listener is closed once the thread has ended.
        assert!(TcpStream::connect_timeout(&addr, WAKE_TIMEOUT).is_err());
    }

    #[test]
    fn the_udp_echo_sends_back_what_it_got() {
        let echo = UdpEcho::start().unwrap();
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.send_to(b"ping", echo.addr()).unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], echo.addr()));
    }
}
