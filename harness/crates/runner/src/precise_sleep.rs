//! Sleeping for a measurement window to within a fraction of a
//! millisecond. tokio's timer ticks in whole milliseconds and rounds a
//! deadline up to the next tick, and the reactor's wait rounds its timeout
//! up again: the busy check's 5 ms first window ended 6.7 ms after it
//! began on average (`bench overhead`, 20 results), most of a millisecond
//! and a half of every result spent past what the window needs. A thread
//! of the blocking pool sleeps the time itself (nanosleep); the task waits
//! for it as for any blocking task. Never shorter than asked: both sleeps
//! only ever end late.

use std::time::Duration;
use tokio::time::Instant;

/// Wait until `deadline` (at once if it has passed). Falls back to the
/// runtime's timer if the blocking pool cannot take the sleep (the runtime
/// is shutting down).
pub async fn until(deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return;
    }
    if tokio::task::spawn_blocking(move || std::thread::sleep(left))
        .await
        .is_err()
    {
        tokio::time::sleep_until(deadline).await;
    }
}

/// Wait for `d` (see [`until`]).
pub async fn sleep(d: Duration) {
    until(Instant::now() + d).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_ends_early() {
        for ms in [0u64, 1, 2, 5] {
            let d = Duration::from_millis(ms);
            let t = Instant::now();
            sleep(d).await;
            assert!(t.elapsed() >= d, "{ms} ms: {:?}", t.elapsed());
        }
        let past = Instant::now();
        until(past).await;
    }
}
