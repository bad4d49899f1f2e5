//! SIGINT, SIGTERM, SIGHUP through tokio's signal streams.

use tokio::signal::unix::{signal, Signal, SignalKind};

pub(super) struct Signals(Vec<(Signal, u8)>);

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        Ok(Signals(vec![
            (signal(SignalKind::interrupt())?, 128 + libc::SIGINT as u8),
            (signal(SignalKind::terminate())?, 128 + libc::SIGTERM as u8),
            (signal(SignalKind::hangup())?, 128 + libc::SIGHUP as u8),
        ]))
    }

    /// The exit code for the first signal that arrives.
    pub(super) async fn next(&mut self) -> u8 {
        let [(a, ca), (b, cb), (c, cc)] = &mut self.0[..] else {
            return 130;
        };
        tokio::select! {
            _ = a.recv() => *ca,
            _ = b.recv() => *cb,
            _ = c.recv() => *cc,
        }
    }
}
