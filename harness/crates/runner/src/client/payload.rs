//! Deterministic payload bytes, so a reply can be checked against what was
//! sent. A `bytes = N` payload is never built whole: it is the alphabet
//! repeated from an offset that varies with the actor, so every sender reads
//! it from one shared, immutable pattern in slices. A parallel group of 200
//! members sending 16 MiB each used to allocate 200 x 16 MiB (3.1 GB, issue
//! 11.7); now the pattern is the only buffer, whatever the group size.

use netrepro_scenario::Payload;
use std::sync::OnceLock;

/// Longest slice [`Data::chunk`] returns: a TCP write at a time, and at
/// least the largest UDP datagram (65,535), which must go out in one piece.
pub const CHUNK: usize = 64 * 1024;
const PERIOD: usize = 26;

/// `abc…zabc…` of CHUNK + PERIOD bytes: any slice of the pattern of up to
/// CHUNK bytes starts inside the first PERIOD bytes.
fn pattern() -> &'static [u8] {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| {
        (0..CHUNK + PERIOD)
            .map(|i| b'a' + (i % PERIOD) as u8)
            .collect()
    })
}

/// The bytes of a send step, read in slices.
#[derive(Debug, Clone, Copy)]
pub enum Data<'a> {
    /// `text = "…"` as written.
    Text(&'a [u8]),
    /// `bytes = N`: byte i is `'a' + (i + salt) % 26` (no overflow).
    Pattern { len: usize, salt: u32 },
}

impl<'a> Data<'a> {
    /// The bytes of `payload`; the pattern varies with `salt` so different
    /// actors send different data.
    pub fn of(payload: &'a Payload, salt: u32) -> Data<'a> {
        match payload {
            Payload::Text(t) => Data::Text(t.as_bytes()),
            Payload::Bytes(n) => Data::Pattern { len: *n, salt },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Data::Text(t) => t.len(),
            Data::Pattern { len, .. } => *len,
        }
    }

    /// Up to `max` bytes from `offset` (at most [`CHUNK`] for a pattern;
    /// empty at the end). Borrowed, never copied.
    pub fn chunk(&self, offset: usize, max: usize) -> &'a [u8] {
        match *self {
            Data::Text(t) => {
                let start = offset.min(t.len());
                &t[start..start + max.min(t.len() - start)]
            }
            Data::Pattern { len, salt } => {
                let n = max.min(CHUNK).min(len.saturating_sub(offset));
                let start = (offset + salt as usize % PERIOD) % PERIOD;
                &pattern()[start..start + n]
            }
        }
    }

    /// The whole payload in one slice, for a datagram; `None` if it is
    /// longer than [`CHUNK`] (no datagram is).
    pub fn whole(&self) -> Option<&'a [u8]> {
        let c = self.chunk(0, self.len());
        (c.len() == self.len()).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the pattern means, byte by byte.
    fn reference(n: usize, salt: u32) -> Vec<u8> {
        (0..n)
            .map(|i| b'a' + ((i as u64 + u64::from(salt)) % 26) as u8)
            .collect()
    }

    fn collect(d: Data, step: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < d.len() {
            let c = d.chunk(out.len(), step);
            assert!(!c.is_empty());
            out.extend_from_slice(c);
        }
        out
    }

    #[test]
    fn chunks_spell_the_pattern_for_any_salt_and_chunk_size() {
        let p = Payload::Bytes(3 * CHUNK + 7);
        for salt in [0, 1, 25, 26, 27, u32::MAX] {
            for step in [1, 7, 1000, CHUNK, CHUNK + 1, usize::MAX] {
                if step == 1 && salt > 1 {
                    continue; // byte by byte once is enough
                }
                assert_eq!(
                    collect(Data::of(&p, salt), step),
                    reference(3 * CHUNK + 7, salt)
                );
            }
        }
    }

    #[test]
    fn pattern_has_requested_length_and_depends_on_salt() {
        let a = Data::of(&Payload::Bytes(100), 0).whole().unwrap();
        let b = Data::of(&Payload::Bytes(100), 1).whole().unwrap();
        assert_eq!(a.len(), 100);
        assert_ne!(a, b);
        let t = Payload::Text("hi".into());
        assert_eq!(Data::of(&t, 7).whole().unwrap(), b"hi");
        assert_eq!(
            Data::of(&Payload::Bytes(65_535), 3).whole().unwrap().len(),
            65_535
        );
        assert!(Data::of(&Payload::Bytes(CHUNK + 1), 3).whole().is_none());
        assert!(Data::of(&Payload::Bytes(0), 3).whole().unwrap().is_empty());
    }
}
