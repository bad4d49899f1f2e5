//! `[expect.naive]`, `[expect.hardened]` and the optional
//! `[expect.naive-seq]`: the verdicts, server error matchers and per-step
//! matchers each built-in server should show, with per-OS overrides.

use super::check::{verr, Names, VErr, VResult};
use super::observed::validate_observed;
use super::raw::{str_items, RawExpect, RawImplExpect, RawStepMatchers, StrOrList, S};
use crate::model::{ExpectKey, Impl, ImplExpectations, Matcher, PartialExpectation, Verdict};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

const VERDICTS: &str = "survived, hung, crashed, leaked, busy, rejecting";

/// What can be wrong in `[expect]`.
#[derive(Debug, thiserror::Error)]
enum ExpectProblem {
    #[error("missing required tables [expect.naive] and [expect.hardened]")]
    MissingExpect,
    #[error(
        "missing [expect.{}]; both [expect.naive] and [expect.hardened] are required",
        .0.as_str()
    )]
    MissingImpl(Impl),
    #[error(
        "[expect.{}] is missing required key \"server\"; expected a verdict or a list of: {VERDICTS}",
        .0.as_str()
    )]
    MissingServer(Impl),
    #[error("\"server\" needs at least one verdict; expected one of: {VERDICTS}")]
    NoVerdict,
    #[error("\"unknown\" cannot be combined with other verdicts; write server = \"unknown\"")]
    UnknownAmongVerdicts,
    #[error("unknown verdict \"{0}\"; expected one of: {VERDICTS}, or \"unknown\"")]
    UnknownVerdict(String),
    #[error("{0} needs at least one matcher")]
    NoMatcher(MatcherList),
    #[error(
        "unknown matcher \"{matcher}\" in {list}; expected \"ok\", \"eof\", \"timeout\", an error class \
         (e.g. reset, refused, broken-pipe) or an OS error name (e.g. ECONNRESET, WSAECONNRESET)"
    )]
    UnknownMatcher { matcher: String, list: MatcherList },
    /// `known`: every step id of the scenario, sorted.
    #[error("expectation refers to step id \"{id}\", which no step has; step ids: {known}")]
    UnknownStepId { id: String, known: Names },
}

/// Which list of matchers: `server_errors`, or `steps.<id>`.
#[derive(Debug)]
enum MatcherList {
    ServerErrors,
    Step(String),
}

impl std::fmt::Display for MatcherList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatcherList::ServerErrors => f.write_str("server_errors"),
            MatcherList::Step(id) => write!(f, "steps.{id}"),
        }
    }
}

/// True if `m` is an acceptable matcher in `server_errors` / `steps`:
/// `"ok"`, `"short"`, `"eof"`, `"timeout"`, `"skipped"`, an `ErrorClass`
/// kebab name or an OS error name.
/// The only place the parser depends on `netrepro_sys::errors`.
pub fn is_valid_matcher(m: &str) -> bool {
    matches!(m, "ok" | "short" | "eof" | "timeout" | "skipped")
        || netrepro_sys::errors::ErrorClass::from_name(m).is_some()
        || netrepro_sys::errors::is_known_name(m)
}

/// The `[expect]` table; `ids` are the step ids with where they are set,
/// which `steps = { id = ... }` may refer to. Missing altogether is
/// located at the start of the file.
pub(super) fn validate_expect(
    raw: Option<S<RawExpect>>,
    ids: &HashMap<String, Range<usize>>,
) -> VResult<BTreeMap<Impl, ImplExpectations>> {
    let expect_raw = raw.ok_or_else(|| VErr::new(0..0, ExpectProblem::MissingExpect))?;
    let expect_span = expect_raw.span();
    let expect_raw = expect_raw.into_inner();
    let mut expect = BTreeMap::new();
    // [expect.naive-seq] came with the sequential naive server; a file
    // written before it stays valid, its naive-seq runs are unverified.
    if let Some(raw_seq) = &expect_raw.naive_seq {
        expect.insert(
            Impl::NaiveSeq,
            validate_impl_expect(Impl::NaiveSeq, raw_seq, ids)?,
        );
    }
    for (imp, raw_impl) in [
        (Impl::Naive, expect_raw.naive),
        (Impl::Hardened, expect_raw.hardened),
    ] {
        let raw_impl = raw_impl
            .ok_or_else(|| VErr::new(expect_span.clone(), ExpectProblem::MissingImpl(imp)))?;
        expect.insert(imp, validate_impl_expect(imp, &raw_impl, ids)?);
    }
    Ok(expect)
}

