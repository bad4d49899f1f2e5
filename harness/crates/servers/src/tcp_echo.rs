//! TCP echo, naive and hardened.

use super::accept::Acceptor;
use super::{log, Fatal};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const BUF: usize = 16 * 1024;

/// What people write: `?` on accept (an error kills the server), one task
/// per connection, `?` on every read/write, no shutdown, no timeouts.
pub async fn naive(listener: TcpListener, delay: Duration) -> Result<(), Fatal> {
    loop {
        let (stream, _) = listener.accept().await.map_err(Fatal::op("accept"))?;
        tokio::spawn(async move {
            if let Err((op, err)) = naive_conn(stream, delay).await {
                log::event(op, &err, false);
            }
        });
    }
}

async fn naive_conn(mut s: TcpStream, delay: Duration) -> Result<(), (&'static str, io::Error)> {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = s.read(&mut buf).await.map_err(|e| ("recv", e))?;
        if n == 0 {
            return Ok(());
        }
        super::reply_delay(delay).await;
        s.write_all(&buf[..n]).await.map_err(|e| ("send", e))?;
    }
}

/// Accept errors tolerated, connection limit, idle timeout, errors
/// contained per connection, graceful shutdown(write) after echoing all.
pub async fn hardened(
    listener: TcpListener,
    max_conns: usize,
    idle: Duration,
    delay: Duration,
) -> Result<(), Fatal> {
    let mut acceptor = Acceptor::new(listener, max_conns);
    loop {
        let (stream, _, permit) = acceptor.next().await;
        tokio::spawn(async move {
            hardened_conn(stream, idle, delay).await;
            drop(permit);
        });
    }
}

async fn hardened_conn(mut s: TcpStream, idle: Duration, delay: Duration) {
    if let Err(err) = s.set_nodelay(true) {
        log::event("setsockopt", &err, false);
    }
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match timeout(idle, s.read(&mut buf)).await {
            Err(_) => return, // idle: close
            Ok(Err(err)) => {
                log::event("recv", &err, false);
                return;
            }
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
        };
        super::reply_delay(delay).await;
        match timeout(idle, s.write_all(&buf[..n])).await {
            Err(_) => return,
            Ok(Err(err)) => {
                log::event("send", &err, false);
                return;
            }
            Ok(Ok(())) => {}
        }
    }
    // EOF: everything was echoed; send our FIN, then close.
    if let Ok(Err(err)) = timeout(idle, s.shutdown()).await {
        log::event("shutdown", &err, false);
    }
}
