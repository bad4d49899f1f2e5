//! Finding the scenario files behind the paths given on the command line:
//! folders are searched recursively for `*.toml`, files are taken as given.

use crate::error::{unlocated, ScenarioError};
use crate::read::FileProblem;
use std::path::{Path, PathBuf};

/// Files to load, and problems finding them, in argument order. A folder
/// gives its read errors, then its `*.toml` files sorted by path; a file
/// given explicitly is taken whatever its extension.
pub(super) fn scenario_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, ScenarioError>> {
    let mut items: Vec<Result<PathBuf, ScenarioError>> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let mut errors = Vec::new();
            walk(p, &mut found, &mut errors);
            found.sort();
            items.extend(errors.into_iter().map(Err));
            items.extend(found.into_iter().map(Ok));
        } else if p.exists() {
            items.push(Ok(p.clone()));
        } else {
            items.push(Err(unlocated(p, FileProblem::NotFound)));
        }
    }
    items
}

/// Collect `*.toml` files under `dir`. Symlinked folders are not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<ScenarioError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(unlocated(dir, FileProblem::CannotReadFolder(e)));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(unlocated(dir, FileProblem::CannotReadFolder(e)));
                continue;
            }
        };
        let p = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            walk(&p, out, errors);
        } else if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_their_toml_files_sorted_and_files_are_taken_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["b.toml", "a.toml", "notes.txt", "sub/c.toml"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let missing = d.join("missing.toml");
        let got = scenario_files(&[d.join("notes.txt"), missing.clone(), d.to_path_buf()]);
        let got: Vec<Result<PathBuf, (PathBuf, usize, String)>> = got
            .into_iter()
            .map(|r| r.map_err(|e| (e.path, e.line, e.message)))
            .collect();
        assert_eq!(
            got,
            vec![
                Ok(d.join("notes.txt")),
                Err((missing, 0, "no such file or directory".to_owned())),
                Ok(d.join("a.toml")),
                Ok(d.join("b.toml")),
                Ok(d.join("sub").join("c.toml")),
            ]
        );
    }
}
