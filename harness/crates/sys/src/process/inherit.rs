//! A socket the harness closes must be closed *now*, not when some other
//! process lets go of it.
//!
//! On Unix a child gets a copy of every descriptor of the harness at fork
//! and drops the close-on-exec ones only at exec. The harness runs many
//! scenarios at once, each spawning its server, so a client socket that a
//! step closes can still be open in a child that is between fork and exec:
//! the close then sends nothing (no FIN, no RST) and a UDP port stays bound
//! until that child execs. Seen (issue 16): a vanished UDP client whose
//! port still received the server's reply, so the ICMP port unreachable
//! the scenario is about never happened (5 of 300 runs at 32 jobs beside
//! the catalog; proven with an ICMP capture).
//!
//! So spawns and closes exclude each other: a spawn ([`spawning`]) holds
//! the gate shared until `Command::spawn` returns (which is after exec, or
//! after a failed one), and a step's close ([`close`]) takes it exclusively
//! for the moment of the close. Windows needs none of this (std creates
//! sockets and handles non-inheritable), but the gate costs nothing there.

use std::sync::RwLock;

static GATE: RwLock<()> = RwLock::new(());

/// Run `spawn`, a call that returns once the child has exec'ed (or failed
/// to), while no [`close`] is in progress.
pub fn spawning<T>(spawn: impl FnOnce() -> T) -> T {
    let _shared = GATE.read().unwrap_or_else(|e| e.into_inner());
    spawn()
}

/// Drop `what` (a socket) when no child is between fork and exec, so the
/// close takes effect at once. Blocks for at most the spawns in progress.
pub fn close<T>(what: T) {
    let _only = GATE.write().unwrap_or_else(|e| e.into_inner());
    drop(what);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    /// Records, when dropped, whether the spawn had finished by then.
    struct Sock(Arc<AtomicBool>, mpsc::Sender<bool>);
    impl Drop for Sock {
        fn drop(&mut self) {
            let _ = self.1.send(self.0.load(SeqCst));
        }
    }

    /// A close waits for a spawn in progress: while the spawn is inside,
    /// the close does not happen (checked for 200 ms); released, the close
    /// happens after the spawn finished.
    #[test]
    fn a_close_waits_for_the_spawn_in_progress() {
        let (inside, entered) = mpsc::channel();
        let (release, go) = mpsc::channel::<()>();
        let spawn_done = Arc::new(AtomicBool::new(false));
        let done = spawn_done.clone();
        let spawner = std::thread::spawn(move || {
            spawning(|| {
                inside.send(()).unwrap();
                go.recv().unwrap();
                done.store(true, SeqCst);
            })
        });
        entered.recv().unwrap();
        let (closed_tx, closed) = mpsc::channel();
        let sock = Sock(spawn_done.clone(), closed_tx);
        let closer = std::thread::spawn(move || close(sock));
        assert!(
            closed.recv_timeout(Duration::from_millis(200)).is_err(),
            "closed while a spawn was between fork and exec"
        );
        release.send(()).unwrap();
        assert_eq!(closed.recv_timeout(Duration::from_secs(10)), Ok(true));
        spawner.join().unwrap();
        closer.join().unwrap();
    }
}
