//! TCP operations of one actor on a real socket. Every call is bounded by
//! the deadline it is given; outcomes carry raw OS errors.

use super::payload::{Data, CHUNK};
use netrepro_observe::StepOutcome;
use netrepro_scenario::{RecvMode, ShutdownHow};
use socket2::SockRef;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout_at, Instant};

const READ_CHUNK: usize = 64 * 1024;

/// A connected TCP socket of an actor, as [`connect`] leaves it.
pub enum Connected {
    /// Connected at once and not registered with the runtime's reactor:
    /// non-blocking, TCP_NODELAY not yet set. [`register`] does both
    /// before the first step that waits on it; a connect + abort or close
    /// never needs either.
    Idle(std::net::TcpStream),
    /// Registered (the connect had to wait), TCP_NODELAY on.
    Registered(TcpStream),
}

/// Connect to `addr`, bounded by `deadline`: the connection, or the OS
/// error or timeout as the step's outcome. On loopback the handshake has
/// usually completed by the time the non-blocking `connect` returns, so the
/// socket is asked first (getpeername) and the reactor (registration, a
/// wait for writability, deregistration at close: three system calls and a
/// wake-up per connect) is used only when it is still in progress. Either
/// way the outcome is the one tokio's own connect reports: connected, or
/// the socket's pending error (SO_ERROR) with its raw OS code.
pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<Connected, StepOutcome> {
    let started = Instant::now();
    // mio: a non-blocking socket (SOCK_NONBLOCK at creation where the OS
    // has it) and a connect whose "in progress" is not an error, on every
    // OS, without touching the reactor.
    let s = mio::net::TcpStream::connect(addr).map_err(|e| StepOutcome::os_error(0, &e))?;
    if s.peer_addr().is_ok() {
        return Ok(Connected::Idle(s.into()));
    }
    // Not connected (yet): a refused connect has failed already; anything
    // else waits as tokio's connect does (writable, then SO_ERROR).
    match s.take_error() {
        Ok(Some(e)) | Err(e) => return Err(StepOutcome::os_error(0, &e)),
        Ok(None) => {}
    }
    let s = TcpStream::from_std(s.into()).map_err(|e| StepOutcome::os_error(0, &e))?;
    match timeout_at(deadline, s.writable()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(StepOutcome::os_error(0, &e)),
        Err(_) => return Err(StepOutcome::timed_out(0, started.elapsed())),
    }
    match s.take_error() {
        Ok(Some(e)) | Err(e) => Err(StepOutcome::os_error(0, &e)),
        Ok(None) => {
            let _ = s.set_nodelay(true);
            Ok(Connected::Registered(s))
        }
    }
}

/// An [`Connected::Idle`] socket registered with the reactor, TCP_NODELAY
/// on (as every connection of the harness's has before it sends).
pub fn register(s: std::net::TcpStream) -> std::io::Result<TcpStream> {
    let _ = s.set_nodelay(true);
    TcpStream::from_std(s)
}

/// A connect in progress, bounded by `deadline`: the stream, or the OS
/// error or timeout as the step's outcome.
pub(super) async fn finish_connect(
    connecting: impl std::future::Future<Output = std::io::Result<TcpStream>>,
    deadline: Instant,
) -> Result<TcpStream, StepOutcome> {
    let started = Instant::now();
    match timeout_at(deadline, connecting).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(StepOutcome::os_error(0, &e)),
        Err(_) => Err(StepOutcome::timed_out(0, started.elapsed())),
    }
}

pub async fn accept(listener: &TcpListener, deadline: Instant) -> Result<TcpStream, StepOutcome> {
    let started = Instant::now();
    match timeout_at(deadline, listener.accept()).await {
        Ok(Ok((s, _))) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(StepOutcome::os_error(0, &e)),
        Err(_) => Err(StepOutcome::timed_out(0, started.elapsed())),
    }
}

/// Write all of `data`, a chunk at a time from its shared source (no copy
/// per sender), reporting how much went out before an error.
pub async fn send(stream: &mut TcpStream, data: Data<'_>, deadline: Instant) -> StepOutcome {
    let started = Instant::now();
    let mut sent = 0;
    while sent < data.len() {
        match timeout_at(deadline, stream.write(data.chunk(sent, CHUNK))).await {
            Ok(Ok(0)) => {
                return StepOutcome::os_error(sent, &std::io::ErrorKind::WriteZero.into());
            }
            Ok(Ok(n)) => sent += n,
            Ok(Err(e)) => return StepOutcome::os_error(sent, &e),
            Err(_) => return StepOutcome::timed_out(sent, started.elapsed()),
        }
    }
    StepOutcome::Ok { bytes: sent }
}

