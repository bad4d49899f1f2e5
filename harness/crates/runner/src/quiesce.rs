//! Forward mode with `{port}`: netrepro's readiness connects reach the
//! forwarder, which relays them to netrepro's own upstream listener. Left
//! alone, the scenario's first `upstream accept` would take that stale
//! relayed connection instead of the scenario's own, and the baseline
//! resource sample would catch the forwarder tearing it down.
//!
//! [`drain_readiness`] finishes every readiness connection before the
//! scenario starts: it sends a marker and a FIN on each (so even a forwarder
//! that connects upstream only when data arrives relays it), accepts the
//! relayed connections on the upstream listener until every marker arrived,
//! reads each to EOF and closes it, and waits (bounded) for the forwarder to
//! close the client side too. [`wait_quiet`] then waits until the target's
//! resource counts stop changing, so the baseline is taken on a quiet target.
//! In echo mode [`close_readiness`] does the same for the readiness
//! connections made to the target itself.

use netrepro_observe::ResourceSample;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{timeout_at, Instant};

/// What netrepro writes on a readiness connection before its FIN.
pub const MARKER: &[u8] = b"netrepro-readiness-check\n";
/// How long the forwarder may take to relay the readiness connections.
pub const RELAY_LIMIT: Duration = Duration::from_secs(3);
/// How long the forwarder may keep the client side open after the relayed
/// connection ended both ways (a forwarder that never closes it is not
/// waited for longer: netrepro closes its side and moves on).
const CLIENT_CLOSE_LIMIT: Duration = Duration::from_millis(500);
/// Resource polling while waiting for a quiet target.
const QUIET_POLL: Duration = Duration::from_millis(20);
/// Bound on waiting for the resource counts to stop changing.
pub const QUIET_LIMIT: Duration = Duration::from_secs(1);
/// Largest amount read from one relayed readiness connection.
const MAX_DRAIN: usize = 64 * 1024;

/// The forwarder did not relay every readiness connection to the upstream
/// listener in time: the user's forwarder, not the harness.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the forwarder did not relay netrepro's readiness connection to the upstream {upstream} within {limit:?} ({accepted} connection(s) accepted, {markers} of {want} readiness marker(s) arrived)")]
pub struct NotRelayed {
    /// The upstream listener's address ("listener" if it cannot tell).
    pub upstream: String,
    pub limit: Duration,
    /// Relayed connections accepted on the upstream listener.
    pub accepted: usize,
    /// Readiness markers that arrived over them.
    pub markers: usize,
    /// Readiness connections that were made.
    pub want: usize,
}

/// Read `s` to EOF (or error, or `deadline`); returns the bytes read (at
/// most [`MAX_DRAIN`]) and whether EOF or an error ended it.
async fn read_to_end(s: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => {
                if got.len() < MAX_DRAIN {
                    got.extend_from_slice(&buf[..n]);
                }
            }
            Err(_) => return (got, false),
        }
    }
}

/// Finish the readiness connections `held` (client side, connected to the
/// forwarder) and whatever the forwarder relayed of them to `upstream`.
/// Every relayed connection is accepted, drained and closed before this
/// returns. The error is the user's: the forwarder did not relay a
/// readiness connection within [`RELAY_LIMIT`].
pub async fn drain_readiness(
    held: Vec<TcpStream>,
    upstream: &TcpListener,
) -> Result<(), NotRelayed> {
    if held.is_empty() {
        return Ok(());
    }
    let deadline = Instant::now() + RELAY_LIMIT;
    let want = held.len();
    let mut clients = JoinSet::new();
    for mut s in held {
        clients.spawn(async move {
            // A forwarder that already closed it makes these fail: fine,
            // then nothing was relayed for it either (or it was, and ends).
            let _ = s.write_all(MARKER).await;
            let _ = s.shutdown().await;
            s
        });
    }
    let mut held = Vec::new();
    while let Some(Ok(s)) = clients.join_next().await {
        held.push(s);
    }

    // Accept relayed connections until every marker has arrived.
    let mut relayed = JoinSet::new();
    let mut markers = 0usize;
    let mut accepted = 0usize;
    while markers < want {
        tokio::select! {
            a = timeout_at(deadline, upstream.accept()) => match a {
                Ok(Ok((mut s, _))) => {
                    accepted += 1;
                    relayed.spawn(async move {
                        let (data, _) = read_to_end(&mut s, deadline).await;
                        data.windows(MARKER.len()).filter(|w| *w == MARKER).count()
                    });
                }
                // An accept error or the deadline: stop waiting for more.
                _ => break,
            },
            Some(done) = relayed.join_next(), if !relayed.is_empty() => {
                markers += done.unwrap_or(0);
            }
        }
    }
    // The connections still reading end at EOF or at the deadline.
    while let Some(done) = relayed.join_next().await {
        markers += done.unwrap_or(0);
    }

    // The forwarder now closes the client side (bounded; then we do).
    let until = (Instant::now() + CLIENT_CLOSE_LIMIT).min(deadline);
    await_peer_close(held, until, false).await;

    if markers < want {
        return Err(NotRelayed {
            upstream: upstream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "listener".into()),
            limit: RELAY_LIMIT,
            accepted,
            markers,
            want,
        });
    }
    Ok(())
}

/// Echo mode: finish the readiness connections `held` (connected to the
/// target itself): a FIN on each, then wait (bounded by
/// [`CLIENT_CLOSE_LIMIT`]) until the target closes its side, so the baseline
/// sample is not taken while it still holds a readiness connection it is
/// about to close (a thread-per-connection server that has not yet seen the
/// EOF would make one leaked socket look like none).
pub async fn close_readiness(held: Vec<TcpStream>) {
    await_peer_close(held, Instant::now() + CLIENT_CLOSE_LIMIT, true).await;
}

/// Wait until the peer of each of `held` has closed (EOF or error) or
/// `until`, after sending a FIN of ours on each when `fin_first`; then
/// every stream is dropped (closed).
async fn await_peer_close(held: Vec<TcpStream>, until: Instant, fin_first: bool) {
    let mut closing = JoinSet::new();
    for mut s in held {
        closing.spawn(async move {
            if fin_first {
                let _ = s.shutdown().await;
            }
            let _ = read_to_end(&mut s, until).await;
        });
    }
    while closing.join_next().await.is_some() {}
}

fn same_counts(a: &ResourceSample, b: &ResourceSample) -> bool {
    a.fds == b.fds && a.close_wait == b.close_wait
}

/// Wait until two consecutive resource samples (from `sample`) agree
/// (bounded by [`QUIET_LIMIT`]), so a baseline is not taken while the target
/// is still closing connections. Returns at once where nothing can be sampled.
pub async fn wait_quiet(sample: impl Fn() -> ResourceSample) {
    let deadline = Instant::now() + QUIET_LIMIT;
    let mut last = sample();
    if last.fds.is_none() && last.close_wait.is_none() {
        return;
    }
    while Instant::now() < deadline {
        tokio::time::sleep(QUIET_POLL).await;
        let now = sample();
        if same_counts(&last, &now) {
            return;
        }
        last = now;
    }
}
