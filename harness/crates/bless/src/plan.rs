//! From reports to a [`Plan`]: find each result's scenario file, group the
//! observations by cell, judge each cell and edit the file's TOML.

use crate::judge::{self, Judgement};
use crate::observed::Observation;
use crate::source::{BlessError, Source};
use crate::{edit, verify};
use crate::{Action, CellPlan, FilePlan, Kept, Options, Plan, Skipped};
use netrepro_report::{ResultRecord, Status};
use netrepro_scenario::{ExpectKey, Impl, Observed, Scenario};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Why a result says nothing a cell could hold, if so.
fn skip_reason(r: &ResultRecord) -> Option<String> {
    if r.impl_ == Impl::External {
        return Some(
            "an external target: scenario files hold expectations for the built-in servers only"
                .into(),
        );
    }
    match r.status {
        Status::Skipped => return Some("skipped on that host".into()),
        Status::Error => {
            return Some("a harness error: the result says nothing about the server".into())
        }
        _ => {}
    }
    if r.verdict.is_none() {
        return Some("no verdict: the server could not be set up".into());
    }
    None
}

/// Why a cut-short result is not an observation (it is counted, though).
const CUT_SHORT: &str = "cut short by the scenario's timeout: it did not run to its end";

/// A scenario file as read for editing.
struct Loaded {
    scenario: Scenario,
    text: String,
}

fn read_scenario(path: &Path) -> Result<Loaded, BlessError> {
    let bytes = netrepro_scenario::read::read_bounded(path)?;
    let scenario = netrepro_scenario::parse_bytes(bytes.clone(), path)?;
    // parse_bytes checked the UTF-8 already.
    let text = String::from_utf8(bytes).map_err(|e| BlessError::Edit {
        file: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(Loaded { scenario, text })
}

/// The report's path of a scenario, as this OS spells it: a report written
/// on Windows may say `scenarios\tcp\x.toml`.
fn report_path(p: &str) -> PathBuf {
    let given = PathBuf::from(p);
    if given.exists() || std::path::MAIN_SEPARATOR == '\\' {
        return given;
    }
    PathBuf::from(p.replace('\\', "/"))
}

/// Every step record must be the step the file has at that index.
fn check_fits(sc: &Scenario, r: &ResultRecord) -> Result<(), String> {
    for rec in &r.steps {
        let Some(step) = sc.steps.get(rec.index) else {
            return Err(format!(
                "the report has step {} (line {}), the file has {} steps",
                rec.index + 1,
                rec.line,
                sc.steps.len()
            ));
        };
        if step.op.name() != rec.op || step.id != rec.id {
            return Err(format!(
                "step {} is {} {} in the report and {} {} in the file",
                rec.index + 1,
                rec.op,
                rec.id.as_deref().unwrap_or("(no id)"),
                step.op.name(),
                step.id.as_deref().unwrap_or("(no id)"),
            ));
        }
    }
    Ok(())
}

/// What the reports say about one cell.
#[derive(Default)]
struct CellInput<'a> {
    obs: Vec<Observation<'a>>,
    /// Results of this cell that the scenario's timeout cut short.
    cut_short: usize,
}

/// One file's observations, grouped by cell.
struct Work<'a> {
    path: PathBuf,
    loaded: Loaded,
    cells: BTreeMap<(Impl, ExpectKey), CellInput<'a>>,
}