pub async fn recv(stream: &mut TcpStream, mode: RecvMode, deadline: Instant) -> StepOutcome {
    let started = Instant::now();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut got = 0usize;
    loop {
        let want = match mode {
            RecvMode::Exact(n) => (n - got).min(READ_CHUNK),
            _ => READ_CHUNK,
        };
        if want == 0 {
            return StepOutcome::Ok { bytes: got };
        }
        match timeout_at(deadline, stream.read(&mut buf[..want])).await {
            Ok(Ok(0)) => {
                return StepOutcome::Eof { bytes: got };
            }
            Ok(Ok(n)) => {
                got += n;
                if mode == RecvMode::Any {
                    return StepOutcome::Ok { bytes: got };
                }
            }
            Ok(Err(e)) => return StepOutcome::os_error(got, &e),
            Err(_) => return StepOutcome::timed_out(got, started.elapsed()),
        }
    }
}

/// Wait until a read would not block, without reading: a peek. `Ok` with
/// the bytes queued (up to one chunk; they stay queued), `Eof`, the error
/// a read would return (e.g. a reset), or `Timeout`.
pub async fn wait_readable(stream: &TcpStream, deadline: Instant) -> StepOutcome {
    let started = Instant::now();
    let mut buf = vec![0u8; READ_CHUNK];
    match timeout_at(deadline, stream.peek(&mut buf)).await {
        Ok(Ok(0)) => StepOutcome::Eof { bytes: 0 },
        Ok(Ok(n)) => StepOutcome::Ok { bytes: n },
        Ok(Err(e)) => StepOutcome::os_error(0, &e),
        Err(_) => StepOutcome::timed_out(0, started.elapsed()),
    }
}

pub fn shutdown(sock: SockRef<'_>, how: ShutdownHow) -> StepOutcome {
    let how = match how {
        ShutdownHow::Write => std::net::Shutdown::Write,
        ShutdownHow::Read => std::net::Shutdown::Read,
        ShutdownHow::Both => std::net::Shutdown::Both,
    };
    match sock.shutdown(how) {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        Err(e) => StepOutcome::os_error(0, &e),
    }
}

/// SO_LINGER {on, 0}: when the caller then closes the socket, the kernel
/// discards unsent data and sends RST.
pub fn arm_reset(sock: SockRef<'_>) -> StepOutcome {
    match sock.set_linger(Some(Duration::ZERO)) {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        Err(e) => StepOutcome::os_error(0, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ErrorClass;

    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        (c, s)
    }

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    /// Idle or registered, the connection works once registered (with
    /// TCP_NODELAY on); a closed port is a refusal, by class.
    #[tokio::test]
    async fn connect_gives_a_working_connection_or_the_os_error() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let mut c = match connect(addr, soon(5_000)).await {
            Ok(Connected::Idle(s)) => register(s).unwrap(),
            Ok(Connected::Registered(s)) => s,
            Err(o) => panic!("{o:?}"),
        };
        assert!(c.nodelay().unwrap());
        let (mut s, _) = l.accept().await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        drop(l);
        match connect(addr, soon(5_000)).await {
            Err(StepOutcome::Error { error, .. }) => assert_eq!(error.class, ErrorClass::Refused),
            Err(o) => panic!("{o:?}"),
            Ok(_) => panic!("connected to a closed port"),
        }
    }

    #[tokio::test]
    async fn wait_readable_sees_data_and_leaves_it_queued() {
        let (mut c, mut s) = pair().await;
        s.write_all(b"hello").await.unwrap();
        assert_eq!(
            wait_readable(&c, soon(5_000)).await,
            StepOutcome::Ok { bytes: 5 }
        );
        // Nothing was consumed: a recv still gets all five bytes.
        assert_eq!(
            recv(&mut c, RecvMode::Exact(5), soon(5_000)).await,
            StepOutcome::Ok { bytes: 5 }
        );
    }

    #[tokio::test]
    async fn wait_readable_reports_eof_timeout_and_reset() {
        let (c, s) = pair().await;
        match wait_readable(&c, soon(50)).await {
            StepOutcome::Timeout { bytes: 0, after_ms } => assert!(after_ms >= 40, "{after_ms}"),
            other => panic!("{other:?}"),
        }
        drop(s);
        assert_eq!(
            wait_readable(&c, soon(5_000)).await,
            StepOutcome::Eof { bytes: 0 }
        );
        let (c, s) = pair().await;
        arm_reset(SockRef::from(&s));
        drop(s);
        match wait_readable(&c, soon(5_000)).await {
            StepOutcome::Error { error, .. } => assert_eq!(error.class, ErrorClass::Reset),
            other => panic!("{other:?}"),
        }
    }
}
