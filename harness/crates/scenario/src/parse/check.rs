//! What every validation module shares: the error before it is located
//! ([`VErr`]: a byte span and what is wrong) and the checks used in more
//! than one section (number ranges, identifiers).
//!
//! What is wrong is a `thiserror` enum of the module that finds it
//! (`TargetProblem`, `StepProblem`, …), next to the checks that raise it;
//! `VErr` carries any of them, so no module has to know the others' enums.

use super::raw::S;
use std::error::Error;
use std::fmt;
use std::ops::Range;

/// What is wrong in one section, as its module's enum (not text: `verr`
/// takes an error type, which `&str` and `String` are not).
pub(super) type Problem = Box<dyn Error + Send + Sync>;

/// A validation error before it is located: where, and what is wrong.
#[derive(Debug)]
pub(super) struct VErr {
    pub span: Range<usize>,
    pub problem: Problem,
}

impl VErr {
    pub fn new(span: Range<usize>, problem: impl Error + Send + Sync + 'static) -> VErr {
        VErr {
            span,
            problem: Box::new(problem),
        }
    }
}

pub(super) type VResult<T> = Result<T, VErr>;

pub(super) fn verr<T>(
    span: Range<usize>,
    problem: impl Error + Send + Sync + 'static,
) -> VResult<T> {
    Err(VErr::new(span, problem))
}

/// Actor names and step ids: lowercase letters, digits, '-' and '_'.
pub(super) fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Names listed in an error (declared actors, step ids): `a, b`, or
/// `(none)`.
#[derive(Debug, Clone)]
pub(super) struct Names(pub Vec<String>);

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&self.0.join(", "))
        }
    }
}

/// What a number out of range is: a key (`"ms"`) or the size of a group.
#[derive(Debug, Clone)]
pub(super) enum Ranged {
    Key(&'static str),
    GroupSize(String),
}

impl fmt::Display for Ranged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ranged::Key(k) => write!(f, "\"{k}\""),
            Ranged::GroupSize(g) => write!(f, "size of group \"{g}\""),
        }
    }
}

impl From<&'static str> for Ranged {
    fn from(key: &'static str) -> Ranged {
        Ranged::Key(key)
    }
}

/// A number outside the range its key allows.
#[derive(Debug, thiserror::Error)]
#[error("{what} must be between {min} and {max}, found {found}")]
pub(super) struct OutOfRange {
    pub what: Ranged,
    pub min: u64,
    pub max: u64,
    pub found: u64,
}

/// An optional numeric target option: absent, not allowed here (`refused`
/// says why, at the value), or checked against `min..=max`.
pub(super) fn opt_range<P: Error + Send + Sync + 'static>(
    v: &Option<S<u64>>,
    key: &'static str,
    min: u64,
    max: u64,
    refused: Option<P>,
) -> VResult<Option<u64>> {
    match (v, refused) {
        (None, _) => Ok(None),
        (Some(v), Some(why)) => verr(v.span(), why),
        (Some(v), None) => check_range(v, key, min, max).map(Some),
    }
}

pub(super) fn check_range(v: &S<u64>, what: impl Into<Ranged>, min: u64, max: u64) -> VResult<u64> {
    let n = *v.get_ref();
    if n < min || n > max {
        return verr(
            v.span(),
            OutOfRange {
                what: what.into(),
                min,
                max,
                found: n,
            },
        );
    }
    Ok(n)
}
