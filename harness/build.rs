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
fn commit(dir: &Path) -> Option<String> {
    let hash = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
    }
    if let Some(common) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    ) {
        println!("cargo:rerun-if-changed={common}/packed-refs");
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={common}/{branch}");
        }
    }
    Some(hash)
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
