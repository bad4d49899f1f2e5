//! Repeat blocks (`repeat = N` with its steps in `[[steps.do]]`) and the
//! bound they keep: steps x group members x repetitions.

use crate::model::{limits, Scenario};
use crate::parse::check::{check_range, verr, VResult};
use crate::parse::raw::{RawStep, S};
use std::ops::Range;

/// What can be wrong with a repeat block (its count out of range aside).
#[derive(Debug, thiserror::Error)]
enum RepeatProblem {
    #[error("\"do\" needs \"repeat\" = N in the same step (the number of times to run it)")]
    DoWithoutRepeat,
    #[error("\"repeat\" needs its steps: add [[steps.do]] tables after it")]
    RepeatWithoutDo,
    #[error("key \"{0}\" does not apply to a repeat block; it takes only \"repeat\" and [[steps.do]] (put \"{0}\" in a step inside it)")]
    KeyOnBlock(&'static str),
    #[error("a repeat block needs at least one step in \"do\"")]
    EmptyBlock,
    /// The scenario's total of step executions.
    #[error(
        "the scenario runs {0} step executions (steps x group members x repetitions); at most {max} allowed",
        max = limits::MAX_EXECUTIONS
    )]
    TooManyExecutions(u64),
}

/// `Some((times, span of repeat, steps))` for a `repeat` step, `None` for
/// an ordinary one.
pub(super) type Block<'a> = (u32, Range<usize>, &'a [S<RawStep>]);

pub(super) fn repeat_block(rs: &S<RawStep>) -> VResult<Option<Block<'_>>> {
    let r = rs.get_ref();
    let (times, d) = match (&r.repeat, &r.do_) {
        (None, None) => return Ok(None),
        (None, Some(d)) => return verr(d.span(), RepeatProblem::DoWithoutRepeat),
        (Some(t), None) => return verr(t.span(), RepeatProblem::RepeatWithoutDo),
        (Some(t), Some(d)) => (t, d),
    };
    let n = check_range(times, "repeat", 1, limits::MAX_REPEAT)?;
    let common = [
        ("actor", r.actor.as_ref().map(S::span)),
        ("op", r.op.as_ref().map(S::span)),
        ("id", r.id.as_ref().map(S::span)),
        ("parallel", r.parallel.as_ref().map(S::span)),
    ];
    for (key, span) in common.into_iter().chain(r.op_key_spans()) {
        if let Some(span) = span {
            return verr(span, RepeatProblem::KeyOnBlock(key));
        }
    }
    if d.get_ref().is_empty() {
        return verr(d.span(), RepeatProblem::EmptyBlock);
    }
    Ok(Some((n as u32, times.span(), d.get_ref().as_slice())))
}

/// The whole scenario stays bounded: steps x members x repetitions.
/// Located at the largest `repeat` (or the first step without one).
pub(in crate::parse) fn check_executions(
    sc: &Scenario,
    spans: &[Range<usize>],
    first: Range<usize>,
) -> VResult<()> {
    let n = sc.executions();
    if n > limits::MAX_EXECUTIONS {
        let span = sc
            .repeats
            .iter()
            .zip(spans)
            .max_by_key(|(r, _)| r.times)
            .map_or(first, |(_, s)| s.clone());
        return verr(span, RepeatProblem::TooManyExecutions(n));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::{assert_located, with_head};
    use rstest::rstest;

    #[rstest]
    #[case::repeat_without_do(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 3\n"),
        7,
        10,
        "\"repeat\" needs its steps: add [[steps.do]]"
    )]
    #[case::do_without_repeat(
        with_head("actors = [\"a\"]\n[[steps]]\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"),
        7,
        1,
        "\"do\" needs \"repeat\" = N"
    )]
    #[case::repeat_too_many(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 1001\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 7, 10, "\"repeat\" must be between 1 and 1000, found 1001")]
    #[case::repeat_zero(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 0\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 7, 10, "between 1 and 1000, found 0")]
    #[case::repeat_with_op_key(
        with_head("actors = [\"a\"]\n[[steps]]\nrepeat = 2\nactor = \"a\"\n[[steps.do]]\nactor = \"a\"\nop = \"connect\"\n"), 8, 9, "key \"actor\" does not apply to a repeat block")]
    #[case::too_many_executions(
        with_head("groups = { crowd = 1000 }\n[[steps]]\nactor = \"crowd\"\nop = \"connect\"\n[[steps]]\nrepeat = 51\n[[steps.do]]\nactor = \"crowd\"\nop = \"close\"\n"), 10, 10, "the scenario runs 52000 step executions")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
