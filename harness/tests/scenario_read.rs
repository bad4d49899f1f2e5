//! Scenario files are read bounded (issue 11 item 6): only regular files,
//! at most 1 MiB, and quoted values in errors are shortened. Each case runs
//! `netrepro validate` as a child with a deadline, so a regression (reading
//! /dev/zero for ever, blocking on a FIFO) fails the test instead of hanging
//! the suite.

mod bounded;

use netrepro_scenario::read::MAX_SCENARIO_BYTES;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const EXIT_INPUT: i32 = 2;

/// `netrepro validate PATH`, killed and failed after 30 s.
fn validate(path: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netrepro"));
    cmd.arg("validate").arg(path);
    bounded::output_within(cmd, Duration::from_secs(30))
}

/// Exit 2 with one error line that names the file.
fn assert_refused(out: &Output, path: &Path) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(EXIT_INPUT), "{err}");
    let first = err.lines().next().unwrap_or("");
    assert!(
        first.contains(&path.display().to_string()),
        "error does not name {}: {err}",
        path.display()
    );
    err
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_without_reading_it() {
    let out = validate(Path::new("/dev/zero"));
    assert_refused(&out, Path::new("/dev/zero"));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("s.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let out = validate(&fifo);
    assert_refused(&out, &fifo);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

fn big_file(dir: &Path, bytes: usize) -> PathBuf {
    let p = dir.join("big.toml");
    let mut text = String::with_capacity(bytes + 32);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!("key{i} = {i}\n"));
        i += 1;
    }
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_file_over_the_limit_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = big_file(dir.path(), MAX_SCENARIO_BYTES as usize + 1);
    let err = assert_refused(&validate(&p), &p);
    assert!(err.contains(&MAX_SCENARIO_BYTES.to_string()), "{err}");
}

/// 35 MB of keys used to take ~935 MB to parse; refused by size, it stays
/// small. Peak RSS of the child from getrusage(RUSAGE_CHILDREN): nextest
/// runs each test in its own process, so only this test's children count.
#[cfg(target_os = "linux")]
#[test]
fn a_35_mb_file_of_keys_does_not_blow_up_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = big_file(dir.path(), 35_000_000);
    assert_refused(&validate(&p), &p);
    // SAFETY: getrusage fills the zeroed struct.
    let kib = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru), 0);
        ru.ru_maxrss
    };
    assert!(kib < 100 * 1024, "validate peaked at {kib} KiB");
}

/// A huge invalid value under the size limit: the error quotes only its
/// start, still located.
#[test]
fn a_huge_invalid_value_is_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.toml");
    let value = "x".repeat(500_000);
    std::fs::write(
        &p,
        format!(
            "name = \"huge\"\nsummary = \"s\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\n\
             [[steps]]\nactor = \"a\"\nop = \"{value}\"\n\
             [expect.naive]\nserver = \"crashed\"\n[expect.hardened]\nserver = \"survived\"\n"
        ),
    )
    .unwrap();
    let err = assert_refused(&validate(&p), &p);
    assert!(err.len() < 4_000, "error is {} bytes long", err.len());
    assert!(
        err.contains(&format!("{}:8:", p.display())),
        "not located: {err}"
    );
}
