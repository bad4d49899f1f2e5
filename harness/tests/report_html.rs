//! The HTML page in a real browser: Debian's headless Chromium loads the
//! generated file, once with JavaScript off (the matrix must be there) and
//! once with it on (the filter appears), and takes a screenshot whose
//! pixels must show the verdict colours. Skipped, with the reason printed,
//! only where no chromium is installed (.ci/run installs it on Linux).

use netrepro::report::matrix::{self, Matrix};
use netrepro::report::{html, load};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A matrix from the real Linux and Wine runs, plus hostile text where a
/// scenario file puts user input.
fn sample() -> Matrix {
    let inputs: Vec<_> = ["report-linux.json", "report-wine.json"]
        .iter()
        .map(|f| load::load(&fixture(f)).unwrap())
        .collect();
    let mut m = matrix::merge(&inputs, &[], "2026-01-01T00:00:00Z".into()).unwrap();
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
    let url = format!("file://{}", p.display());
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
    format!("file://{}", nojs.display())
}

#[test]
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

#[test]
fn matrix_renders_in_headless_chromium_without_and_with_javascript() {
    let Some(exe) = chromium() else {
        println!("SKIPPED: no chromium on PATH (apt-get install chromium; .ci/run does)");
        return;
    };
    let (dir, url, m) = page();
    // Without JavaScript: the matrix is all there, the filter stays hidden.
    // (--dump-dom and --screenshot need scripting in headless Chromium, so
    // "JS off" is the page with its script removed.)
    let dom = run_chromium(&exe, &["--dump-dom".into()], &without_script(dir.path()));
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
    let dom = run_chromium(&exe, &["--dump-dom".into()], &url);
    assert!(dom.contains("<form id=\"filters\">"), "filter not revealed");
    assert!(
        dom.contains(&format!("{} scenario(s) shown", m.rows.len())),
        "filter script did not run"
    );
}

#[test]
fn screenshot_shows_the_coloured_matrix() {
    let Some(exe) = chromium() else {
        println!("SKIPPED: no chromium on PATH (apt-get install chromium; .ci/run does)");
        return;
    };
    let (dir, _, _) = page();
    // Script removed: the colours must not depend on JavaScript.
    let url = without_script(dir.path());
    let png_path = dir.path().join("shot.png");
    run_chromium(
        &exe,
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
