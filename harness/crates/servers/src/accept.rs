//! Hardened listen and accept: a listen queue as long as the kernel allows
//! (`bind`), a connection slot before each accept (so the process never
//! runs out of descriptors); accept errors are logged and tolerated.

use super::log::{self, RepeatLimiter};
use super::sockopt;
use netrepro_sys::errors::ErrorClass;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pause after an accept error that is not about one aborted connection
/// (EMFILE, ENFILE, ENOBUFS, ENOMEM ...), as tokio's `accept` docs advise.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Bind a TCP listener whose backlog is the kernel's maximum
/// (`sockopt::max_listen_backlog`, what Go and nginx ask for) instead of
/// the 128 that std and tokio use: a storm of connections that abort at
/// once must not overflow the queue, or every SYN dropped meanwhile costs a
/// legitimate client a 1 s retransmit (RFC 6298 initial RTO).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sockopt::set_fast_rebind(&sock)?;
    sock.bind(&addr.into())?;
    sock.listen(sockopt::max_listen_backlog())?;
    sock.set_nonblocking(true)?;
    TcpListener::from_std(sock.into())
}

pub struct Acceptor {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    repeats: RepeatLimiter,
}

impl Acceptor {
    pub fn new(listener: TcpListener, max_conns: usize) -> Self {
        Acceptor {
            listener,
            slots: Arc::new(Semaphore::new(max_conns)),
            repeats: RepeatLimiter::new(100, 1000),
        }
    }

    /// Next connection, with the slot it occupies (release = drop the permit).
    pub async fn next(&mut self) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
        loop {
            let permit = Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .expect("connection semaphore is never closed");
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.repeats.reset();
                    return (stream, peer, permit);
                }
                Err(err) => {
                    let class = netrepro_sys::errors::observe(&err).class;
                    if self.repeats.should_log(&err) {
                        log::event("accept", &err, false);
                    }
                    drop(permit);
                    // One dead connection (aborted or reset before we took
                    // it; Wine reports that as WSAENOTCONN 10057): take the
                    // next one at once. A back-off here would let a storm
                    // of aborts starve every live client.
                    let per_connection = matches!(
                        class,
                        ErrorClass::Aborted
                            | ErrorClass::Reset
                            | ErrorClass::NotConnected
                            | ErrorClass::Interrupted
                            | ErrorClass::WouldBlock
                    );
                    if !per_connection {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                }
            }
        }
    }
}
