//! User-visible text for a fixed sample (the real Linux and Wine runs in
//! fixtures/): the terminal table and the Markdown summary. Review changes
//! with `cargo insta review` (or INSTA_UPDATE=always).

use netrepro_report::matrix::Matrix;
use netrepro_report::merge;
use netrepro_report::{json, load, markdown, table};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Sources carry file paths; make them independent of the checkout.
fn relative(mut m: Matrix) -> Matrix {
    for s in &mut m.sources {
        s.file = Path::new(&s.file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
    }
    m
}

#[test]
fn terminal_table_of_the_wine_sample() {
    let rep = json::read(&fixture("report-wine.json")).unwrap();
    insta::assert_snapshot!(table::render(&rep));
}

#[test]
fn markdown_of_the_linux_sample() {
    let l = load::load(&fixture("report-linux.json")).unwrap();
    insta::assert_snapshot!(markdown::render(&relative(Matrix::from_loaded(&l))));
}

#[test]
fn markdown_of_the_merged_matrix() {
    let inputs: Vec<_> = ["report-linux.json", "report-wine.json"]
        .iter()
        .map(|f| load::load(&fixture(f)).unwrap())
        .collect();
    let m = merge::merge(&inputs, &[], "2026-01-01T00:00:00Z".into()).unwrap();
    insta::assert_snapshot!(markdown::render(&relative(m)));
}

/// Lost replies are in the table, counted over every run they stand for
/// (they showed as `-` before).
#[test]
fn the_table_counts_every_client_step_that_did_not_go_as_asked() {
    let mut rep = json::read(&fixture("report-wine.json")).unwrap();
    let r = rep
        .results
        .iter_mut()
        .find(|r| r.scenario.name == "natter-upstream-abort" && r.impl_.as_str() == "naive")
        .unwrap();
    let lost = r
        .steps
        .iter_mut()
        .find(|s| s.not_ok() == Some("timeout"))
        .unwrap();
    lost.runs = 3;
    let table = table::render(&rep);
    let row = table
        .lines()
        .find(|l| l.starts_with("natter-upstream-abort") && l.contains("naive"))
        .unwrap();
    assert!(row.contains(" timeout(3) "), "{row}");
}
