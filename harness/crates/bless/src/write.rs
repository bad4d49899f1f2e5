//! Writing the changed files of a [`Plan`], each atomically.

use crate::Plan;
use std::path::PathBuf;

/// A file [`write`] could not write.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {detail}")]
pub struct WriteError {
    pub path: PathBuf,
    pub detail: String,
}

/// Write every changed file of `plan` atomically (through a symlink to its
/// target). A file that changed on disk since [`plan`] read it is not
/// written. Returns the files written, or every failure (the other files
/// are still written).
pub fn write(plan: &Plan) -> Result<Vec<PathBuf>, (Vec<PathBuf>, Vec<WriteError>)> {
    let mut done = Vec::new();
    let mut errors = Vec::new();
    for f in plan.files.iter().filter(|f| f.changed()) {
        let err = |detail: String| WriteError {
            path: f.path.clone(),
            detail,
        };
        let real = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
        match std::fs::read(&real) {
            Ok(now) if now == f.before.as_bytes() => {}
            Ok(_) => {
                errors.push(err("it changed since bless read it; not written".into()));
                continue;
            }
            Err(e) => {
                errors.push(err(e.to_string()));
                continue;
            }
        }
        match netrepro_report::write::atomic(&real, f.after.as_bytes()) {
            Ok(()) => done.push(f.path.clone()),
            Err(e) => errors.push(err(e.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(done)
    } else {
        Err((done, errors))
    }
}
