//! `[[steps]]`: the list of steps in order, repeat blocks flattened into it
//! (with a [`Repeat`] record each), step ids unique, at most
//! `limits::MAX_STEPS`. One step is checked in `step`, its op's arguments
//! in `ops`, repeat blocks and the execution bound in `repeat`.

mod ops;
mod repeat;
mod step;

pub(super) use repeat::check_executions;

use super::check::{verr, VResult};
use super::raw::{RawStep, S};
use crate::error::line_col;
use crate::model::{limits, Actor, Repeat, Step, TargetSpec};
use repeat::repeat_block;
use std::collections::HashMap;
use std::ops::Range;
use step::validate_step;

/// What can be wrong with the list of steps as a whole.
#[derive(Debug, thiserror::Error)]
enum StepListProblem {
    #[error("too many steps: at most {max} allowed", max = limits::MAX_STEPS)]
    TooManySteps,
    #[error("duplicate step id \"{0}\"; step ids must be unique")]
    DuplicateId(String),
    #[error("repeat blocks cannot be nested; expected a step with op here")]
    NestedRepeat,
}

/// The validated steps of a scenario.
pub(super) struct Steps {
    pub steps: Vec<Step>,
    pub repeats: Vec<Repeat>,
    /// Where each of `repeats` says `repeat = N`.
    pub repeat_spans: Vec<Range<usize>>,
    /// Every step id with where it is set.
    pub ids: HashMap<String, Range<usize>>,
}

pub(super) fn validate_steps(
    src: &str,
    raw_steps: &[S<RawStep>],
    target: &TargetSpec,
    actors: &[Actor],
) -> VResult<Steps> {
    let mut steps = Vec::with_capacity(raw_steps.len());
    let mut repeats = Vec::new();
    let mut repeat_spans = Vec::new();
    let mut ids: HashMap<String, Range<usize>> = HashMap::new();
    let mut add = |rs: &S<RawStep>, steps: &mut Vec<Step>| -> VResult<()> {
        if steps.len() >= limits::MAX_STEPS {
            return verr(rs.span(), StepListProblem::TooManySteps);
        }
        let step = validate_step(src, rs, target, actors)?;
        if let (Some(id), Some(raw_id)) = (&step.id, &rs.get_ref().id) {
            if ids.contains_key(id) {
                return verr(raw_id.span(), StepListProblem::DuplicateId(id.clone()));
            }
            ids.insert(id.clone(), raw_id.span());
        }
        steps.push(step);
        Ok(())
    };
    for rs in raw_steps {
        match repeat_block(rs)? {
            None => add(rs, &mut steps)?,
            Some((times, times_at, block)) => {
                let first = steps.len();
                for inner in block {
                    if let Some(r) = &inner.get_ref().repeat {
                        return verr(r.span(), StepListProblem::NestedRepeat);
                    }
                    add(inner, &mut steps)?;
                }
                repeats.push(Repeat {
                    first,
                    len: steps.len() - first,
                    times,
                    line: line_col(src, times_at.start).0,
                });
                repeat_spans.push(times_at);
            }
        }
    }
    Ok(Steps {
        steps,
        repeats,
        repeat_spans,
        ids,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{Op, Payload, Repeat};
    use crate::parse::parse_str;
    use crate::parse::test_support::p;
    use crate::parse::test_support::{assert_located, with_head};
    use rstest::rstest;

    #[test]
    fn repeat_blocks_and_parallel_steps() {
        let src = r#"name = "storm"
summary = "x"
timeout_ms = 5000
[target]
proto = "tcp"
idle_timeout_ms = 250
actors = ["a"]
groups = { crowd = 3 }
[[steps]]
actor = "crowd"
op = "connect"
parallel = true
[[steps]]
repeat = 200
[[steps.do]]
actor = "a"
op = "connect"
[[steps.do]]
id = "flood"
actor = "a"
op = "send"
bytes = 10
timeout_ms = 300
[[steps]]
actor = "a"
op = "close"
[expect.naive]
server = "survived"
steps = { flood = ["ok", "short"] }
[expect.hardened]
server = "survived"
"#;
        let s = parse_str(src, &p()).unwrap();
        assert_eq!(s.target.options.idle_timeout_ms, Some(250));
        assert_eq!(s.steps.len(), 4);
        assert!(s.steps[0].parallel);
        assert!(!s.steps[1].parallel);
        assert_eq!(
            s.repeats,
            vec![Repeat {
                first: 1,
                len: 2,
                times: 200,
                line: 14
            }]
        );
        assert_eq!(
            s.steps.iter().map(|x| x.line).collect::<Vec<_>>(),
            vec![9, 15, 18, 24]
        );
        assert_eq!(
            s.steps[2].op,
            Op::Send {
                to: None,
                payload: Payload::Bytes(10),
                timeout_ms: Some(300)
            }
        );
        assert_eq!(s.repeat_at(1).map(|r| r.times), Some(200));
        assert_eq!(s.repeat_at(2), None);
        // crowd connect 3 + (connect + send) x 200 + close.
        assert_eq!(s.executions(), 3 + 400 + 1);
    }

    #[rstest]
    #[case::duplicate_step_id(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nid = \"s\"\n[[steps]]\nactor = \"a\"\nop = \"close\"\nid = \"s\"\n"), 13, 6, "duplicate step id \"s\"")]
    #[case::nested_repeat(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nrepeat = 3\n[[steps.do.do]]\nactor = \"a\"\nop = \"connect\"\n"), 9, 10, "repeat blocks cannot be nested")]
    #[case::op_error_inside_block(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\n[[steps.do]]\nactor = \"a\"\nop = \"abrot\"\n"), 10, 6, "unknown op \"abrot\"")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
