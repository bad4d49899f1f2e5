//! The upstream server of forward mode when it is not scripted
//! (`[target] upstream = "echo" | "discard" | "close-on-half-close"`):
//! while the steps run, an acceptor task takes every connection the
//! forwarder opens on the upstream listener and answers each on a task of
//! its own, as the behaviour says (see `UpstreamBehaviour`). Everything is
//! event-driven: a connection acts when its read returns, never on a timer.
//!
//! The listener has one owner at a time. The acceptor stops (and has
//! stopped accepting when [`Played::pause`] returns) before a `probe` step
//! answers on the listener, and starts again after it; [`Played::finish`]
//! stops it for good when the steps end, before the end-of-run probe
//! accepts there. Connections already accepted keep their behaviour after
//! that, as the scripted upstream's do after `Session::release`: each
//! closes when the forwarder's side ends (EOF or error), so whatever the
//! forwarder still holds after the run is its own doing.
//!
//! Bounds: at most [`MAX_CONNS`] connections per run (later ones wait in
//! the listen queue, as with a full scripted upstream), and every
//! connection ends by `until` (the steps' deadline plus the drain limit);
//! the session aborts whatever is left when it drops.

use netrepro_scenario::UpstreamBehaviour;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{timeout, timeout_at, Instant};

/// Connections one run's upstream answers at most.
pub const MAX_CONNS: usize = 1024;
/// Bound on the acceptor noticing its stop signal (it is immediate; this
/// only guards against a harness bug).
const STOP_LIMIT: Duration = Duration::from_secs(1);
/// Read size per connection.
const BUF: usize = 16 * 1024;

/// A running acceptor: its stop signal and the task, which hands back the
/// connections it accepted.
struct Acceptor {
    stop: oneshot::Sender<()>,
    task: JoinHandle<(JoinSet<()>, usize)>,
}

/// The upstream played by a behaviour for one run.
pub(super) struct Played {
    behaviour: UpstreamBehaviour,
    listener: Arc<TcpListener>,
    acceptor: Option<Acceptor>,
    /// Connections from earlier acceptor runs (one per `probe` step).
    conns: Vec<JoinSet<()>>,
    accepted: usize,
    /// Set when the steps end: `discard` connections close at EOF from then on.
    steps_over: watch::Sender<bool>,
    until: Instant,
}

impl Played {
    /// `None` for the scripted upstream (the steps drive it).
    pub(super) fn new(
        behaviour: UpstreamBehaviour,
        listener: Option<Arc<TcpListener>>,
    ) -> Option<Played> {
        let listener = listener.filter(|_| behaviour != UpstreamBehaviour::Scripted)?;
        Some(Played {
            behaviour,
            listener,
            acceptor: None,
            conns: Vec::new(),
            accepted: 0,
            steps_over: watch::channel(false).0,
            until: Instant::now(),
        })
    }

    /// Start (or restart) answering; connections end by `until` at the latest.
    pub(super) fn start(&mut self, until: Instant) {
        if self.acceptor.is_some() || *self.steps_over.borrow() {
            return;
        }
        self.until = until;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(
            Arc::clone(&self.listener),
            self.behaviour,
            self.steps_over.subscribe(),
            until,
            stopped,
            self.accepted,
        ));
        self.acceptor = Some(Acceptor { stop, task });
    }

    /// Stop accepting (a `probe` step is about to answer on the listener);
    /// when this returns nothing of ours accepts there.
    pub(super) async fn pause(&mut self) {
        let Some(a) = self.acceptor.take() else {
            return;
        };
        let _ = a.stop.send(());
        let mut task = a.task;
        match timeout(STOP_LIMIT, &mut task).await {
            Ok(Ok((conns, accepted))) => {
                self.conns.push(conns);
                self.accepted = accepted;
            }
            // A panic, or an acceptor that did not stop: make sure it is gone.
            _ => {
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// The steps ended: stop accepting for good; `discard` connections now
    /// close when the forwarder's side ends.
    pub(super) async fn finish(&mut self) {
        self.pause().await;
        let _ = self.steps_over.send(true);
    }

    /// Start again after [`pause`](Self::pause), with the same bound.
    pub(super) fn resume(&mut self) {
        self.start(self.until);
    }
}

async fn accept_loop(
    listener: Arc<TcpListener>,
    behaviour: UpstreamBehaviour,
    steps_over: watch::Receiver<bool>,
    until: Instant,
    mut stop: oneshot::Receiver<()>,
    mut accepted: usize,
) -> (JoinSet<()>, usize) {
    let mut conns = JoinSet::new();
    let mut failed = false;
    loop {
        tokio::select! {
            // A stop wins over a connection that is ready at the same time:
            // that one is left for whoever accepts next (the probe).
            biased;
            _ = &mut stop => break,
            a = listener.accept(), if accepted < MAX_CONNS && !failed => match a {
                Ok((s, _)) => {
                    accepted += 1;
                    conns.spawn(answer(s, behaviour, steps_over.clone(), until));
                }
                // The harness's own listener failed (say EMFILE): stop
                // accepting rather than spin; the connection waits in the
                // queue and the scenario's steps show what that did.
                Err(_) => failed = true,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    (conns, accepted)
}

/// One connection, as `behaviour` says, ending by `until`.
async fn answer(
    mut s: TcpStream,
    behaviour: UpstreamBehaviour,
    mut steps_over: watch::Receiver<bool>,
    until: Instant,
) {
    let _ = timeout_at(until, async {
        let mut buf = vec![0u8; BUF];
        loop {
            match s.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) if behaviour == UpstreamBehaviour::Echo => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                // Reset or other error: nothing more to answer; close.
                Err(_) => return,
            }
        }
        // The forwarder's side ended with a FIN (a half-close).
        if behaviour == UpstreamBehaviour::Discard {
            // Ignore it while the steps run; close like every upstream after.
            let _ = steps_over.wait_for(|over| *over).await;
        } else {
            let _ = s.shutdown().await;
        }
    })
    .await;
    // Dropping `s` closes it.
}
