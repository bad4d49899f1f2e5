//! `netrepro report …`: schema, merge, diff, html, markdown. Exit codes: 0
//! ok (diff: no regression), 1 diff found a regression (`--gate`: by the
//! expectations only), 2 bad input (an
//! unreadable or invalid file, named in the message), 4 the output could
//! not be written.

use crate::exit::{EXIT_FAILED, EXIT_INPUT, EXIT_OK, EXIT_REPORT};
use clap::Subcommand;
use netrepro_report::load::{self, Loaded};
use netrepro_report::matrix::Matrix;
use netrepro_report::merge;
use netrepro_report::{diff, html, markdown, schema};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub cmd: ReportCmd,
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Write the JSON Schemas of the report and the matrix (reports/schema/).
    Schema {
        /// Output folder.
        #[arg(long, default_value = schema::DIR)]
        out: PathBuf,
        /// Only check that the files there are up to date (exit 1 if not).
        #[arg(long)]
        check: bool,
    },
    /// Merge reports (and matrices) from several hosts into one behaviour matrix.
    Merge {
        /// Report or matrix files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output matrix file.
        #[arg(short, long)]
        output: PathBuf,
        /// Platform label for one input, as PATH=NAME (default: the host OS,
        /// or `wine` for host.wine or a Windows report whose file name says wine).
        #[arg(long = "label", value_name = "PATH=NAME")]
        labels: Vec<String>,
    },
    /// What changed from OLD to NEW (reports or matrices); exit 1 on a regression.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Count regressions by the expectations only (CI against a stored
        /// baseline): a cell that fails and did not before, or a result that
        /// met its expectation and is now skipped, an error or gone. A
        /// verdict change the expectation allows is listed, not counted.
        #[arg(long)]
        gate: bool,
    },
    /// One self-contained HTML page of a matrix or a report.
    Html {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// A Markdown summary of a matrix or a report (stdout unless -o).
    Markdown {
        input: PathBuf,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn load_or_exit(path: &Path) -> Result<Loaded, u8> {
    load::load(path).map_err(|e| {
        netrepro_sys::errln!("error: {e}");
        EXIT_INPUT
    })
}

fn write_or_exit(path: &Path, text: &str) -> u8 {
    match netrepro_report::write::atomic(path, text.as_bytes()) {
        Ok(()) => {
            netrepro_sys::outln!("wrote {}", path.display());
            EXIT_OK
        }
        Err(e) => {
            netrepro_sys::errln!("error: cannot write {}: {e}", path.display());
            EXIT_REPORT
        }
    }
}

pub fn run(args: ReportArgs) -> u8 {
    match args.cmd {
        ReportCmd::Schema { out, check } => {
            if check {
                let stale = schema::stale(&out);
                for p in &stale {
                    netrepro_sys::errln!(
                        "stale: {} (regenerate: cargo run -p netrepro -- report schema)",
                        p.display()
                    );
                }
                return if stale.is_empty() {
                    EXIT_OK
                } else {
                    EXIT_FAILED
                };
            }
            match schema::write_all(&out) {
                Ok(files) => {
                    for f in files {
                        netrepro_sys::outln!("wrote {}", f.display());
                    }
                    EXIT_OK
                }
                Err(e) => {
                    netrepro_sys::errln!("error: cannot write schemas to {}: {e}", out.display());
                    EXIT_REPORT
                }
            }
        }
        ReportCmd::Merge {
            inputs,
            output,
            labels,
        } => {
            let mut loaded = Vec::new();
            for p in &inputs {
                match load_or_exit(p) {
                    Ok(l) => loaded.push(l),
                    Err(c) => return c,
                }
            }
            let m = merge::parse_labels(&labels).and_then(|labels| {
                merge::merge(&loaded, &labels, netrepro_report::host::now_rfc3339())
            });
            match m {
                Ok(m) => match netrepro_report::write::json(&output, &m) {
                    Ok(()) => {
                        netrepro_sys::outln!(
                            "wrote {}: {} scenarios x {} columns ({})",
                            output.display(),
                            m.rows.len(),
                            m.columns.len(),
                            m.sources
                                .iter()
                                .map(|s| s.label.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                        EXIT_OK
                    }
                    Err(e) => {
                        netrepro_sys::errln!("error: cannot write {}: {e}", output.display());
                        EXIT_REPORT
                    }
                },
                Err(e) => {
                    netrepro_sys::errln!("error: {e}");
                    EXIT_INPUT
                }
            }
        }
        ReportCmd::Diff { old, new, gate } => {
            let (o, n) = match (load_or_exit(&old), load_or_exit(&new)) {
                (Ok(o), Ok(n)) => (o, n),
                (Err(c), _) | (_, Err(c)) => return c,
            };
            let rule = if gate {
                diff::Rule::Expectations
            } else {
                diff::Rule::Behaviour
            };
            let changes = diff::diff_by(&Matrix::from_loaded(&o), &Matrix::from_loaded(&n), rule);
            netrepro_sys::out!("{changes}");
            if changes.regressions() > 0 {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        ReportCmd::Html { input, output } => match load_or_exit(&input) {
            Ok(l) => write_or_exit(&output, &html::render(&Matrix::from_loaded(&l))),
            Err(c) => c,
        },
        ReportCmd::Markdown { input, output } => match load_or_exit(&input) {
            Ok(l) => {
                let md = markdown::render(&Matrix::from_loaded(&l));
                match output {
                    Some(p) => write_or_exit(&p, &md),
                    None => {
                        netrepro_sys::out!("{md}");
                        EXIT_OK
                    }
                }
            }
            Err(c) => c,
        },
    }
}
