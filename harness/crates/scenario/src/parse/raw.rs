//! The first phase of parsing: serde mirrors of the file's tables, every
//! value wrapped in `Spanned` so validation can point at it, unknown keys
//! rejected by serde (`deny_unknown_fields`). Nothing here checks meaning;
//! the sibling modules turn these into the model.

use serde::de::{self, SeqAccess, Visitor};
use serde::Deserialize;
use serde_spanned::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

pub(super) type S<T> = Spanned<T>;

/// The keys of a scenario's top level: written after a `[table]` header they
/// land in that table, which `toml_error` explains.
pub(super) const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "summary",
    "refs",
    "timeout_ms",
    "steps",
    "expect",
    "sockopts",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub name: Option<S<String>>,
    pub summary: Option<S<String>>,
    pub refs: Option<S<Vec<S<String>>>>,
    pub timeout_ms: Option<S<u64>>,
    pub target: Option<S<RawTarget>>,
    pub actors: Option<S<Vec<S<String>>>>,
    pub groups: Option<S<BTreeMap<S<String>, S<u64>>>>,
    pub steps: Option<S<Vec<S<RawStep>>>>,
    pub expect: Option<S<RawExpect>>,
    /// `[sockopts.<actor>]` tables.
    pub sockopts: Option<S<BTreeMap<S<String>, S<RawSockopts>>>>,
}

/// One actor's `[sockopts.<actor>]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSockopts {
    pub rcvbuf: Option<S<u64>>,
    pub sndbuf: Option<S<u64>>,
    pub nodelay: Option<S<bool>>,
    pub linger_s: Option<S<u64>>,
    pub keepalive: Option<S<RawKeepalive>>,
    pub source: Option<S<String>>,
}

/// `keepalive = { idle_s = .., interval_s = .., count = .. }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeepalive {
    pub idle_s: Option<S<u64>>,
    pub interval_s: Option<S<u64>>,
    pub count: Option<S<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub proto: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub bind: Option<S<String>>,
    pub ip_recverr: Option<S<bool>>,
    pub max_fds: Option<S<u64>>,
    pub reply_delay_ms: Option<S<u64>>,
    pub idle_timeout_ms: Option<S<u64>>,
    pub netns: Option<S<bool>>,
    pub upstream: Option<S<String>>,
    /// Accepted here too: `actors = ...` written after `[target]` lands in it.
    pub actors: Option<S<Vec<S<String>>>>,
    pub groups: Option<S<BTreeMap<S<String>, S<u64>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub actor: Option<S<String>>,
    pub op: Option<S<String>>,
    pub id: Option<S<String>>,
    pub bytes: Option<S<u64>>,
    pub text: Option<S<String>>,
    pub until: Option<S<String>>,
    pub timeout_ms: Option<S<u64>>,
    pub how: Option<S<String>>,
    pub ms: Option<S<u64>>,
    /// UDP send / connect: `"closed"` or a loopback address.
    pub to: Option<S<String>>,
    pub delay_ms: Option<S<u64>>,
    pub loss_pct: Option<S<u64>>,
    pub duplicate_pct: Option<S<u64>>,
    pub reorder_pct: Option<S<u64>>,
    pub rate_kbit: Option<S<u64>>,
    /// `blackhole`: drop only these segments (`"fin"`).
    pub only: Option<S<String>>,
    pub parallel: Option<S<bool>>,
    /// A repeated block: `repeat = N` with its steps in `do`.
    pub repeat: Option<S<u64>>,
    #[serde(rename = "do")]
    pub do_: Option<S<Vec<S<RawStep>>>>,
}

impl RawStep {
    /// The keys whose meaning depends on the op, with where they are set
    /// (one list, so the repeat-block check and the per-op check agree).
    pub fn op_key_spans(&self) -> [(&'static str, Option<Range<usize>>); 13] {
        [
            ("bytes", self.bytes.as_ref().map(S::span)),
            ("text", self.text.as_ref().map(S::span)),
            ("until", self.until.as_ref().map(S::span)),
            ("timeout_ms", self.timeout_ms.as_ref().map(S::span)),
            ("how", self.how.as_ref().map(S::span)),
            ("ms", self.ms.as_ref().map(S::span)),
            ("to", self.to.as_ref().map(S::span)),
            ("delay_ms", self.delay_ms.as_ref().map(S::span)),
            ("loss_pct", self.loss_pct.as_ref().map(S::span)),
            ("duplicate_pct", self.duplicate_pct.as_ref().map(S::span)),
            ("reorder_pct", self.reorder_pct.as_ref().map(S::span)),
            ("rate_kbit", self.rate_kbit.as_ref().map(S::span)),
            ("only", self.only.as_ref().map(S::span)),
        ]
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub naive: Option<S<RawImplExpect>>,
    #[serde(rename = "naive-seq")]
    pub naive_seq: Option<S<RawImplExpect>>,
    pub hardened: Option<S<RawImplExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImplExpect {
    pub server: Option<S<StrOrList>>,
    pub server_errors: Option<S<StrOrList>>,
    pub steps: Option<S<RawStepMatchers>>,
    pub linux: Option<S<RawOsExpect>>,
    pub windows: Option<S<RawOsExpect>>,
    pub macos: Option<S<RawOsExpect>>,
    pub wine: Option<S<RawOsExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOsExpect {
    pub server: Option<S<StrOrList>>,
    pub server_errors: Option<S<StrOrList>>,
    pub steps: Option<S<RawStepMatchers>>,
    pub observed: Option<S<RawObserved>>,
}

/// `observed = { os_version = …, netrepro = …, date = … }` of a per-OS cell.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObserved {
    pub os_version: Option<S<String>>,
    pub arch: Option<S<String>>,
    pub wine: Option<S<String>>,
    pub netrepro: Option<S<String>>,
    pub date: Option<S<String>>,
}

/// `steps = { id = matchers }` of an expectation.
pub(super) type RawStepMatchers = BTreeMap<S<String>, S<StrOrList>>;

/// A string, or an array of strings (each with its own span).
pub(super) enum StrOrList {
    One(String),
    Many(Vec<S<String>>),
}

impl<'de> Deserialize<'de> for StrOrList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrList, E> {
                Ok(StrOrList::One(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrOrList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<S<String>>()? {
                    items.push(item);
                }
                Ok(StrOrList::Many(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// The strings of a `StrOrList` with their spans.
pub(super) fn str_items(v: &S<StrOrList>) -> Vec<(String, Range<usize>)> {
    match v.get_ref() {
        StrOrList::One(s) => vec![(s.clone(), v.span())],
        StrOrList::Many(items) => items
            .iter()
            .map(|i| (i.get_ref().clone(), i.span()))
            .collect(),
    }
}
