//! The error every scenario problem ends as: [`ScenarioError`], the file
//! and, when the problem is in the text, its 1-based line and column.
//! Both ways of making one live here: [`located`] turns a byte offset into
//! line:column (and shortens the quoted values in the message with
//! [`clip`](crate::clip)), [`unlocated`] is for a file that cannot be read
//! or found at all. What is wrong is an enum of the module that finds it
//! (`read::FileProblem`, the validation modules' own); `ScenarioError`
//! keeps it as text, the form every caller prints.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with a scenario file, located for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is not in the file (e.g. it cannot be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based (line, column) of byte `offset` in `src`; column counts characters.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(src.len());
    while !src.is_char_boundary(off) {
        off -= 1;
    }
    let before = &src[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Every located error passes here; quoted values in it are shortened
/// (`clip`), as a value can be as large as the file.
pub(crate) fn located(
    src: &str,
    path: &Path,
    offset: usize,
    problem: impl fmt::Display,
) -> ScenarioError {
    let (line, column) = line_col(src, offset);
    ScenarioError {
        path: path.to_path_buf(),
        line,
        column,
        message: crate::clip::clip_quoted(&problem.to_string()),
    }
}

/// A problem with the file as a whole (line 0: not in its text).
pub(crate) fn unlocated(path: &Path, problem: impl fmt::Display) -> ScenarioError {
    ScenarioError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_clamps() {
        let s = "ab\né€x";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 5), (2, 2)); // after "é" (2 bytes)
        assert_eq!(line_col(s, 6), (2, 2)); // inside "€": back to its start
        assert_eq!(line_col(s, 100), (2, 4));
    }
}