fn validate_verdicts(v: &S<StrOrList>) -> VResult<Vec<Verdict>> {
    let items = str_items(v);
    if items.is_empty() {
        return verr(v.span(), ExpectProblem::NoVerdict);
    }
    // "unknown": nobody has observed it here and no source says; unverified.
    if let [(s, span)] = items.as_slice() {
        if s == "unknown" {
            let _ = span;
            return Ok(Vec::new());
        }
    }
    let mut out = Vec::new();
    for (s, span) in items {
        let verdict = match s.as_str() {
            "survived" => Verdict::Survived,
            "hung" => Verdict::Hung,
            "crashed" => Verdict::Crashed,
            "leaked" => Verdict::Leaked,
            "busy" => Verdict::Busy,
            "rejecting" => Verdict::Rejecting,
            "unknown" => return verr(span, ExpectProblem::UnknownAmongVerdicts),
            other => return verr(span, ExpectProblem::UnknownVerdict(other.to_owned())),
        };
        if !out.contains(&verdict) {
            out.push(verdict);
        }
    }
    Ok(out)
}

fn validate_matchers(v: &S<StrOrList>, list: MatcherList) -> VResult<Vec<Matcher>> {
    let items = str_items(v);
    if items.is_empty() {
        return verr(v.span(), ExpectProblem::NoMatcher(list));
    }
    let mut out = Vec::new();
    for (s, span) in items {
        if !is_valid_matcher(&s) {
            return verr(span, ExpectProblem::UnknownMatcher { matcher: s, list });
        }
        out.push(s);
    }
    Ok(out)
}

/// `is_override`: a per-OS override may say `server_errors = []`, i.e. no
/// server error is required on that OS (it clears the base list).
fn validate_partial(
    server: Option<&S<StrOrList>>,
    server_errors: Option<&S<StrOrList>>,
    steps: Option<&S<RawStepMatchers>>,
    ids: &HashMap<String, Range<usize>>,
    is_override: bool,
) -> VResult<PartialExpectation> {
    let server = server.map(validate_verdicts).transpose()?;
    let server_errors = match server_errors {
        Some(v) if is_override && str_items(v).is_empty() => Some(Vec::new()),
        other => other
            .map(|v| validate_matchers(v, MatcherList::ServerErrors))
            .transpose()?,
    };
    let steps = match steps {
        None => None,
        Some(map) => {
            let mut entries: Vec<_> = map.get_ref().iter().collect();
            entries.sort_by_key(|(k, _)| k.span().start);
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let id = k.get_ref();
                if !ids.contains_key(id) {
                    let mut known: Vec<String> = ids.keys().cloned().collect();
                    known.sort_unstable();
                    return verr(
                        k.span(),
                        ExpectProblem::UnknownStepId {
                            id: id.clone(),
                            known: Names(known),
                        },
                    );
                }
                out.insert(
                    id.clone(),
                    validate_matchers(v, MatcherList::Step(id.clone()))?,
                );
            }
            Some(out)
        }
    };
    Ok(PartialExpectation {
        server,
        server_errors,
        steps,
        observed: None,
    })
}

