//! Deterministic payload bytes, so a reply can be checked against what was sent.

use crate::scenario::Payload;

/// The bytes of `payload`; `Bytes(n)` is a repeating pattern that varies with
/// `salt` so different actors send different data.
pub fn bytes(payload: &Payload, salt: u32) -> Vec<u8> {
    match payload {
        Payload::Text(t) => t.as_bytes().to_vec(),
        Payload::Bytes(n) => (0..*n)
            .map(|i| b'a' + ((i as u32 + salt) % 26) as u8)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_has_requested_length_and_depends_on_salt() {
        let a = bytes(&Payload::Bytes(100), 0);
        let b = bytes(&Payload::Bytes(100), 1);
        assert_eq!(a.len(), 100);
        assert_ne!(a, b);
        assert_eq!(bytes(&Payload::Text("hi".into()), 7), b"hi");
    }
}
