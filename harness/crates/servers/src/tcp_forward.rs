//! TCP port forwarder, modelled on Natter's ForwardSocket: naive (two
//! independent copy tasks that forget each other) and hardened (one task per
//! connection; a FIN propagated as a FIN (half-close), an abort or any other
//! error as an abort (RST) on both sides; idle and write timeouts).

use super::accept::Acceptor;
use super::{log, Fatal};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BUF: usize = 16 * 1024;

/// What people write, modelled on Natter's ForwardSocket: connect upstream,
/// then one task per direction, both sharing the two sockets (Natter's two
/// threads share them the same way). A task that ends (EOF or error) drops
/// its references and returns; it neither shuts down the other direction nor
/// tells its sibling, which stays blocked on its read and keeps both sockets
/// open until its own peer sends or closes. No FIN reaches anyone: the leak
/// (and the CLOSE_WAIT when a peer did close) is the forwarder's.
pub async fn naive(listener: TcpListener, upstream: SocketAddr) -> Result<(), Fatal> {
    loop {
        let (client, _) = listener.accept().await.map_err(Fatal::op("accept"))?;
        tokio::spawn(async move {
            let up = match TcpStream::connect(upstream).await {
                Ok(up) => up,
                Err(err) => {
                    log::event("connect_upstream", &err, false);
                    return;
                }
            };
            let (client, up) = (Arc::new(client), Arc::new(up));
            tokio::spawn(naive_copy(client.clone(), up.clone()));
            tokio::spawn(naive_copy(up, client));
        });
    }
}

async fn naive_copy(from: Arc<TcpStream>, to: Arc<TcpStream>) {
    let mut buf = vec![0u8; BUF];
    let result: Result<(), (&str, io::Error)> = async {
        loop {
            from.readable().await.map_err(|e| ("recv", e))?;
            let n = match from.try_read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(("recv", e)),
            };
            let mut sent = 0;
            while sent < n {
                to.writable().await.map_err(|e| ("send", e))?;
                match to.try_write(&buf[sent..n]) {
                    Ok(m) => sent += m,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(("send", e)),
                }
            }
        }
    }
    .await;
    if let Err((op, err)) = result {
        log::event(op, &err, false);
    }
}

pub async fn hardened(
    listener: TcpListener,
    upstream: SocketAddr,
    max_conns: usize,
    idle: Duration,
) -> Result<(), Fatal> {
    let mut acceptor = Acceptor::new(listener, max_conns);
    loop {
        let (client, _, permit) = acceptor.next().await;
        tokio::spawn(async move {
            hardened_conn(client, upstream, idle).await;
            drop(permit);
        });
    }
}

async fn hardened_conn(mut client: TcpStream, upstream: SocketAddr, idle: Duration) {
    let connect = tokio::time::timeout(idle, TcpStream::connect(upstream)).await;
    let mut up = match connect {
        Ok(Ok(up)) => up,
        Ok(Err(err)) => {
            log::event("connect_upstream", &err, false);
            return;
        }
        Err(_) => return,
    };
    for s in [&client, &up] {
        if let Err(err) = s.set_nodelay(true) {
            log::event("setsockopt", &err, false);
        }
    }
    let idle = Idle::new(idle);
    let (mut cr, mut cw) = client.split();
    let (mut ur, mut uw) = up.split();
    // Each direction runs until EOF (then half-closes the other side) or
    // until it fails; the first failure ends both.
    let result = tokio::try_join!(pipe(&mut cr, &mut uw, &idle), pipe(&mut ur, &mut cw, &idle));
    if let Err(Stop::Io(op, err)) = result {
        log::event(op, &err, false);
        // A broken stream ends as an abort on both sides, never as a FIN: a
        // client whose reply was cut off by an upstream reset must not read
        // a clean EOF and take the truncated reply for a complete one.
        for s in [&client, &up] {
            abort_on_close(s);
        }
    }
    // Both sockets are closed here, whichever way it ended.
}

/// SO_LINGER 0: the close that follows sends RST instead of FIN
/// (RFC 9293 3.6 "abort"; <https://man7.org/linux/man-pages/man7/socket.7.html>
/// SO_LINGER; Winsock: "hard close", learn.microsoft.com closesocket).
fn abort_on_close(s: &TcpStream) {
    if let Err(err) = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO)) {
        log::event("setsockopt", &err, false);
    }
}

/// Why a direction stopped early.
enum Stop {
    /// No traffic in either direction for the idle timeout.
    Idle,
    Io(&'static str, io::Error),
}

fn io_stop(op: &'static str) -> impl FnOnce(io::Error) -> Stop {
    move |err| Stop::Io(op, err)
}

async fn pipe<R, W>(from: &mut R, to: &mut W, idle: &Idle) -> Result<(), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUF];
    loop {
        let n = idle
            .bound(from.read(&mut buf))
            .await?
            .map_err(io_stop("recv"))?;
        if n == 0 {
            // Propagate the half-close and let the other direction finish.
            return idle
                .bound(to.shutdown())
                .await?
                .map_err(io_stop("shutdown"));
        }
        idle.bound(to.write_all(&buf[..n]))
            .await?
            .map_err(io_stop("send"))?;
    }
}

/// Idle timer shared by both directions of one connection: it only fires
/// when neither direction made progress for `limit`.
struct Idle {
    base: Instant,
    last_ms: AtomicU64,
    limit: Duration,
}

impl Idle {
    fn new(limit: Duration) -> Self {
        Idle {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
            limit,
        }
    }

    fn touch(&self) {
        let now = self.base.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(now, Ordering::Relaxed);
    }

    fn remaining(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        (last + self.limit).saturating_sub(self.base.elapsed())
    }

    /// Run `fut` to completion unless the connection goes idle first.
    async fn bound<T>(&self, fut: impl Future<Output = T>) -> Result<T, Stop> {
        tokio::pin!(fut);
        loop {
            let remaining = self.remaining();
            if remaining.is_zero() {
                return Err(Stop::Idle);
            }
            if let Ok(out) = tokio::time::timeout(remaining, &mut fut).await {
                self.touch();
                return Ok(out);
            }
        }
    }
}
