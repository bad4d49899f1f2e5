//! What every validation module shares: the error before it is located
//! ([`VErr`], a byte span and what is wrong) and the checks used in more
//! than one section (number ranges, identifiers).

use super::raw::S;
use std::ops::Range;

/// A validation error before it is located: byte span + message.
pub(super) struct VErr {
    pub span: Range<usize>,
    pub message: String,
}

pub(super) type VResult<T> = Result<T, VErr>;

pub(super) fn verr<T>(span: Range<usize>, message: impl Into<String>) -> VResult<T> {
    Err(VErr {
        span,
        message: message.into(),
    })
}

/// Actor names and step ids: lowercase letters, digits, '-' and '_'.
pub(super) fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `what` is already quoted as needed, e.g. `"\"ms\""`.
/// An optional numeric target option: absent, not allowed here (`refused`
/// says why, at the value), or checked against `min..=max`.
pub(super) fn opt_range(
    v: &Option<S<u64>>,
    what: &str,
    min: u64,
    max: u64,
    refused: Option<&str>,
) -> VResult<Option<u64>> {
    match (v, refused) {
        (None, _) => Ok(None),
        (Some(v), Some(why)) => verr(v.span(), why),
        (Some(v), None) => check_range(v, what, min, max).map(Some),
    }
}

pub(super) fn check_range(v: &S<u64>, what: &str, min: u64, max: u64) -> VResult<u64> {
    let n = *v.get_ref();
    if n < min || n > max {
        return verr(
            v.span(),
            format!("{what} must be between {min} and {max}, found {n}"),
        );
    }
    Ok(n)
}
