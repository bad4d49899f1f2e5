//! File-level loading: `load_file` and `load_paths`.

use netrepro_scenario::{load_file, load_paths, parse_str, ScenarioError};
use std::fs;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> String {
    format!(
        "name = \"{name}\"\nsummary = \"s\"\nactors = [\"a\"]\n[target]\nproto = \"tcp\"\n\
         [[steps]]\nactor = \"a\"\nop = \"connect\"\n\
         [expect.naive]\nserver = \"crashed\"\n[expect.hardened]\nserver = \"survived\"\n"
    )
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn names(v: &[netrepro_scenario::Scenario]) -> Vec<&str> {
    v.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn load_file_reads_and_records_path() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("one.toml");
    write(&f, &scenario("one"));
    let s = load_file(&f).unwrap();
    assert_eq!(s.name, "one");
    assert_eq!(s.path, f);
}

#[test]
fn load_file_invalid_utf8_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    fs::write(&f, b"name = \"x\"\nsummary = \"ab\xffcd\"\n").unwrap();
    let e = load_file(&f).unwrap_err();
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    assert!(e.message.contains("not valid UTF-8"), "{e}");
    assert!(e.message.contains("0xff"), "{e}");
}

#[test]
fn load_file_missing_file_has_no_location() {
    let e = load_file(Path::new("/definitely/not/here.toml")).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.message.contains("cannot read file"), "{e}");
    assert!(e
        .to_string()
        .starts_with("/definitely/not/here.toml: cannot read file"));
}

#[test]
fn load_paths_recurses_and_sorts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("b.toml"), &scenario("b"));
    write(&d.join("a.toml"), &scenario("a"));
    write(&d.join("sub/z/c.toml"), &scenario("c"));
    write(&d.join("sub/0.toml"), &scenario("zero"));
    write(&d.join("notes.txt"), "not a scenario");
    write(&d.join("sub/readme.md"), "not a scenario");
    let got = load_paths(&[d.to_path_buf()]).unwrap();
    assert_eq!(names(&got), ["a", "b", "zero", "c"]);
    assert_eq!(got[3].path, d.join("sub/z/c.toml"));
}

#[test]
fn load_paths_mixes_files_and_folders_in_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("x/2.toml"), &scenario("two"));
    write(&d.join("x/1.toml"), &scenario("one"));
    // A file given explicitly is loaded whatever its extension.
    write(&d.join("extra.scenario"), &scenario("extra"));
    let got = load_paths(&[d.join("extra.scenario"), d.join("x")]).unwrap();
    assert_eq!(names(&got), ["extra", "one", "two"]);
    // The same file reached twice is loaded once (not a duplicate name).
    let got = load_paths(&[d.join("x/1.toml"), d.join("x")]).unwrap();
    assert_eq!(names(&got), ["one", "two"]);
}

#[test]
fn load_paths_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("ok.toml"), &scenario("ok"));
    let missing = d.join("nope");
    let errs = load_paths(&[d.join("ok.toml"), missing.clone()]).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, missing);
    assert_eq!(errs[0].line, 0);
    assert!(errs[0].message.contains("no such file or directory"));
}

#[test]
fn load_paths_duplicate_names_name_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("a.toml"), &scenario("same"));
    write(&d.join("sub/b.toml"), &scenario("same"));
    let errs = load_paths(&[d.to_path_buf()]).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert_eq!(e.path, d.join("sub/b.toml"));
    assert_eq!((e.line, e.column), (1, 8));
    assert!(
        e.message.contains("duplicate scenario name \"same\""),
        "{e}"
    );
    assert!(
        e.message.contains(&d.join("a.toml").display().to_string()),
        "{e}"
    );
}

#[test]
fn load_paths_collects_all_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("1.toml"), "name = \"x\"\nbogus = 1\n");
    write(&d.join("2.toml"), &scenario("fine"));
    write(&d.join("3.toml"), "name = = \n");
    write(&d.join("4.toml"), &scenario("fine"));
    fs::write(d.join("5.toml"), b"\xfe").unwrap();
    let errs = load_paths(&[d.to_path_buf(), d.join("gone.toml")]).unwrap_err();
    let where_: Vec<(PathBuf, usize)> = errs.iter().map(|e| (e.path.clone(), e.line)).collect();
    assert_eq!(
        where_,
        [
            (d.join("1.toml"), 2),
            (d.join("3.toml"), 1),
            (d.join("4.toml"), 1),
            (d.join("5.toml"), 1),
            (d.join("gone.toml"), 0),
        ]
    );
}

#[test]
fn load_paths_empty_folder_is_empty_ok() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load_paths(&[dir.path().to_path_buf()]).unwrap(), []);
}

#[test]
fn display_is_path_line_col_message() {
    let e = ScenarioError {
        path: PathBuf::from("dir/s.toml"),
        line: 3,
        column: 7,
        message: "boom".into(),
    };
    assert_eq!(e.to_string(), "dir/s.toml:3:7: boom");
}

#[test]
fn deeply_nested_input_does_not_crash() {
    let src = format!("name = {}", "[".repeat(50_000));
    assert!(parse_str(&src, Path::new("deep.toml")).is_err());
    let src = format!("name = {}", "{ a = ".repeat(50_000));
    assert!(parse_str(&src, Path::new("deep.toml")).is_err());
}
