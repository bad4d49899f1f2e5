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

pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, StepOutcome> {
    let s = finish_connect(TcpStream::connect(addr), deadline).await?;
    let _ = s.set_nodelay(true);
    Ok(s)
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

pub fn shutdown(stream: &TcpStream, how: ShutdownHow) -> StepOutcome {
    let how = match how {
        ShutdownHow::Write => std::net::Shutdown::Write,
        ShutdownHow::Read => std::net::Shutdown::Read,
        ShutdownHow::Both => std::net::Shutdown::Both,
    };
    match SockRef::from(stream).shutdown(how) {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        Err(e) => StepOutcome::os_error(0, &e),
    }
}

/// SO_LINGER {on, 0} then close: the kernel discards unsent data and sends RST.
pub fn abort(stream: TcpStream) -> StepOutcome {
    let outcome = match SockRef::from(&stream).set_linger(Some(Duration::ZERO)) {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        Err(e) => StepOutcome::os_error(0, &e),
    };
    // The RST goes out now, not when another run's spawn execs.
    netrepro_sys::process::inherit::close(stream);
    outcome
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
        abort(s);
        match wait_readable(&c, soon(5_000)).await {
            StepOutcome::Error { error, .. } => assert_eq!(error.class, ErrorClass::Reset),
            other => panic!("{other:?}"),
        }
    }
}
