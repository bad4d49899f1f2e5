//! Merging reports (and matrices) from several hosts into one behaviour
//! matrix (`netrepro report merge`), and a single report seen as a
//! one-platform matrix (for `html`, `markdown`, `diff`). Reads what `load`
//! loaded, builds the `matrix` model.

use super::load::{Document, Loaded};
use super::matrix::{Cell, Column, Matrix, Row, Source, MATRIX_SCHEMA_VERSION};
use super::model::ScenarioInfo;
use netrepro_scenario::{ExpectKey, Impl, Os};
use std::collections::BTreeMap;

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{second} and {first} are both labelled {label:?}; give one another label with --label {second}=NAME")]
    DuplicateLabel {
        label: String,
        first: String,
        second: String,
    },
    #[error("--label {0:?} is not PATH=NAME")]
    BadLabel(String),
    #[error("--label {0:?} names no input file")]
    UnusedLabel(String),
    #[error("nothing to merge: give at least one report")]
    Empty,
}

/// The platform of a report: an explicit label wins, then `host.wine`
/// (written by hosts that know they run under Wine), then a file name
/// containing "wine" for a Windows report, then the host OS.
pub fn platform_of(loaded: &Loaded, report_os: Os, label: Option<&str>) -> (String, ExpectKey) {
    let by_name = || {
        loaded
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase().contains("wine"))
            .unwrap_or(false)
    };
    let wine = report_os == Os::Windows && (loaded.host_wine.unwrap_or(false) || by_name());
    let platform = if wine {
        ExpectKey::Wine
    } else {
        ExpectKey::from(report_os)
    };
    let default = match platform {
        ExpectKey::Linux => "linux",
        ExpectKey::Windows => "windows",
        ExpectKey::Macos => "macos",
        ExpectKey::Wine => "wine",
    };
    (label.unwrap_or(default).to_string(), platform)
}

/// Parse `--label PATH=NAME` arguments.
pub fn parse_labels(args: &[String]) -> Result<Vec<(String, String)>, MergeError> {
    args.iter()
        .map(|a| match a.rsplit_once('=') {
            Some((p, n)) if !p.is_empty() && !n.is_empty() => Ok((p.to_string(), n.to_string())),
            _ => Err(MergeError::BadLabel(a.clone())),
        })
        .collect()
}

/// Merge loaded documents. A loaded matrix contributes its sources and
/// cells as they are (so matrices can be merged again); a report becomes one
/// source.
pub fn merge(
    inputs: &[Loaded],
    labels: &[(String, String)],
    generated_at: String,
) -> Result<Matrix, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Empty);
    }
    for (p, _) in labels {
        if !inputs.iter().any(|l| l.display() == *p) {
            return Err(MergeError::UnusedLabel(p.clone()));
        }
    }
    let mut m = Matrix {
        matrix_version: MATRIX_SCHEMA_VERSION,
        tool: super::host::tool(),
        generated_at,
        sources: Vec::new(),
        columns: Vec::new(),
        rows: Vec::new(),
    };
    let mut label_file: BTreeMap<String, String> = BTreeMap::new();
    let mut add_label = |label: &str, file: &str| match label_file.get(label) {
        Some(first) => Err(MergeError::DuplicateLabel {
            label: label.to_string(),
            first: first.clone(),
            second: file.to_string(),
        }),
        None => {
            label_file.insert(label.to_string(), file.to_string());
            Ok(())
        }
    };
    for input in inputs {
        let file = input.display();
        match &input.doc {
            Document::Report(rep) => {
                let label = labels
                    .iter()
                    .find(|(p, _)| *p == file)
                    .map(|(_, n)| n.as_str());
                let (label, platform) = platform_of(input, rep.host.os, label);
                add_label(&label, &file)?;
                m.sources.push(Source {
                    label: label.clone(),
                    platform,
                    file: file.clone(),
                    host: rep.host.clone(),
                    started_at: rep.started_at.clone(),
                    complete: rep.complete,
                    summary: rep.summary.clone(),
                });
                for r in &rep.results {
                    let id = format!("{label}/{}", r.impl_.as_str());
                    add_column(&mut m.columns, &id, &label, platform, r.impl_);
                    row_mut(&mut m.rows, &r.scenario)
                        .cells
                        .insert(id, Cell::of(r));
                }
            }
            Document::Matrix(other) => {
                for s in &other.sources {
                    add_label(&s.label, &file)?;
                    m.sources.push(s.clone());
                }
                for c in &other.columns {
                    add_column(&mut m.columns, &c.id, &c.label, c.platform, c.impl_);
                }
                for r in &other.rows {
                    let row = row_mut(&mut m.rows, &r.scenario);
                    for (k, v) in &r.cells {
                        row.cells.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Ok(m)
}

fn add_column(cols: &mut Vec<Column>, id: &str, label: &str, platform: ExpectKey, imp: Impl) {
    if !cols.iter().any(|c| c.id == id) {
        cols.push(Column {
            id: id.to_string(),
            label: label.to_string(),
            platform,
            impl_: imp,
        });
    }
}

fn row_mut<'a>(rows: &'a mut Vec<Row>, sc: &ScenarioInfo) -> &'a mut Row {
    let i = match rows.iter().position(|r| r.scenario.name == sc.name) {
        Some(i) => i,
        None => {
            rows.push(Row {
                scenario: sc.clone(),
                cells: BTreeMap::new(),
            });
            rows.len() - 1
        }
    };
    &mut rows[i]
}

impl Matrix {
    /// A single report as a one-platform matrix (for `html`, `markdown`,
    /// `diff` on plain reports).
    pub fn from_loaded(l: &Loaded) -> Matrix {
        match &l.doc {
            Document::Matrix(m) => m.clone(),
            Document::Report(_) => merge(std::slice::from_ref(l), &[], String::new())
                .expect("one report always merges"),
        }
    }
}
