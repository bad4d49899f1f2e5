//! TCP operations of one actor on a real socket. Every call is bounded by
//! the deadline it is given; outcomes carry raw OS errors.

use super::payload::{Data, CHUNK};
use netrepro_observe::StepOutcome;
use netrepro_scenario::{RecvMode, ShutdownHow};
use netrepro_sys::errors;
use socket2::SockRef;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout_at, Instant};

const READ_CHUNK: usize = 64 * 1024;

fn timeout_outcome(bytes: usize, started: Instant) -> StepOutcome {
    StepOutcome::Timeout {
        bytes,
        after_ms: started.elapsed().as_millis() as u64,
    }
}

fn error_outcome(bytes: usize, e: &std::io::Error) -> StepOutcome {
    StepOutcome::Error {
        bytes,
        error: errors::observe(e),
    }
}

pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, StepOutcome> {
    let started = Instant::now();
    match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(error_outcome(0, &e)),
        Err(_) => Err(timeout_outcome(0, started)),
    }
}

pub async fn accept(listener: &TcpListener, deadline: Instant) -> Result<TcpStream, StepOutcome> {
    let started = Instant::now();
    match timeout_at(deadline, listener.accept()).await {
        Ok(Ok((s, _))) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(error_outcome(0, &e)),
        Err(_) => Err(timeout_outcome(0, started)),
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
                return error_outcome(sent, &std::io::ErrorKind::WriteZero.into());
            }
            Ok(Ok(n)) => sent += n,
            Ok(Err(e)) => return error_outcome(sent, &e),
            Err(_) => return timeout_outcome(sent, started),
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
            Ok(Err(e)) => return error_outcome(got, &e),
            Err(_) => return timeout_outcome(got, started),
        }
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
        Err(e) => error_outcome(0, &e),
    }
}

/// SO_LINGER {on, 0} then close: the kernel discards unsent data and sends RST.
pub fn abort(stream: TcpStream) -> StepOutcome {
    let outcome = match SockRef::from(&stream).set_linger(Some(Duration::ZERO)) {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        Err(e) => error_outcome(0, &e),
    };
    drop(stream);
    outcome
}
