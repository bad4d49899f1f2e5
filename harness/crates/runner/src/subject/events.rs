//! The server events of one target, aggregated: an event identical to an
//! earlier one (same op, code, name, class, fatal flag and source) only
//! raises that one's `count` and `last_t_ms`, so what is kept grows with the
//! number of *distinct* events, not with how many the target printed. At
//! most [`MAX_DISTINCT_EVENTS`] are kept; later new ones are counted as
//! dropped. Each kept string is cut to [`MAX_EVENT_FIELD_BYTES`], so a target
//! flooding huge or ever-different events stays bounded too.

use netrepro_observe::{EventSource, ServerEvent};
use netrepro_sys::errors::ErrorClass;
use std::collections::HashMap;

/// Distinct events kept per target.
pub const MAX_DISTINCT_EVENTS: usize = 256;
/// Longest `op` / `name` kept (bytes); longer ones are cut and end in `…`.
pub const MAX_EVENT_FIELD_BYTES: usize = 128;
/// Longest `text` kept for an event read from text.
pub const MAX_EVENT_TEXT_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    op: String,
    raw: Option<i32>,
    name: String,
    class: ErrorClass,
    fatal: bool,
    source: EventSource,
}

/// Aggregated events in order of first appearance, plus the counts the
/// report states.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    events: Vec<ServerEvent>,
    index: HashMap<Key, usize>,
    pub(crate) read: u64,
    pub(crate) merged: u64,
    pub(crate) dropped: u64,
}

impl EventLog {
    pub(crate) fn push(&mut self, mut ev: ServerEvent) {
        self.read += 1;
        ev.op = cut(&ev.op, MAX_EVENT_FIELD_BYTES);
        ev.name = cut(&ev.name, MAX_EVENT_FIELD_BYTES);
        ev.text = ev.text.map(|t| cut(&t, MAX_EVENT_TEXT_BYTES));
        let key = Key {
            op: ev.op.clone(),
            raw: ev.raw,
            name: ev.name.clone(),
            class: ev.class,
            fatal: ev.fatal,
            source: ev.source,
        };
        if let Some(&i) = self.index.get(&key) {
            let kept = &mut self.events[i];
            kept.count = kept.count.saturating_add(ev.count.max(1));
            kept.last_t_ms = Some(kept.last_t_ms.unwrap_or(kept.t_ms).max(ev.t_ms));
            self.merged += 1;
            return;
        }
        if self.events.len() >= MAX_DISTINCT_EVENTS {
            self.dropped += 1;
            return;
        }
        ev.count = ev.count.max(1);
        self.index.insert(key, self.events.len());
        self.events.push(ev);
    }

    pub(crate) fn to_vec(&self) -> Vec<ServerEvent> {
        self.events.clone()
    }

    /// The newest `n` distinct events.
    pub(crate) fn tail(&self, n: usize) -> &[ServerEvent] {
        &self.events[self.events.len().saturating_sub(n)..]
    }
}

/// `s` cut to at most `max` bytes at a character boundary, `…` marking a cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_sys::errors::ObservedError;

    fn ev(name: &str, t: u64) -> ServerEvent {
        ServerEvent::new(
            "recv",
            &ObservedError {
                raw: Some(104),
                name: name.into(),
                class: ErrorClass::Reset,
            },
            false,
            t,
        )
    }

    #[test]
    fn repeats_merge_with_count_and_last_time() {
        let mut log = EventLog::default();
        for t in 0..1000 {
            log.push(ev("ECONNRESET", t));
        }
        log.push(ev("EPIPE", 5));
        let v = log.to_vec();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].count, 1000);
        assert_eq!(v[0].t_ms, 0);
        assert_eq!(v[0].last_t_ms, Some(999));
        assert_eq!(v[1].count, 1);
        assert_eq!(v[1].last_t_ms, None);
        assert_eq!((log.read, log.merged, log.dropped), (1001, 999, 0));
    }

    #[test]
    fn distinct_events_are_capped_and_counted() {
        let mut log = EventLog::default();
        for i in 0..MAX_DISTINCT_EVENTS + 10 {
            log.push(ev(&format!("E{i}"), 0));
        }
        assert_eq!(log.to_vec().len(), MAX_DISTINCT_EVENTS);
        assert_eq!(log.dropped, 10);
        // A repeat of a kept one still merges.
        log.push(ev("E0", 1));
        assert_eq!(log.to_vec()[0].count, 2);
        assert_eq!(log.tail(1)[0].name, format!("E{}", MAX_DISTINCT_EVENTS - 1));
    }

    #[test]
    fn long_fields_are_cut_on_a_char_boundary() {
        let mut log = EventLog::default();
        log.push(ev(&"é".repeat(40_000), 0));
        let n = &log.to_vec()[0].name;
        assert!(n.len() <= MAX_EVENT_FIELD_BYTES, "{}", n.len());
        assert!(n.ends_with('…'));
        assert_eq!(cut("short", 10), "short");
    }
}
