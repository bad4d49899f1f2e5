//! The sequential naive TCP servers (`--impl naive-seq`): blocking std
//! sockets, one accept loop serving one connection at a time, `?` on every
//! socket call up to `main`.
//!
//! Modelled on the single-threaded web server of The Rust Programming
//! Language ("Building a Single-Threaded Web Server": chapter 20.1 up to
//! the 2021 edition, <https://doc.rust-lang.org/1.80.0/book/ch20-01-single-threaded.html>;
//! chapter 21.1 since the 2024 edition): `for
//! stream in listener.incoming() { let stream = stream.unwrap();
//! handle_connection(stream); }` with `unwrap()` on every read and write.
//! Python's `socketserver.TCPServer` (sequential, `request_queue_size = 5`,
//! <https://docs.python.org/3/library/socketserver.html>) has the same shape.
//! What follows from that shape, and what the scenarios show:
//! - one connection's ECONNRESET or EPIPE ends the whole process;
//! - one idle client blocks every other (they wait in the listen queue);
//! - the listen backlog is std's default, 128 (`TcpListener::bind`
//!   calls `listen(128)`: library/std/src/sys/net/connection/socket/mod.rs,
//!   <https://github.com/rust-lang/rust/blob/0028f344ce9f64766259577c998a1959ca1f6a0b/library/std/src/sys/net/connection/socket/mod.rs#L559-L571>;
//!   mio, under tokio's `TcpListener::bind`, copies that value).

use super::{log, Fatal};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

const BUF: usize = 16 * 1024;

/// Bind with std's defaults (backlog 128) and announce readiness.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, Fatal> {
    let listener = TcpListener::bind(addr).map_err(Fatal::op("bind"))?;
    log::listening(listener.local_addr().map_err(Fatal::op("bind"))?);
    Ok(listener)
}

/// Echo: read, (delay), write everything back, until EOF; then the next
/// connection. Any error is fatal.
pub fn echo(listener: TcpListener, delay: Duration) -> Result<(), Fatal> {
    for stream in listener.incoming() {
        let mut stream = stream.map_err(Fatal::op("accept"))?;
        let mut buf = vec![0u8; BUF];
        loop {
            let n = stream.read(&mut buf).map_err(Fatal::op("recv"))?;
            if n == 0 {
                break;
            }
            if !delay.is_zero() {
                thread::sleep(delay);
            }
            stream.write_all(&buf[..n]).map_err(Fatal::op("send"))?;
        }
    }
    Ok(())
}

/// Forwarder written the same way: per client, connect upstream, copy
/// client->upstream on a helper thread whose result nobody looks at, copy
/// upstream->client on the main thread with `?`, then take the next client.
/// An upstream reset ends the process; an idle client blocks the others.
pub fn forward(listener: TcpListener, upstream: SocketAddr) -> Result<(), Fatal> {
    for client in listener.incoming() {
        let client = client.map_err(Fatal::op("accept"))?;
        let up = TcpStream::connect(upstream).map_err(Fatal::op("connect_upstream"))?;
        let mut client_r = client.try_clone().map_err(Fatal::op("dup"))?;
        let mut up_w = up.try_clone().map_err(Fatal::op("dup"))?;
        // The helper's clones keep both sockets open after the main copy
        // returns, exactly like the code it models.
        thread::spawn(move || io::copy(&mut client_r, &mut up_w));
        copy(&up, &client)?;
    }
    Ok(())
}

/// `io::copy` with the failing side named (recv from upstream, send to client).
fn copy(mut from: &TcpStream, mut to: &TcpStream) -> Result<(), Fatal> {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = from.read(&mut buf).map_err(Fatal::op("recv"))?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n]).map_err(Fatal::op("send"))?;
    }
}
