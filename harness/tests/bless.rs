//! `netrepro bless` as a user runs it, on copies of scenario files (see
//! tests/fixtures/bless/README.md for where the reports come from):
//!
//! - the Wine runs of the current catalog reproduce its `wine` cells
//!   exactly: blessing them into a pristine copy changes no byte (every
//!   cell they agree with carries their `observed` mark already), and the
//!   cells bless wrote, stripped back to `unknown` and unmarked, come back
//!   byte for byte;
//! - a synthetic Windows report writes `windows` cells and nothing else
//!   (snapshot of the diff), marks the cells it agrees with observed, lists
//!   the cited cell it contradicts with the scenario's refs and leaves it
//!   alone unless `--overwrite-cited`; the catalog table then says
//!   "observed (Windows …)" for those cells and "cited" for the rest;
//! - bad input exits 2, names the file and what is wrong, and writes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bless")
}

fn catalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn wine_run(n: u32) -> PathBuf {
    fixtures().join(format!("wine/run-{n}.json"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            // LF whatever the checkout did (git on Windows may write CRLF),
            // so every comparison here is of the same bytes on every OS.
            let bytes = std::fs::read(e.path()).unwrap();
            let text = String::from_utf8(bytes).unwrap().replace("\r\n", "\n");
            std::fs::write(dst, text).unwrap();
        }
    }
}

/// Every scenario file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p).unwrap().replace("\r\n", "\n");
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `netrepro bless ARGS…` run in `cwd` (where the reports' relative
/// `scenarios/…` paths resolve).
fn bless(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .arg("bless")
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The numbers of the summary line, by name ("agree", "filled", …).
fn summary(stdout: &str) -> BTreeMap<String, u64> {
    let line = stdout
        .lines()
        .find(|l| l.contains(" cell(s): "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let mut out = BTreeMap::new();
    let body = line.split(" cell(s): ").nth(1).unwrap();
    for part in body.split([',', ';']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            if let Ok(n) = n.parse() {
                out.insert(what.trim_end_matches("(s)").to_string(), n);
            }
        }
    }
    out
}

/// A pristine copy of the catalog in a temp dir, as `scenarios/`.
fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&catalog(), &dir.path().join("scenarios"));
    dir
}

/// The Wine runs the catalog's wine cells were blessed from, as arguments.
fn wine_runs() -> Vec<String> {
    (1..=6)
        .map(|n| wine_run(n).to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_wine_runs_reproduce_the_checked_in_wine_cells() {
    let want = files(&catalog());
    let dir = catalog_copy();
    let runs = wine_runs();
    let mut args = vec!["--accept"];
    args.extend(runs.iter().map(String::as_str));
    let out = bless(dir.path(), &args);
    let stdout = text(&out.stdout);
    // Not a byte written.
    assert_eq!(files(&dir.path().join("scenarios")), want, "{stdout}");
    let s = summary(&stdout);
    assert_eq!((s["filled"], s["rewritten"]), (0, 0), "{stdout}");
    // Every cell the runs observed was compared with the file.
    let mut cells = std::collections::BTreeSet::new();
    for run in &runs {
        let rep: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run).unwrap()).unwrap();
        for r in rep["results"].as_array().unwrap() {
            if r["status"] != "skipped" && !r["verdict"].is_null() && r["cut_short"].is_null() {
                cells.insert((r["scenario"]["name"].to_string(), r["impl"].to_string()));
            }
        }
    }
    assert!(cells.len() >= 80, "{}", cells.len());
    assert_eq!(
        s["agree"] + s["marked"] + s["disagreement"] + s["left"],
        cells.len() as u64,
        "{stdout}"
    );
    assert_eq!(s["marked"], 0, "{stdout}");
    // And every agreeing cell is marked observed under Wine.
    let mut marked = 0;
    for sc in netrepro_scenario::load_paths(&[catalog()]).unwrap() {
        for (imp, ie) in &sc.expect {
            if let netrepro_scenario::Provenance::Observed(o) =
                ie.provenance(netrepro_scenario::ExpectKey::Wine)
            {
                assert_eq!(o.wine.as_deref(), Some("8.0"), "{} [{imp:?}]", sc.name);
                marked += 1;
            }
        }
    }
    assert_eq!(marked as u64, s["agree"], "{stdout}");
    // Left unknown only where Wine cannot see the leak Linux shows, or
    // where a run was cut short by the scenario's timeout.
    for l in stdout.lines().filter(|l| l.starts_with("not filled")) {
        assert!(
            (l.contains("scenarios/forward/") && l.contains("[naive] wine"))
                || l.contains("scenarios/tcp/listen-overflow-storm.toml"),
            "{l}"
        );
    }
    // A disagreement (run 2 was made on a loaded machine) is listed with
    // the scenario's refs, exits 1, and is not written (above).
    if s["disagreement"] > 0 {
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("DISAGREES") && stdout.contains("    ref: https://"));
    } else {
        assert_eq!(out.status.code(), Some(0), "{stdout}");
    }
}

