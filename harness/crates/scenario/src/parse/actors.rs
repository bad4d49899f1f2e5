//! The actors: single clients (`actors = [...]`), groups of identical
//! clients (`groups = { name = N }`), written at the top level or inside
//! `[target]` but not both, and in forward mode the implicit `upstream`.

use super::check::{check_range, is_ident, verr, Ranged, VResult};
use super::raw::S;
use crate::model::{limits, Actor, ActorKind, Mode};
use std::collections::BTreeMap;

/// The implicit actor of forward mode: the harness-played upstream server.
pub(super) const UPSTREAM: &str = "upstream";

/// What can be wrong in the actors (group sizes out of range aside).
#[derive(Debug, thiserror::Error)]
enum ActorProblem {
    /// `actors` or `groups` (the key).
    #[error("\"{0}\" is given both at the top level and in [target]; expected it once")]
    GivenTwice(&'static str),
    #[error("invalid actor name \"{0}\"; expected lowercase letters, digits, '-' and '_'")]
    InvalidName(String),
    #[error("actor \"upstream\" is reserved: it exists implicitly in forward mode and cannot be declared")]
    UpstreamReserved,
    #[error("actor \"{0}\" is declared twice")]
    DeclaredTwice(String),
}

/// The top-level or the `[target]` variant of a key, but not both.
pub(super) fn pick_one<'a, T>(
    top: Option<&'a S<T>>,
    in_target: Option<&'a S<T>>,
    key: &'static str,
) -> VResult<Option<&'a S<T>>> {
    match (top, in_target) {
        (Some(_), Some(t)) => verr(t.span(), ActorProblem::GivenTwice(key)),
        (a, b) => Ok(a.or(b)),
    }
}

pub(super) fn validate_actors(
    singles: Option<&S<Vec<S<String>>>>,
    groups: Option<&S<BTreeMap<S<String>, S<u64>>>>,
    mode: Mode,
) -> VResult<Vec<Actor>> {
    let mut actors: Vec<Actor> = Vec::new();
    let declared = |name: &S<String>, count: u32, actors: &mut Vec<Actor>| -> VResult<()> {
        let n = name.get_ref();
        if !is_ident(n) {
            return verr(name.span(), ActorProblem::InvalidName(n.clone()));
        }
        if n == UPSTREAM {
            return verr(name.span(), ActorProblem::UpstreamReserved);
        }
        if actors.iter().any(|a| a.name == *n) {
            return verr(name.span(), ActorProblem::DeclaredTwice(n.clone()));
        }
        actors.push(Actor {
            name: n.clone(),
            kind: ActorKind::Client,
            count,
        });
        Ok(())
    };
    if let Some(list) = singles {
        for name in list.get_ref() {
            declared(name, 1, &mut actors)?;
        }
    }
    if let Some(groups) = groups {
        // Keep file order rather than the map's alphabetical order.
        let mut entries: Vec<_> = groups.get_ref().iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (name, count) in entries {
            let c = check_range(
                count,
                Ranged::GroupSize(name.get_ref().clone()),
                1,
                u64::from(limits::MAX_ACTOR_COUNT),
            )?;
            declared(name, c as u32, &mut actors)?;
        }
    }
    if mode == Mode::Forward {
        actors.push(Actor {
            name: UPSTREAM.to_owned(),
            kind: ActorKind::Upstream,
            count: 1,
        });
    }
    Ok(actors)
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::{assert_located, with_head};
    use rstest::rstest;

    #[rstest]
    #[case::upstream_declared(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nmode = \"forward\"\nactors = [\"a\", \"upstream\"]\n".to_string(), 6, 16, "actor \"upstream\" is reserved")]
    #[case::group_too_big(with_head("groups = { crowd = 1001 }\n"), 5, 20, "between 1 and 1000")]
    #[case::duplicate_actor(
        with_head("actors = [\"a\"]\ngroups = { a = 2 }\n"),
        6,
        12,
        "actor \"a\" is declared twice"
    )]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
