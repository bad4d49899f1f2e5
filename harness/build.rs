//! Build script: puts the git commit into `netrepro --version`
//! (`netrepro 0.1.0 (commit 0123abcd4567)`). Outside a git checkout (a
//! crates.io tarball, `cargo install` from a registry) or without a `git`
//! program the version is the package version alone: no error, no guess.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");
    println!("cargo:rerun-if-changed=build.rs");
    let long = match commit(&dir) {
        Some(hash) => format!("{version} (commit {hash})"),
        None => version,
    };
    println!("cargo:rustc-env=NETREPRO_VERSION_LONG={long}");
}

/// The short hash of HEAD, and rerun-if-changed lines for the files that
/// move when HEAD moves (HEAD itself, the branch's ref, packed-refs), so a
/// new commit rebuilds the string without rerunning on every source edit.
/// Only paths that exist are named: cargo counts a missing one as changed
/// on every build, and a repository without `packed-refs` (any worktree
/// whose refs were never packed) then rebuilt the binary and every test
/// binary on every `cargo nextest run` (~20 s here, issue 16.2). A branch
/// whose ref is only in packed-refs gets its ref directory watched instead,
/// where the next commit writes the loose file.
fn commit(dir: &Path) -> Option<String> {
    let hash = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        watch(&Path::new(&git_dir).join("HEAD"));
    }
    if let Some(common) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    ) {
        let common = Path::new(&common);
        watch(&common.join("packed-refs"));
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            let loose = common.join(&branch);
            if !watch(&loose) {
                if let Some(parent) = loose.parent() {
                    watch(parent);
                }
            }
        }
    }
    Some(hash)
}

/// `cargo:rerun-if-changed` for `path` if it exists; whether it did.
fn watch(path: &Path) -> bool {
    let exists = path.exists();
    if exists {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    exists
}

/// One git query's trimmed stdout; `None` when git is missing, fails, or
/// prints something that is not a single clean line.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.trim();
    (!line.is_empty() && !line.contains('\n')).then(|| line.to_owned())
}
