//! The HTML page in a real browser: headless Chromium or Google Chrome
//! loads the generated file, once with JavaScript off (the matrix must be
//! there) and once with it on (the filter appears), and takes a screenshot
//! whose pixels must show the verdict colours.
//!
//! A check that could not run never reports a pass (issue 11 item 10). The
//! browser is looked for on every OS ([`find_browser`]): `CHROME_PATH` if
//! set, then chromium, chromium-browser, google-chrome, google-chrome-stable,
//! chrome on PATH, then the usual install folders of Google Chrome and
//! Chromium on Windows and macOS (GitHub's Windows and macOS runners ship
//! Google Chrome, not Chromium). When none is found:
//! - with `CI` set (not empty, `0` or `false`) the browser tests run and
//!   fail, saying what was searched and how to install one (`.ci/run`
//!   installs Debian's chromium and sets CI);
//! - elsewhere they are reported as skipped (ignored at run time), so
//!   nextest's summary line counts them: `… passed, 2 skipped`.
//!
//! That is why this file has its own `main` (libtest-mimic, `harness =
//! false`): whether a test is skipped is decided when the tests are listed.

use libtest_mimic::{Arguments, Failed, Trial};
use netrepro_report::matrix::Matrix;
use netrepro_report::merge;
use netrepro_report::{html, load};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Program names searched on PATH, in order.
const BROWSER_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
];

/// Where Chrome and Chromium install themselves outside PATH.
fn install_paths() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)", "LocalAppData"] {
            if let Some(base) = std::env::var_os(var) {
                let base = PathBuf::from(base);
                out.push(base.join(r"Google\Chrome\Application\chrome.exe"));
                out.push(base.join(r"Chromium\Application\chrome.exe"));
            }
        }
    }
    if cfg!(target_os = "macos") {
        let mut roots = vec![PathBuf::from("/Applications")];
        if let Some(home) = std::env::var_os("HOME") {
            roots.push(PathBuf::from(home).join("Applications"));
        }
        for r in roots {
            out.push(r.join("Google Chrome.app/Contents/MacOS/Google Chrome"));
            out.push(r.join("Chromium.app/Contents/MacOS/Chromium"));
        }
    }
    out
}