fn validate_impl_expect(
    imp: Impl,
    raw: &S<RawImplExpect>,
    ids: &HashMap<String, Range<usize>>,
) -> VResult<ImplExpectations> {
    let r = raw.get_ref();
    if r.server.is_none() {
        return verr(raw.span(), ExpectProblem::MissingServer(imp));
    }
    let base = validate_partial(
        r.server.as_ref(),
        r.server_errors.as_ref(),
        r.steps.as_ref(),
        ids,
        false,
    )?;
    let mut per_os = BTreeMap::new();
    let mut markers = Vec::new();
    for (os, o) in [
        (ExpectKey::Linux, &r.linux),
        (ExpectKey::Windows, &r.windows),
        (ExpectKey::Macos, &r.macos),
        (ExpectKey::Wine, &r.wine),
    ] {
        if let Some(o) = o {
            let o = o.get_ref();
            if let Some(m) = &o.observed {
                markers.push((os, m));
            }
            per_os.insert(
                os,
                validate_partial(
                    o.server.as_ref(),
                    o.server_errors.as_ref(),
                    o.steps.as_ref(),
                    ids,
                    true,
                )?,
            );
        }
    }
    let mut out = ImplExpectations { base, per_os };
    // A marker is checked once the cells are known: it may not sit on a
    // cell that resolves to unknown.
    for (os, m) in markers {
        let unknown = out.resolve(os.platform()).server.is_empty();
        let observed = validate_observed(m, unknown)?;
        if let Some(p) = out.per_os.get_mut(&os) {
            p.observed = Some(observed);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::model::{Impl, Os, Platform};
    use crate::parse::parse_str;
    use crate::parse::test_support::{assert_located, HEAD};
    use rstest::rstest;
    use std::path::Path;

    #[test]
    fn an_override_may_clear_server_errors_but_the_base_may_not() {
        let src = "name = \"x\"\nsummary = \"y\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\n\
                   [[steps]]\nactor = \"a\"\nop = \"connect\"\n\
                   [expect.naive]\nserver = \"survived\"\nserver_errors = [\"reset\"]\n\
                   [expect.naive.wine]\nserver_errors = []\n\
                   [expect.hardened]\nserver = \"survived\"\n";
        let s = parse_str(src, Path::new("x.toml")).unwrap();
        let on = |wine| {
            s.expect[&Impl::Naive].resolve(Platform {
                os: Os::Windows,
                wine,
            })
        };
        assert_eq!(on(false).server_errors, vec!["reset".to_string()]);
        assert!(on(true).server_errors.is_empty());
        let bad = src.replace("server_errors = [\"reset\"]", "server_errors = []");
        let err = parse_str(&bad, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs at least one matcher"), "{err}");
    }

    #[rstest]
    #[case::expectation_unknown_step(
        format!("{HEAD}actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nid = \"s\"\n[expect.naive]\nserver = \"crashed\"\nsteps = {{ t = \"eof\" }}\n[expect.hardened]\nserver = \"survived\"\n"), 12, 11, "refers to step id \"t\", which no step has; step ids: s")]
    #[case::unknown_verdict(
        format!("{HEAD}[expect.naive]\nserver = [\"crashed\", \"exploded\"]\n"), 6, 22, "unknown verdict \"exploded\"; expected one of: survived, hung, crashed, leaked, busy, rejecting")]
    #[case::unknown_matcher(
        format!("{HEAD}[expect.naive]\nserver = \"crashed\"\nserver_errors = [\"reset\", \"ECONNRESTE\"]\n"), 7, 27, "unknown matcher \"ECONNRESTE\"")]
    #[case::missing_server(
        format!("{HEAD}[expect.naive]\nserver_errors = [\"reset\"]\n[expect.hardened]\nserver = \"survived\"\n"), 5, 1, "missing required key \"server\"")]
    #[case::missing_hardened(
        format!("{HEAD}[expect.naive]\nserver = \"crashed\"\n"), 5, 2, "missing [expect.hardened]")]
    #[case::missing_expect(
        HEAD.to_string(), 1, 1, "missing required tables [expect.naive] and [expect.hardened]")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
