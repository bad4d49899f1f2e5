//! One `[[steps]]` table: its op, the actor it runs on (none for the
//! scenario-level ops), whether the op suits that actor and protocol,
//! whether every key belongs to the op, its id and `parallel`.

use super::ops::{op_keys, validate_op, OpProblem, OPS};
use crate::error::line_col;
use crate::model::{Actor, ActorKind, Proto, Step, TargetSpec, UpstreamBehaviour};
use crate::parse::actors::UPSTREAM;
use crate::parse::check::{is_ident, verr, Names, VErr, VResult};
use crate::parse::raw::{RawStep, S};
use std::ops::Range;

/// What can be wrong with a step apart from its op's arguments.
#[derive(Debug, thiserror::Error)]
enum StepProblem {
    #[error("op \"wait\" is a scenario-level pause and takes no actor")]
    ActorOnWait,
    /// pause, resume, probe.
    #[error("op \"{0}\" is a scenario-level op on the server under test and takes no actor")]
    ActorOnServerOp(String),
    /// netem, heal.
    #[error("op \"{0}\" is a scenario-level op on the whole link and takes no actor")]
    ActorOnLinkOp(String),
    #[error("op \"{0}\" changes the link and needs its own network namespace: add netns = true to [target]")]
    LinkOpWithoutNetns(String),
    #[error("step with op \"{0}\" is missing required key \"actor\"")]
    MissingActor(String),
    #[error("actor \"upstream\" exists only in forward mode (target.mode = \"forward\")")]
    UpstreamOutsideForward,
    #[error("actor \"upstream\" takes no steps with upstream = \"{0}\" in [target] (it answers on its own); use upstream = \"scripted\" to drive it with steps")]
    UpstreamNotScripted(&'static str),
    #[error("step uses actor \"{name}\", which is not declared; declared actors: {declared}")]
    UndeclaredActor { name: String, declared: Names },
    /// `who`: "a TCP client", "a UDP client" or "the upstream actor".
    #[error(
        "op \"{op}\" is not valid for {who} (actor \"{actor}\"); expected one of: {}",
        .allowed.join(", ")
    )]
    OpNotForActor {
        op: String,
        who: &'static str,
        actor: String,
        allowed: &'static [&'static str],
    },
    /// `allowed`: the keys `op` takes besides actor, op and id.
    #[error(
        "key \"{key}\" does not apply to op \"{op}\"; \"{op}\" takes {} (besides actor, op, id)",
        takes(.allowed)
    )]
    KeyNotForOp {
        key: &'static str,
        op: String,
        allowed: &'static [&'static str],
    },
    #[error("invalid step id \"{0}\"; expected lowercase letters, digits, '-' and '_'")]
    InvalidId(String),
    #[error(
        "\"parallel\" applies to a step on a group (groups = {{ name = N }}); actor \"{actor}\" is a single {}",
        if *.kind == ActorKind::Upstream { "upstream" } else { "client" }
    )]
    ParallelOnSingle { actor: String, kind: ActorKind },
    #[error("key \"parallel\" does not apply to op \"{0}\"")]
    ParallelWithoutActor(String),
}

/// "only a, b" or "no other keys".
fn takes(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "no other keys".to_owned()
    } else {
        format!("only {}", allowed.join(", "))
    }
}

pub(super) fn validate_step(
    src: &str,
    raw: &S<RawStep>,
    target: &TargetSpec,
    actors: &[Actor],
) -> VResult<Step> {
    let r = raw.get_ref();
    let span = raw.span();
    let line_at = span.start;

    let op_raw =
        r.op.as_ref()
            .ok_or_else(|| VErr::new(span.clone(), OpProblem::MissingOp))?;
    let op_name = op_raw.get_ref().as_str();
    if !OPS.split(", ").any(|o| o == op_name) {
        return verr(op_raw.span(), OpProblem::UnknownOp(op_name.to_owned()));
    }

    let actor = step_actor(r, op_name, span.clone(), actors)?;
    if let (Some(a), Some(name)) = (actor, &r.actor) {
        if a.kind == ActorKind::Upstream && target.upstream != UpstreamBehaviour::Scripted {
            return verr(
                name.span(),
                StepProblem::UpstreamNotScripted(target.upstream.as_str()),
            );
        }
    }
    if let Some(a) = actor {
        check_op_suits(a, target.proto, op_name, op_raw)?;
    }
    check_keys(r, op_name)?;
    let v6 = target
        .bind
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_ipv6());
    let op = validate_op(
        op_name,
        r,
        target.proto == Proto::Udp,
        v6,
        op_raw.span(),
        span,
    )?;
    if op.is_link_fault() && !target.netns {
        return verr(
            op_raw.span(),
            StepProblem::LinkOpWithoutNetns(op_name.to_owned()),
        );
    }

    let id = match &r.id {
        None => None,
        Some(i) => {
            if !is_ident(i.get_ref()) {
                return verr(i.span(), StepProblem::InvalidId(i.get_ref().clone()));
            }
            Some(i.get_ref().clone())
        }
    };

    let parallel = match (&r.parallel, actor) {
        (None, _) => false,
        (Some(p), Some(a)) if a.count > 1 => *p.get_ref(),
        (Some(p), Some(a)) => {
            return verr(
                p.span(),
                StepProblem::ParallelOnSingle {
                    actor: a.name.clone(),
                    kind: a.kind,
                },
            )
        }
        (Some(p), None) => {
            return verr(
                p.span(),
                StepProblem::ParallelWithoutActor(op_name.to_owned()),
            )
        }
    };

    Ok(Step {
        id,
        actor: actor.map(|a| a.name.clone()).unwrap_or_default(),
        op,
        parallel,
        line: line_col(src, line_at).0,
    })
}

