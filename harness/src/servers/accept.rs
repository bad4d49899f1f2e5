//! Hardened accept: a connection slot first (so the process never runs out
//! of descriptors), then accept; accept errors are logged and tolerated.

use super::log::{self, RepeatLimiter};
use crate::errors::ErrorClass;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pause after an accept error that is not about one aborted connection
/// (EMFILE, ENFILE, ENOBUFS, ENOMEM ...), as tokio's `accept` docs advise.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

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
                    let class = crate::errors::observe(&err).class;
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