/// The browser to use, or a description of everywhere that was searched.
fn find_browser() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("CHROME_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("CHROME_PATH={} is not a file", p.display()))
        };
    }
    let exe = std::env::consts::EXE_SUFFIX;
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in BROWSER_NAMES {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(format!("{name}{exe}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let fixed = install_paths();
    if let Some(p) = fixed.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    Err(format!(
        "no browser found: looked for {} on PATH{}{}; install one (Debian: \
         apt-get install chromium) or set CHROME_PATH",
        BROWSER_NAMES.join(", "),
        if fixed.is_empty() { "" } else { " and in " },
        fixed
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// `CI` set to anything but empty, `0` or `false` (GitHub sets `true`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// A `file://` URL for a local path (`file:///C:/…` on Windows).
fn file_url(p: &Path) -> String {
    let s = p.display().to_string().replace('\\', "/");
    if s.starts_with('/') {
        format!("file://{s}")
    } else {
        format!("file:///{s}")
    }
}

/// A matrix from the real Linux and Wine runs, plus hostile text where a
/// scenario file puts user input.
fn sample() -> Matrix {
    let inputs: Vec<_> = ["report-linux.json", "report-wine.json"]
        .iter()
        .map(|f| load::load(&fixture(f)).unwrap())
        .collect();
    let mut m = merge::merge(&inputs, &[], "2026-01-01T00:00:00Z".into()).unwrap();
    let r = &mut m.rows[0];
    r.scenario.summary = "<img id=\"pwned\" src=x onerror=\"document.title='pwned'\">".into();
    r.scenario.refs.push("javascript:alert(1)".into());
    m
}

/// Run chromium with the flags that keep it offline and stateless; bounded in time.
fn run_chromium(exe: &Path, extra: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        // Same pixels on every OS: no HiDPI scaling, no display colour profile.
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend_from_slice(extra);
    args.push(url.to_string());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(async {
        let child = tokio::process::Command::new(exe)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .expect("chromium finished within 90 s")
            .unwrap()
    });
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn page() -> (tempfile::TempDir, String, Matrix) {
    let m = sample();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("report.html");
    std::fs::write(&p, html::render(&m)).unwrap();
    let url = file_url(&p);
    (dir, url, m)
}

/// The page as a browser with JavaScript off sees it: its one inline
/// script removed. Returns the file URL.
fn without_script(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let (head, rest) = text.split_once("<script>").expect("one inline script");
    let (_, tail) = rest.split_once("</script>").unwrap();
    let nojs = dir.join("nojs.html");
    std::fs::write(&nojs, format!("{head}{tail}")).unwrap();
    file_url(&nojs)
}

fn page_is_self_contained_and_escapes_user_text() {
    let (dir, _, _) = page();
    let text = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // No fetches: no external scripts, styles, images or fonts.
    for needle in ["src=\"http", "href=\"//", "<link", "@import", "url("] {
        assert!(!text.contains(needle), "page references {needle}");
    }
    assert!(!text.contains("<img id=\"pwned\""), "summary not escaped");
    assert!(text.contains("&lt;img id=&quot;pwned&quot;"));
    assert!(
        !text.contains("href=\"javascript:"),
        "javascript: ref became a link"
    );
}

fn matrix_renders_in_headless_chromium_without_and_with_javascript(exe: &Path) {
    let (dir, url, m) = page();
    // Without JavaScript: the matrix is all there, the filter stays hidden.
    // (--dump-dom and --screenshot need scripting in headless Chromium, so
    // "JS off" is the page with its script removed.)
    let dom = run_chromium(exe, &["--dump-dom".into()], &without_script(dir.path()));
    assert!(dom.contains("<table id=\"matrix\">"), "{dom}");
    assert_eq!(dom.matches("<tr class=\"row\"").count(), m.rows.len());
    let cells: usize = m.rows.iter().map(|r| r.cells.len()).sum();
    assert_eq!(dom.matches("<td class=\"cell v-").count(), cells);
    assert!(dom.contains("class=\"cell v-crashed s-passed\""));
    assert!(dom.contains("class=\"cell v-survived s-failed\""));
    assert!(dom
        .contains("<span class=\"fatal\" title=\"the server died of this\">ECONNREFUSED!</span>"));
    assert!(
        dom.contains("<form id=\"filters\" hidden=\"\">"),
        "filter visible without JS"
    );
    for r in &m.rows {
        assert!(dom.contains(&format!("data-scenario=\"{}\"", r.scenario.name)));
    }
    // Hostile text stayed text; no element was injected.
    assert!(
        !dom.contains("<img id=\"pwned\""),
        "escaped text became markup"
    );
    assert!(!dom.contains("<title>pwned"));
    // With JavaScript: the filter is shown and counted the rows.
    let dom = run_chromium(exe, &["--dump-dom".into()], &url);
    assert!(dom.contains("<form id=\"filters\">"), "filter not revealed");
    assert!(
        dom.contains(&format!("{} scenario(s) shown", m.rows.len())),
        "filter script did not run"
    );
}

fn screenshot_shows_the_coloured_matrix(exe: &Path) {
    let (dir, _, _) = page();
    // Script removed: the colours must not depend on JavaScript.
    let url = without_script(dir.path());
    let png_path = dir.path().join("shot.png");
    run_chromium(
        exe,
        &[
            format!("--screenshot={}", png_path.display()),
            "--window-size=1400,1000".into(),
        ],
        &url,
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).expect("screenshot written"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1400, 1000));
    let bpp = info.color_type.samples();
    assert!(bpp >= 3, "{:?}", info.color_type);
    let px: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(bpp)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let count = |rgb: [u8; 3]| px.iter().filter(|p| **p == rgb).count();
    // The verdict backgrounds from the stylesheet fill whole cells.
    let survived = count([0xd8, 0xf5, 0xd0]);
    let crashed = count([0xff, 0xc9, 0xc9]);
    let leaked = count([0xff, 0xe2, 0xb3]);
    assert!(survived > 5_000, "survived green: {survived} px");
    assert!(crashed > 500, "crashed red: {crashed} px");
    assert!(leaked > 500, "leaked orange: {leaked} px");
    let mut distinct: Vec<[u8; 3]> = px.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() > 50,
        "only {} colours: blank page?",
        distinct.len()
    );
}

/// A test that needs the browser: run when one was found; skipped (ignored)
/// when none was and not in CI; run and failed with the search report in CI.
fn browser_trial(name: &'static str, browser: &Result<PathBuf, String>, body: fn(&Path)) -> Trial {
    let found = browser.clone();
    let skip = found.is_err() && !in_ci();
    Trial::test(name, move || match &found {
        Ok(exe) => {
            body(exe);
            Ok(())
        }
        Err(why) => Err(Failed::from(format!(
            "{why}. CI is set, so a browser test that cannot run is a failure."
        ))),
    })
    .with_ignored_flag(skip)
}

/// This binary run again for one browser test, with `CHROME_PATH` naming
/// a file that does not exist (so no browser is found on any OS).
fn rerun_without_browser(ci: bool, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(args)
        .env("CHROME_PATH", dir.path().join("no-such-browser"))
        .stdin(std::process::Stdio::null());
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    cmd.output().unwrap()
}

/// The rule itself, checked on every OS: with CI a missing browser fails
/// the browser test; without, the test is listed as ignored (what nextest
/// counts as skipped) instead of passing.
fn a_missing_browser_fails_in_ci_and_is_skipped_elsewhere() {
    const NAME: &str = "screenshot_shows_the_coloured_matrix";
    let out = rerun_without_browser(true, &["--exact", NAME]);
    assert!(
        !out.status.success(),
        "passed in CI without a browser: {out:?}"
    );
    let ignored = |ci| {
        let out = rerun_without_browser(ci, &["--list", "--ignored", "--format", "terse"]);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == format!("{NAME}: test"))
    };
    assert!(ignored(false), "not skipped without CI");
    assert!(!ignored(true), "skipped in CI");
}

fn main() {
    let args = Arguments::from_args();
    let browser = find_browser();
    let trials = vec![
        Trial::test("page_is_self_contained_and_escapes_user_text", || {
            page_is_self_contained_and_escapes_user_text();
            Ok(())
        }),
        Trial::test(
            "a_missing_browser_fails_in_ci_and_is_skipped_elsewhere",
            || {
                a_missing_browser_fails_in_ci_and_is_skipped_elsewhere();
                Ok(())
            },
        ),
        browser_trial(
            "matrix_renders_in_headless_chromium_without_and_with_javascript",
            &browser,
            matrix_renders_in_headless_chromium_without_and_with_javascript,
        ),
        browser_trial(
            "screenshot_shows_the_coloured_matrix",
            &browser,
            screenshot_shows_the_coloured_matrix,
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}