/// The declared actor a step runs on: required, except for the
/// scenario-level ops, which take none.
fn step_actor<'a>(
    r: &RawStep,
    op_name: &str,
    span: Range<usize>,
    actors: &'a [Actor],
) -> VResult<Option<&'a Actor>> {
    if matches!(
        op_name,
        "wait" | "pause" | "resume" | "probe" | "netem" | "heal"
    ) {
        if let Some(a) = &r.actor {
            let problem = match op_name {
                "wait" => StepProblem::ActorOnWait,
                "netem" | "heal" => StepProblem::ActorOnLinkOp(op_name.to_owned()),
                _ => StepProblem::ActorOnServerOp(op_name.to_owned()),
            };
            return verr(a.span(), problem);
        }
        return Ok(None);
    }
    let a = r
        .actor
        .as_ref()
        .ok_or_else(|| VErr::new(span, StepProblem::MissingActor(op_name.to_owned())))?;
    let name = a.get_ref();
    match actors.iter().find(|x| x.name == *name) {
        Some(x) => Ok(Some(x)),
        None if name == UPSTREAM => verr(a.span(), StepProblem::UpstreamOutsideForward),
        None => verr(
            a.span(),
            StepProblem::UndeclaredActor {
                name: name.clone(),
                declared: Names(actors.iter().map(|x| x.name.clone()).collect()),
            },
        ),
    }
}

/// Is the op valid for this actor / proto?
fn check_op_suits(a: &Actor, proto: Proto, op_name: &str, op_raw: &S<String>) -> VResult<()> {
    let (allowed, who): (&'static [&'static str], &'static str) = match (a.kind, proto) {
        (ActorKind::Upstream, _) => (
            &[
                "accept",
                "send",
                "recv",
                "wait_readable",
                "shutdown",
                "close",
                "abort",
                "blackhole",
            ],
            "the upstream actor",
        ),
        (ActorKind::Client, Proto::Udp) => (
            &[
                "bind",
                "connect",
                "send",
                "recv",
                "wait_readable",
                "close",
                "blackhole",
            ],
            "a UDP client",
        ),
        (ActorKind::Client, Proto::Tcp) => (
            &[
                "connect",
                "send",
                "recv",
                "wait_readable",
                "shutdown",
                "close",
                "abort",
                "blackhole",
            ],
            "a TCP client",
        ),
    };
    if !allowed.contains(&op_name) {
        return verr(
            op_raw.span(),
            StepProblem::OpNotForActor {
                op: op_name.to_owned(),
                who,
                actor: a.name.clone(),
                allowed,
            },
        );
    }
    Ok(())
}

/// Keys that do not belong to this op.
fn check_keys(r: &RawStep, op_name: &str) -> VResult<()> {
    let allowed = op_keys(op_name);
    for (key, s) in r.op_key_spans() {
        if let Some(s) = s {
            if !allowed.contains(&key) {
                return verr(
                    s,
                    StepProblem::KeyNotForOp {
                        key,
                        op: op_name.to_owned(),
                        allowed,
                    },
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::{assert_located, with_head, with_udp_head};
    use rstest::rstest;

    #[rstest]
    #[case::unknown_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"abrot\"\n"), 8, 6, "unknown op \"abrot\"; expected one of: connect, bind, accept, send, recv, wait_readable, shutdown, close, abort, wait, pause, resume, probe")]
    #[case::missing_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\n"),
        6,
        1,
        "missing required key \"op\""
    )]
    #[case::undeclared_actor(
        with_head("actors = [\"a\", \"b\"]\n[[steps]]\nactor = \"c\"\nop = \"connect\"\n"),
        7,
        9,
        "step uses actor \"c\", which is not declared; declared actors: a, b"
    )]
    #[case::op_invalid_for_udp(
        with_udp_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"abort\"\n"),
        8,
        6,
        "op \"abort\" is not valid for a UDP client"
    )]
    #[case::bind_invalid_for_tcp(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"bind\"\n"),
        8,
        6,
        "not valid for a TCP client"
    )]
    #[case::upstream_outside_forward(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"upstream\"\nop = \"accept\"\n"),
        7,
        9,
        "exists only in forward mode"
    )]
    #[case::upstream_step_with_a_behaviour(
        with_head("mode = \"forward\"\nupstream = \"echo\"\nactors = [\"a\"]\n[[steps]]\nactor = \"upstream\"\nop = \"accept\"\n"),
        9,
        9,
        "actor \"upstream\" takes no steps with upstream = \"echo\""
    )]
    #[case::key_not_for_op(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 1\nhow = \"write\"\n"), 10, 7, "key \"how\" does not apply to op \"send\"")]
    #[case::wait_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"wait\"\nms = 5\n"),
        7,
        9,
        "takes no actor"
    )]
    #[case::probe_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"probe\"\n"),
        7,
        9,
        "op \"probe\" is a scenario-level op on the server under test and takes no actor"
    )]
    #[case::pause_with_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"pause\"\n"),
        7,
        9,
        "op \"pause\" is a scenario-level op on the server under test and takes no actor"
    )]
    #[case::resume_with_key(
        with_head("[[steps]]\nop = \"resume\"\nms = 5\n"),
        7,
        6,
        "key \"ms\" does not apply to op \"resume\""
    )]
    #[case::parallel_on_single_actor(
        with_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nparallel = true\n"
        ),
        9,
        12,
        "\"parallel\" applies to a step on a group"
    )]
    #[case::parallel_on_wait(
        with_head("[[steps]]\nop = \"wait\"\nms = 5\nparallel = true\n"),
        8,
        12,
        "key \"parallel\" does not apply to op \"wait\""
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