/// Set every cell bless wrote (its comment says "(netrepro bless)") back to
/// unknown, without its `observed` mark; returns how many.
fn strip_blessed(dir: &Path) -> usize {
    let mut n = 0;
    for (rel, src) in files(dir) {
        let mut out = Vec::new();
        let mut blessed = false;
        for line in src.split('\n') {
            if line.starts_with('[') {
                blessed = false;
            }
            if line.starts_with('#') && line.ends_with("(netrepro bless)") {
                blessed = true;
                n += 1;
            }
            let line = match line.split(" = ").next() {
                Some("server") if blessed => "server = \"unknown\"",
                Some("server_errors") if blessed => "server_errors = []",
                Some("steps") if blessed => "steps = {}",
                Some("observed") if blessed => continue,
                _ => line,
            };
            out.push(line);
        }
        std::fs::write(dir.join(rel), out.join("\n")).unwrap();
    }
    n
}

#[test]
fn the_cells_bless_wrote_come_back_byte_for_byte_from_the_wine_runs() {
    let dir = catalog_copy();
    let scen = dir.path().join("scenarios");
    let stripped = strip_blessed(&scen);
    assert!(
        stripped >= 30,
        "only {stripped} blessed cells in the catalog"
    );
    assert_ne!(files(&scen), files(&catalog()));
    let runs = wine_runs();
    let mut args = vec!["--accept"];
    args.extend(runs.iter().map(String::as_str));
    let out = bless(dir.path(), &args);
    let stdout = text(&out.stdout);
    assert_eq!(summary(&stdout)["filled"], stripped as u64, "{stdout}");
    let got = files(&scen);
    for (rel, want) in files(&catalog()) {
        assert_eq!(got[&rel], want, "{}:\n{stdout}", rel.display());
    }
}

/// The fixture scenarios and the synthetic Windows report, in a temp dir.
fn windows_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("scenarios"), &dir.path().join("scenarios"));
    std::fs::copy(
        fixtures().join("report-windows.json"),
        dir.path().join("report-windows.json"),
    )
    .unwrap();
    dir
}

/// The text without its `observed = …` lines.
fn unmarked(src: &str) -> String {
    src.split_inclusive('\n')
        .filter(|l| !l.starts_with("observed = "))
        .collect()
}

/// The text without its `[expect.<impl>.<os>]` tables.
fn without_os_tables(src: &str, os: &str) -> String {
    let header = format!(".{os}]");
    let mut skip = false;
    let mut out = String::new();
    for line in src.split_inclusive('\n') {
        if line.starts_with('[') {
            skip = line.starts_with("[expect.") && line.trim_end().ends_with(&header);
        }
        if !skip {
            out.push_str(line);
        }
    }
    // A table added at the end of a file brings a blank line before it.
    out.truncate(out.trim_end().len());
    out
}

