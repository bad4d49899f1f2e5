//! The second phase of parsing: a whole [`RawScenario`] into a
//! [`Scenario`]. The top-level keys are checked here; each section is
//! checked by its own module (`target`, `actors`, `sockopts`, `steps`,
//! `expect`), in
//! the order the file is usually written, so the first error is reported.

use super::actors::{pick_one, validate_actors};
use super::check::{check_range, verr, VErr, VResult};
use super::expect::validate_expect;
use super::raw::{RawScenario, S};
use super::sockopts::validate_sockopts;
use super::steps::{check_executions, validate_steps};
use super::target::validate_target;
use crate::model::{limits, Scenario};
use std::path::Path;

/// What can be wrong in the top-level keys (numbers out of range aside).
#[derive(Debug, thiserror::Error)]
enum ScenarioProblem {
    #[error("missing required key \"name\" (lowercase letters, digits and '-')")]
    MissingName,
    #[error("invalid name \"{0}\"; expected lowercase letters, digits and '-'")]
    InvalidName(String),
    #[error("missing required key \"summary\" (a one-line description)")]
    MissingSummary,
    #[error("\"summary\" must not be empty")]
    EmptySummary,
    #[error("missing required table [target] (with proto = \"tcp\" or \"udp\")")]
    MissingTarget,
}

fn is_scenario_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The scenario, and the byte offset of its `name` value (where a duplicate
/// name is reported).
pub(super) fn validate(src: &str, raw: RawScenario, path: &Path) -> VResult<(Scenario, usize)> {
    let doc = 0..0;

    let name = raw
        .name
        .ok_or_else(|| VErr::new(doc.clone(), ScenarioProblem::MissingName))?;
    if !is_scenario_name(name.get_ref()) {
        return verr(
            name.span(),
            ScenarioProblem::InvalidName(name.get_ref().clone()),
        );
    }

    let summary = raw
        .summary
        .ok_or_else(|| VErr::new(doc.clone(), ScenarioProblem::MissingSummary))?;
    if summary.get_ref().trim().is_empty() {
        return verr(summary.span(), ScenarioProblem::EmptySummary);
    }

    let refs = raw
        .refs
        .map(|r| r.into_inner().into_iter().map(S::into_inner).collect())
        .unwrap_or_default();

    let timeout_ms = match &raw.timeout_ms {
        Some(t) => check_range(t, "timeout_ms", 1, limits::MAX_SCENARIO_TIMEOUT_MS)?,
        None => limits::DEFAULT_SCENARIO_TIMEOUT_MS,
    };

    let target_raw = raw
        .target
        .ok_or_else(|| VErr::new(doc.clone(), ScenarioProblem::MissingTarget))?;
    let target = validate_target(&target_raw)?;

    // `actors`/`groups` may be written at the top level or, as in the usual
    // layout where they follow `[target]`'s keys, inside [target]; not both.
    let t = target_raw.get_ref();
    let singles = pick_one(raw.actors.as_ref(), t.actors.as_ref(), "actors")?;
    let groups = pick_one(raw.groups.as_ref(), t.groups.as_ref(), "groups")?;
    let actors = validate_actors(singles, groups, target.mode)?;
    let sockopts = validate_sockopts(raw.sockopts.as_ref(), &actors, &target)?;

    let raw_steps = raw.steps.map(S::into_inner).unwrap_or_default();
    let steps = validate_steps(src, &raw_steps, &target, &actors)?;

    let expect = validate_expect(raw.expect, &steps.ids)?;

    let name_at = name.span().start;
    let scenario = Scenario {
        path: path.to_path_buf(),
        name: name.into_inner(),
        summary: summary.into_inner(),
        refs,
        target,
        actors,
        steps: steps.steps,
        repeats: steps.repeats,
        expect,
        sockopts,
        timeout_ms,
    };
    let first = raw_steps.first().map_or(doc, S::span);
    check_executions(&scenario, &steps.repeat_spans, first)?;
    Ok((scenario, name_at))
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::assert_located;
    use rstest::rstest;

    #[rstest]
    #[case::missing_name(
        "summary = \"y\"\n".to_string(), 1, 1, "missing required key \"name\"")]
    #[case::bad_name(
        "name = \"Tcp Thing\"\n".to_string(), 1, 8, "invalid name \"Tcp Thing\"")]
    #[case::empty_summary(
        "name = \"x\"\nsummary = \"  \"\n".to_string(), 2, 11, "\"summary\" must not be empty")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