/// Compute what blessing `sources` does; writes nothing. Every input
/// problem is collected (each names its file), none is a panic.
pub fn plan(sources: &[Source], opts: &Options) -> Result<Plan, Vec<BlessError>> {
    let mut errors: Vec<BlessError> = Vec::new();
    let by_name: Option<HashMap<String, PathBuf>> = if opts.scenarios.is_empty() {
        None
    } else {
        match netrepro_scenario::load_paths(&opts.scenarios) {
            Ok(list) => Some(list.into_iter().map(|s| (s.name, s.path)).collect()),
            Err(errs) => return Err(errs.into_iter().map(BlessError::from).collect()),
        }
    };
    let keys: Vec<ExpectKey> = sources
        .iter()
        .map(|s| opts.key.unwrap_or_else(|| s.host_key()))
        .collect();
    let mut works: Vec<Work<'_>> = Vec::new();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    let mut skipped = Vec::new();
    for (si, src) in sources.iter().enumerate() {
        for r in &src.report.results {
            if let Some(reason) = skip_reason(r) {
                skipped.push(Skipped {
                    source: si,
                    scenario: r.scenario.name.clone(),
                    impl_: r.impl_,
                    reason,
                });
                continue;
            }
            let name = &r.scenario.name;
            let path = match &by_name {
                Some(map) => match map.get(name) {
                    Some(p) => p.clone(),
                    None => {
                        errors.push(BlessError::ScenarioNotFound {
                            report: src.path.clone(),
                            scenario: name.clone(),
                            detail: format!(
                                "no scenario of that name in {}",
                                opts.scenarios
                                    .iter()
                                    .map(|p| p.display().to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        });
                        continue;
                    }
                },
                None => report_path(&r.scenario.path),
            };
            if !path.exists() {
                errors.push(BlessError::ScenarioMissing {
                    report: src.path.clone(),
                    scenario: name.clone(),
                    file: path,
                });
                continue;
            }
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            let wi = match index.get(&real) {
                Some(&i) => i,
                None => match read_scenario(&path) {
                    Ok(loaded) => {
                        works.push(Work {
                            path: path.clone(),
                            loaded,
                            cells: BTreeMap::new(),
                        });
                        index.insert(real, works.len() - 1);
                        works.len() - 1
                    }
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
            };
            let w = &mut works[wi];
            if w.loaded.scenario.name != *name {
                errors.push(BlessError::ScenarioNotFound {
                    report: src.path.clone(),
                    scenario: name.clone(),
                    detail: format!(
                        "{} holds scenario {:?}, not this one",
                        w.path.display(),
                        w.loaded.scenario.name
                    ),
                });
                continue;
            }
            if let Err(detail) = check_fits(&w.loaded.scenario, r) {
                errors.push(BlessError::Stale {
                    report: src.path.clone(),
                    scenario: name.clone(),
                    file: w.path.clone(),
                    detail,
                });
                continue;
            }
            if !w.loaded.scenario.expect.contains_key(&r.impl_) {
                skipped.push(Skipped {
                    source: si,
                    scenario: name.clone(),
                    impl_: r.impl_,
                    reason: format!(
                        "{} has no [expect.{}] table (add one with server = \"unknown\" to fill)",
                        w.path.display(),
                        r.impl_.as_str()
                    ),
                });
                continue;
            }
            let input = w.cells.entry((r.impl_, keys[si])).or_default();
            if r.cut_short.is_some() {
                input.cut_short += 1;
                skipped.push(Skipped {
                    source: si,
                    scenario: name.clone(),
                    impl_: r.impl_,
                    reason: CUT_SHORT.into(),
                });
            } else if let Some(o) = Observation::of(si, r) {
                input.obs.push(o);
            }
        }
    }
    // The same problem found through several results is said once.
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.to_string()));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut files = Vec::new();
    for w in works {
        match plan_file(sources, opts, w) {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Plan {
        keys,
        files,
        skipped,
    })
}

fn plan_file(sources: &[Source], opts: &Options, w: Work<'_>) -> Result<FilePlan, BlessError> {
    let sc = &w.loaded.scenario;
    let edit_err = |detail: String| BlessError::Edit {
        file: w.path.clone(),
        detail,
    };
    let mut doc: toml_edit::DocumentMut = w
        .loaded
        .text
        .parse()
        .map_err(|e: toml_edit::TomlError| edit_err(e.to_string()))?;
    let cited = !sc.refs.is_empty();
    let mut cells = Vec::new();
    for ((imp, key), input) in &w.cells {
        let obs = &input.obs;
        if obs.is_empty() {
            continue; // every result of the cell was cut short: listed as skipped
        }
        let ie = &sc.expect[imp];
        let mut notes = Vec::new();
        let mut j = judge::judge(sc, ie, *key, obs);
        // A scenario that does not reliably run to its end on that host
        // cannot say what to expect there.
        if input.cut_short > 0 {
            let why = format!(
                "cut short by its timeout in {} of {} runs: it does not reliably run to its end on that host",
                input.cut_short,
                input.cut_short + obs.len()
            );
            match &mut j {
                Judgement::Unknown { write, .. } | Judgement::Contradicted { write, .. } => {
                    *write = Err(why)
                }
                Judgement::Agrees => {}
            }
        }
        // The newest report of the cell says where it was observed.
        let newest = obs
            .iter()
            .map(|o| &sources[o.source])
            .max_by(|a, b| a.report.started_at.cmp(&b.report.started_at));
        let marker = match newest.map(Source::marker) {
            Some(Ok(m)) => Some(m),
            Some(Err(why)) => {
                notes.push(why);
                None
            }
            None => None,
        };
        let (action, lines, write) = match j {
            Judgement::Agrees => {
                let has = ie.per_os.get(key).and_then(|p| p.observed.as_ref());
                let same_host = |m: &Observed| {
                    has.is_some_and(|h| {
                        (&h.os_version, &h.arch, &h.wine) == (&m.os_version, &m.arch, &m.wine)
                    })
                };
                match &marker {
                    Some(m) if !opts.only_unknown && !same_host(m) => {
                        (Action::Marked, Vec::new(), None)
                    }
                    _ => (Action::Agrees, Vec::new(), None),
                }
            }
            Judgement::Unknown { lines, write } => match write {
                Ok(cell) => (Action::Filled, lines, Some(cell)),
                Err(why) => (Action::NotFilled(why), lines, None),
            },
            Judgement::Contradicted { lines, write } => {
                let kept = if opts.only_unknown {
                    Some(Kept::OnlyUnknown)
                } else if cited && !opts.overwrite_cited {
                    Some(Kept::Cited)
                } else {
                    None
                };
                match (kept, write) {
                    (_, Err(why)) => (Action::Kept(Kept::NotObservable(why)), lines, None),
                    (Some(k), Ok(cell)) => (Action::Kept(k), lines, Some(cell)),
                    (None, Ok(cell)) => (Action::Rewritten, lines, Some(cell)),
                }
            }
        };
        if matches!(action, Action::Filled | Action::Rewritten) {
            if let Some(cell) = &write {
                let mut comment: Vec<String> = Vec::new();
                for o in obs {
                    let p = sources[o.source].provenance();
                    if !comment.contains(&p) {
                        comment.push(p);
                    }
                }
                edit::write_cell(&mut doc, *imp, *key, cell, &comment.join("; "))
                    .map_err(edit_err)?;
            }
        }
        let marker = match action {
            Action::Filled | Action::Rewritten | Action::Marked => marker,
            _ => None,
        };
        if let Some(m) = &marker {
            edit::write_marker(&mut doc, *imp, *key, m).map_err(edit_err)?;
        }
        cells.push(CellPlan {
            scenario: sc.name.clone(),
            impl_: *imp,
            key: *key,
            action,
            lines,
            observed: write,
            refs: sc.refs.clone(),
            notes,
            marker,
        });
    }
    let after = verify::same_line_ends(&w.loaded.text, doc.to_string());
    verify::check_after(sc, &w.path, &after, &mut cells)?;
    Ok(FilePlan {
        path: w.path,
        before: w.loaded.text,
        after,
        cells,
    })
}