#[test]
fn a_windows_report_writes_windows_cells_and_nothing_else() {
    let dir = windows_copy();
    let before = files(&dir.path().join("scenarios"));
    let preview = bless(dir.path(), &["report-windows.json"]);
    assert_eq!(preview.status.code(), Some(1), "{}", text(&preview.stderr));
    insta::assert_snapshot!(text(&preview.stdout));
    assert_eq!(
        files(&dir.path().join("scenarios")),
        before,
        "a preview writes nothing"
    );

    let out = bless(dir.path(), &["report-windows.json", "--accept"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let after = files(&dir.path().join("scenarios"));
    for (rel, was) in &before {
        assert_eq!(
            without_os_tables(&after[rel], "windows"),
            without_os_tables(was, "windows"),
            "{} changed outside its windows tables",
            rel.display()
        );
    }
    let windows = netrepro_scenario::Platform {
        os: netrepro_scenario::Os::Windows,
        wine: false,
    };
    let load = |rel: &str| netrepro_scenario::load_file(&dir.path().join(rel)).unwrap();
    // The unknown cell is filled, its known race kept from the base.
    let rst = load("scenarios/tcp/rst-mid-request.toml");
    let e = rst.expect[&netrepro_scenario::Impl::NaiveSeq].resolve(windows);
    assert_eq!(e.server, [netrepro_scenario::Verdict::Crashed]);
    assert_eq!(e.server_errors, ["reset"]);
    assert_eq!(e.steps["b-served"], ["reset", "eof", "skipped"]);
    // The uncited scenario's contradicted cell is rewritten in a new table.
    let own = load("scenarios/tcp/own-echo.toml");
    let e = own.expect[&netrepro_scenario::Impl::Naive].resolve(windows);
    assert_eq!(e.server, [netrepro_scenario::Verdict::Crashed]);
    assert_eq!(e.steps["b-served"], ["eof"]);
    // The cited one is not written; only the cells that agree are marked.
    let tribler = Path::new("udp/tribler-vanished-client.toml");
    assert_eq!(unmarked(&after[tribler]), before[tribler]);
    assert_ne!(after[tribler], before[tribler]);
    let t = load("scenarios/udp/tribler-vanished-client.toml");
    use netrepro_scenario::{ExpectKey, Impl, Provenance};
    assert_eq!(
        t.expect[&Impl::Naive].provenance(ExpectKey::Windows),
        Provenance::Cited
    );
    let Provenance::Observed(o) = t.expect[&Impl::Hardened].provenance(ExpectKey::Windows) else {
        panic!("an agreeing cell is marked observed");
    };
    assert_eq!(
        (o.os_version.as_str(), o.arch.as_deref(), o.wine.as_deref()),
        (
            "Windows Server 2022 Datacenter 10.0.20348",
            Some("x86_64"),
            None
        )
    );
    assert_eq!(
        (o.netrepro.as_str(), o.date.as_str()),
        ("0.1.0", "2026-11-26")
    );
    // Blessing again finds everything written in agreement, and marked.
    let again = bless(dir.path(), &["report-windows.json", "--accept"]);
    let s = summary(&text(&again.stdout));
    assert_eq!(
        (s["filled"], s["rewritten"], s["marked"]),
        (0, 0, 0),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(files(&dir.path().join("scenarios")), after);

    // The catalog table says which cells a run showed, and where.
    let list = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["list", "--markdown", "scenarios"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let md = text(&list.stdout);
    let row = |name: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| [{name}]")))
            .unwrap_or_else(|| panic!("no row {name} in:\n{md}"))
            .split(" | ")
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Columns: name, target, summary, then per impl linux, windows, macos, wine.
    let naive_windows = 4;
    let seq_windows = 8;
    let rst = row("tcp-rst-mid-request");
    let seen = "observed (Windows Server 2022 Datacenter 10.0.20348)";
    assert_eq!(rst[naive_windows], format!("survived (reset); {seen}"));
    assert_eq!(rst[seq_windows], format!("crashed (reset); {seen}"));
    assert_eq!(rst[naive_windows - 1], "survived (reset); cited");
    let tribler = row("tribler-vanished-client");
    assert_eq!(tribler[naive_windows], "crashed (reset); cited");
}

#[test]
fn a_contradicted_cited_cell_is_listed_with_refs_and_written_only_when_asked() {
    let dir = windows_copy();
    let tribler = dir
        .path()
        .join("scenarios/udp/tribler-vanished-client.toml");
    let was = std::fs::read_to_string(&tribler).unwrap();
    let out = bless(dir.path(), &["report-windows.json", "--accept"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    let at = stdout
        .find("DISAGREES  scenarios/udp/tribler-vanished-client.toml [naive] windows")
        .unwrap_or_else(|| panic!("{stdout}"));
    let listing = &stdout[at..];
    assert!(
        listing.contains("server: expected crashed, got survived"),
        "{listing}"
    );
    assert!(
        listing.contains("    ref: https://github.com/Tribler/tribler/issues/7972"),
        "{listing}"
    );
    // Only the marks of the cells the report agrees with are added.
    assert_eq!(unmarked(&std::fs::read_to_string(&tribler).unwrap()), was);

    let out = bless(
        dir.path(),
        &["report-windows.json", "--accept", "--overwrite-cited"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("rewritten  scenarios/udp/tribler-vanished-client.toml"));
    let sc = netrepro_scenario::load_file(&tribler).unwrap();
    let e = sc.expect[&netrepro_scenario::Impl::Naive].resolve(netrepro_scenario::Platform {
        os: netrepro_scenario::Os::Windows,
        wine: false,
    });
    assert_eq!(e.server, [netrepro_scenario::Verdict::Survived]);
    assert!(e.server_errors.is_empty());
}

#[test]
fn only_unknown_fills_unknown_cells_and_rewrites_none() {
    let dir = windows_copy();
    let own = dir.path().join("scenarios/tcp/own-echo.toml");
    let was = std::fs::read_to_string(&own).unwrap();
    let out = bless(
        dir.path(),
        &["report-windows.json", "--only", "unknown", "--accept"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("    kept: --only unknown"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&own).unwrap(), was);
    assert_eq!(summary(&stdout)["filled"], 1, "{stdout}");
    // Nothing but the filled cell is marked.
    assert_eq!(summary(&stdout)["marked"], 0, "{stdout}");

    let both = bless(
        dir.path(),
        &[
            "report-windows.json",
            "--only",
            "unknown",
            "--overwrite-cited",
        ],
    );
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn os_picks_the_cells_to_write() {
    let dir = windows_copy();
    let out = bless(dir.path(), &["report-windows.json", "--os", "macos"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("the macos cells (--os; the report ran as windows)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("filled     scenarios/tcp/rst-mid-request.toml [naive-seq] macos"),
        "{stdout}"
    );
}

/// Exit 2, stderr contains every `want`, and the scenario files are as they were.
fn input_error(dir: &Path, args: &[&str], want: &[&str]) {
    let scen = dir.join("scenarios");
    let before = scen.exists().then(|| files(&scen));
    let out = bless(dir, args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: expected {w:?} in: {err}");
    }
    assert_eq!(scen.exists().then(|| files(&scen)), before);
}

#[test]
fn bad_input_is_named_exits_2_and_writes_nothing() {
    let dir = windows_copy();
    let d = dir.path();
    input_error(
        d,
        &["no-such-report.json", "--accept"],
        &["no-such-report.json", "cannot read"],
    );
    // Schema version 1 (the older Linux sample).
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-linux.json");
    input_error(
        d,
        &[v1.to_str().unwrap(), "--accept"],
        &["report-linux.json", "schema version 1", "version 2 only"],
    );
    std::fs::write(
        d.join("torn.json"),
        "{\"schema_version\": 2, \"results\": [",
    )
    .unwrap();
    input_error(d, &["torn.json"], &["torn.json:1:", "not valid JSON"]);

    // A result for a scenario whose file is not there.
    std::fs::remove_file(d.join("scenarios/tcp/own-echo.toml")).unwrap();
    input_error(
        d,
        &["report-windows.json", "--accept"],
        &[
            "report-windows.json",
            "own-echo-after-abort",
            "scenarios/tcp/own-echo.toml",
            "does not exist",
        ],
    );
    // Not found by name under --scenarios.
    input_error(
        d,
        &[
            "report-windows.json",
            "--scenarios",
            "scenarios/udp",
            "--accept",
        ],
        &[
            "tcp-rst-mid-request",
            "no scenario of that name in scenarios/udp",
        ],
    );
    // A file that holds another scenario than the report's.
    std::fs::copy(
        d.join("scenarios/tcp/rst-mid-request.toml"),
        d.join("scenarios/tcp/own-echo.toml"),
    )
    .unwrap();
    input_error(
        d,
        &["report-windows.json", "--accept"],
        &[
            "own-echo-after-abort",
            "holds scenario \"tcp-rst-mid-request\"",
        ],
    );
    // A scenario whose steps changed since the report.
    let fresh = windows_copy();
    let rst = fresh.path().join("scenarios/tcp/rst-mid-request.toml");
    let src = std::fs::read_to_string(&rst).unwrap();
    let cut = src.replacen("[[steps]]\nactor = \"a\"\nop = \"abort\"\n", "", 1);
    assert_ne!(cut, src);
    std::fs::write(&rst, cut).unwrap();
    input_error(
        fresh.path(),
        &["report-windows.json", "--accept"],
        &[
            "tcp-rst-mid-request",
            "rst-mid-request.toml",
            "the scenario changed since the report was made",
        ],
    );
}

#[test]
fn a_matrix_is_not_a_report() {
    let dir = windows_copy();
    let m = dir.path().join("m.json");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["report", "merge", "report-windows.json", "-o"])
        .arg(&m)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    input_error(
        dir.path(),
        &["m.json"],
        &["m.json", "a behaviour matrix, not a run report"],
    );
}
