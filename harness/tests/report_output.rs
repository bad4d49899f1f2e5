//! Where `run` (and `report … -o`) may write (issue 11 items 4 and 5): a
//! report that cannot be written exits 4 with the error printed once and no
//! `report: PATH` line; a directory, a device node, a FIFO or a read-only
//! folder is refused before the run starts, and the node is left as it was.

mod bounded;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const EXIT_REPORT: i32 = 4;

fn netrepro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
}

/// A scenario file in `dir`.
fn scenario(dir: &Path) -> PathBuf {
    let p = dir.join("ok.toml");
    std::fs::write(&p, common::ONE_CONNECT).unwrap();
    p
}

fn output_within(cmd: Command) -> Output {
    bounded::output_within(cmd, Duration::from_secs(60))
}

/// Exit 4, the path named on stderr exactly once, no success line, and
/// nothing run (stdout empty: not even the banner).
fn assert_refused_up_front(out: &Output, path: &Path) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(EXIT_REPORT),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let shown = path.display().to_string();
    assert_eq!(
        stderr.lines().filter(|l| l.contains(&shown)).count(),
        1,
        "error not printed exactly once: {stderr}"
    );
    assert!(stdout.is_empty(), "the run started: {stdout}");
}

fn run_with_report(dir: &Path, report: &Path) -> Output {
    let mut cmd = netrepro();
    cmd.arg("run")
        .arg(scenario(dir))
        .args(["--impl", "hardened", "--quiet", "--report"])
        .arg(report);
    output_within(cmd)
}

#[test]
fn report_into_a_directory_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("reports");
    std::fs::create_dir(&target).unwrap();
    let out = run_with_report(dir.path(), &target);
    assert_refused_up_front(&out, &target);
    assert!(target.is_dir());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}

#[test]
fn junit_into_a_directory_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("junit");
    std::fs::create_dir(&target).unwrap();
    let mut cmd = netrepro();
    cmd.arg("run")
        .arg(scenario(dir.path()))
        .args(["--impl", "hardened", "--quiet", "--report"])
        .arg(dir.path().join("r.json"))
        .arg("--junit")
        .arg(&target);
    let out = output_within(cmd);
    assert_refused_up_front(&out, &target);
    assert!(!dir.path().join("r.json").exists(), "report written anyway");
}

#[cfg(unix)]
#[test]
fn report_into_a_read_only_folder_is_refused_before_the_run() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root writes into a read-only folder anyway: run as nobody then, with
    // the scenario and the folders readable by it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = ro.join("r.json");
    let mut cmd = netrepro();
    cmd.arg("run")
        .arg(scenario(dir.path()))
        .args(["--impl", "hardened", "--quiet", "--report"])
        .arg(&target);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = output_within(cmd);
    assert_refused_up_front(&out, &target);
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn report_onto_a_fifo_is_refused_and_the_fifo_kept() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let out = run_with_report(dir.path(), &fifo);
    assert_refused_up_front(&out, &fifo);
    let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(t.is_fifo(), "the FIFO was replaced: {t:?}");
}

/// A character device like /dev/null. As root the test makes its own node
/// (1,3, what /dev/null is on Linux) in a temp folder, so a regression
/// cannot replace the machine's /dev/null; otherwise the real one, which a
/// non-root run could not replace.
#[cfg(unix)]
fn char_device(dir: &Path) -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    if cfg!(target_os = "linux") && unsafe { libc::geteuid() } == 0 {
        let p = dir.join("null");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; makedev of constants.
        let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        if rc == 0 {
            return p;
        }
    }
    PathBuf::from("/dev/null")
}

#[cfg(unix)]
#[test]
fn report_onto_dev_null_is_refused_and_the_device_kept() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let dir = tempfile::tempdir().unwrap();
    let dev = char_device(dir.path());
    let before = std::fs::symlink_metadata(&dev).unwrap();
    let out = run_with_report(dir.path(), &dev);
    assert_refused_up_front(&out, &dev);
    let after = std::fs::symlink_metadata(&dev).unwrap();
    assert!(after.file_type().is_char_device(), "{dev:?} was replaced");
    assert_eq!((after.ino(), after.rdev()), (before.ino(), before.rdev()));
}

#[cfg(unix)]
#[test]
fn report_html_onto_a_device_exits_4_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let dev = char_device(dir.path());
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-linux.json");
    let mut cmd = netrepro();
    cmd.args(["report", "html"]).arg(&input).arg("-o").arg(&dev);
    let out = output_within(cmd);
    assert_eq!(out.status.code(), Some(EXIT_REPORT), "{out:?}");
    let t = std::fs::symlink_metadata(&dev).unwrap().file_type();
    assert!(t.is_char_device(), "{dev:?} was replaced");
}

/// RLIMIT_FSIZE below the size of the finished report: the first (empty)
/// report fits, a later one does not. The harness must not die of SIGXFSZ,
/// must say so once, must not claim `report: PATH`, and must exit 4.
#[cfg(target_os = "linux")]
#[test]
fn report_past_the_file_size_limit_exits_4_and_says_so_once() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut cmd = netrepro();
    cmd.arg("run")
        .arg(scenario(dir.path()))
        .args(["--quiet", "--report"])
        .arg(&report);
    // SAFETY: setrlimit is async-signal-safe; only lowers this child's limit.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1500,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = output_within(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(EXIT_REPORT),
        "status {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let shown = report.display().to_string();
    assert_eq!(
        stderr.lines().filter(|l| l.contains(&shown)).count(),
        1,
        "{stderr}"
    );
    assert!(
        !stdout.lines().any(|l| l.contains(&shown)),
        "success line printed: {stdout}"
    );
    // The run itself happened (the table is there) and the file on disk is
    // a whole earlier report, never a torn one.
    assert!(!stdout.is_empty());
    let text = std::fs::read_to_string(&report).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["complete"], false);
    // No temp file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
