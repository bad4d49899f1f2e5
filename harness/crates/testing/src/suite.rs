//! [`Suite`]: which scenarios run against which targets with which
//! expectations, turned into [`Case`]s, and [`Suite::run`], the `main` of a
//! `harness = false` test file (one libtest-mimic trial per case, so cargo
//! test and nextest list, filter and report each one).

use crate::case::Case;
use crate::catalog;
use crate::target::{Target, TargetError};
use netrepro_runner::external::mode_skip;
use netrepro_runner::{RunConfig, Subject};
use netrepro_scenario::{load_paths, parse_str, Proto, Scenario, ScenarioError, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Scenarios, targets and expectations; see the [crate docs](crate) for a
/// complete test file.
///
/// Every scenario expects [`Verdict::Survived`] unless
/// [`Suite::expect_all`] or [`Suite::expect`] says otherwise.
#[derive(Debug, Clone)]
pub struct Suite {
    sources: Vec<Source>,
    targets: Vec<(String, Target)>,
    expect_all: Vec<Verdict>,
    expect: BTreeMap<String, Vec<Verdict>>,
    ready_timeout: Option<Duration>,
    proto: Option<Proto>,
}

#[derive(Debug, Clone)]
enum Source {
    /// The built-in catalog: all of it, or the named scenarios.
    Catalog(Option<Vec<String>>),
    /// The user's own scenario files or folders.
    Path(PathBuf),
}

/// Why a [`Suite`] cannot become tests. [`Suite::run`] prints it and exits
/// with status 2 before any test runs (nextest reports the binary as
/// failing to list its tests).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Scenario files that do not parse or validate (each with
    /// file:line:col and why).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Scenarios(Vec<ScenarioError>),
    /// [`Suite::catalog_only`] named a scenario the catalog does not have.
    #[error(
        "the built-in catalog has no scenario {0:?} (names look like \"tcp/rst-mid-request\")"
    )]
    NotInCatalog(String),
    /// [`Suite::expect`] named a scenario that is not in the suite.
    #[error("expect({0:?}, …): no scenario of the suite has that name (names look like \"tcp/rst-mid-request\")")]
    UnknownScenario(String),
    /// Two scenarios would give the same test name.
    #[error(
        "two scenarios are both named {0:?} (the catalog and your files, or two of your files)"
    )]
    Duplicate(String),
    /// A target's name is empty, contains `::`, or is used twice.
    #[error("target name {0:?}: it must be non-empty, unique and without \"::\"")]
    TargetName(String),
    /// No target was added.
    #[error("no target: add one with Suite::target")]
    NoTarget,
    /// No scenario was added.
    #[error("no scenarios: add Suite::catalog, Suite::catalog_only or Suite::path")]
    NoScenario,
    /// A target cannot be run.
    #[error("target {name:?}: {source}")]
    Target {
        /// The target's name.
        name: String,
        /// What is wrong with it.
        source: TargetError,
    },
}

impl Default for Suite {
    fn default() -> Suite {
        Suite::new()
    }
}

impl Suite {
    /// An empty suite: no scenarios, no targets, every scenario expects
    /// `survived`.
    pub fn new() -> Suite {
        Suite {
            sources: Vec::new(),
            targets: Vec::new(),
            expect_all: vec![Verdict::Survived],
            expect: BTreeMap::new(),
            ready_timeout: None,
            proto: None,
        }
    }

    /// Add every scenario of netrepro's built-in catalog (embedded in this
    /// crate when it was built). Scenarios of the mode the target is not
    /// (forward scenarios against an echo server and the other way round)
    /// are left out.
    pub fn catalog(mut self) -> Suite {
        self.sources.push(Source::Catalog(None));
        self
    }

    /// Add the named scenarios of the built-in catalog, by their path under
    /// `scenarios/` without `.toml` (`"tcp/rst-mid-request"`). A name the
    /// catalog does not have is a [`SetupError`].
    pub fn catalog_only<I, S>(mut self, names: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sources.push(Source::Catalog(Some(
            names.into_iter().map(Into::into).collect(),
        )));
        self
    }

    /// Add your own scenario files: a file, or a folder searched for
    /// `*.toml` recursively. A relative path is relative to the current
    /// directory, which cargo test and nextest set to your package's root.
    /// A scenario's test name is its path under the folder without `.toml`
    /// (a file given directly: its file stem).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Suite {
        self.sources.push(Source::Path(path.into()));
        self
    }

    /// Add a target, named in the tests as `<scenario>::<name>`. Several
    /// targets each run every scenario of their mode.
    pub fn target(mut self, name: impl Into<String>, target: Target) -> Suite {
        self.targets.push((name.into(), target));
        self
    }

    /// The verdicts accepted for every scenario without its own
    /// [`Suite::expect`] (default: `survived`).
    pub fn expect_all(mut self, verdicts: impl IntoIterator<Item = Verdict>) -> Suite {
        self.expect_all = verdicts.into_iter().collect();
        self
    }

    /// The verdicts accepted for one scenario, by its test name
    /// (`"tcp/slowloris"`), whatever [`Suite::expect_all`] says. A name that
    /// is not in the suite is a [`SetupError`].
    pub fn expect(
        mut self,
        scenario: impl Into<String>,
        verdicts: impl IntoIterator<Item = Verdict>,
    ) -> Suite {
        self.expect
            .insert(scenario.into(), verdicts.into_iter().collect());
        self
    }

    /// Run only the scenarios of this protocol (a TCP-only server and the
    /// whole catalog: `.catalog().proto(Proto::Tcp)`). Scenarios of the
    /// other protocol are left out, not failed.
    pub fn proto(mut self, proto: Proto) -> Suite {
        self.proto = Some(proto);
        self
    }

    /// How long a started target may take to be ready (print `LISTENING` or
    /// accept on its `{port}`); default 5 s.
    pub fn ready_timeout(mut self, timeout: Duration) -> Suite {
        self.ready_timeout = Some(timeout);
        self
    }

    /// Every case of the suite, in test-name order: each scenario against
    /// each target of its mode.
    pub fn cases(&self) -> Result<Vec<Case>, SetupError> {
        if self.targets.is_empty() {
            return Err(SetupError::NoTarget);
        }
        if self.sources.is_empty() {
            return Err(SetupError::NoScenario);
        }
        let scenarios = self.scenarios()?;
        if let Some(k) = self.expect.keys().find(|k| !scenarios.contains_key(*k)) {
            return Err(SetupError::UnknownScenario(k.clone()));
        }
        let mut names = BTreeSet::new();
        for (name, _) in &self.targets {
            if name.is_empty() || name.contains("::") || !names.insert(name) {
                return Err(SetupError::TargetName(name.clone()));
            }
        }
        // The runner's bounds; `server_program` only starts built-in
        // servers, which a suite never runs.
        let mut config = RunConfig::new(PathBuf::new());
        if let Some(t) = self.ready_timeout {
            config.ready_timeout = t;
        }
        let mut cases = Vec::new();
        for (key, sc) in &scenarios {
            if self.proto.is_some_and(|p| p != sc.target.proto) {
                continue;
            }
            let expect = self.expect.get(key).unwrap_or(&self.expect_all);
            for (name, target) in &self.targets {
                let ext = target
                    .external(expect.clone())
                    .map_err(|source| SetupError::Target {
                        name: name.clone(),
                        source,
                    })?;
                if mode_skip(sc, &ext).is_some() {
                    continue;
                }
                cases.push(Case {
                    name: format!("{key}::{name}"),
                    scenario: sc.clone(),
                    subject: Subject::External(ext),
                    config: config.clone(),
                });
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    }

    /// The suite's scenarios by test name.
    fn scenarios(&self) -> Result<BTreeMap<String, Scenario>, SetupError> {
        let mut out = BTreeMap::new();
        let mut add = |key: String, sc: Scenario| match out.insert(key.clone(), sc) {
            Some(_) => Err(SetupError::Duplicate(key)),
            None => Ok(()),
        };
        for source in &self.sources {
            match source {
                Source::Catalog(only) => {
                    if let Some(k) = only.iter().flatten().find(|k| {
                        !catalog::FILES
                            .iter()
                            .any(|(rel, _)| catalog::key(rel) == k.as_str())
                    }) {
                        return Err(SetupError::NotInCatalog(k.clone()));
                    }
                    for (rel, text) in catalog::FILES {
                        let key = catalog::key(rel);
                        if only.as_ref().is_some_and(|o| !o.iter().any(|k| k == key)) {
                            continue;
                        }
                        let sc = parse_str(text, &Path::new("scenarios").join(rel))
                            .map_err(|e| SetupError::Scenarios(vec![e]))?;
                        add(key.to_string(), sc)?;
                    }
                }
                Source::Path(root) => {
                    let loaded =
                        load_paths(std::slice::from_ref(root)).map_err(SetupError::Scenarios)?;
                    for sc in loaded {
                        let key = path_key(root, &sc.path);
                        add(key, sc)?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// The `main` of a `harness = false` test file: read the libtest
    /// arguments (what cargo test and nextest pass: filters, `--list`,
    /// `--exact`, …), run the cases as tests and exit with the result. A
    /// [`SetupError`] is printed and the process exits with status 2 before
    /// any test runs.
    pub fn run(self) -> ! {
        let args = libtest_mimic::Arguments::from_args();
        let cases = match self.cases() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("netrepro-testing: {e}");
                std::process::exit(2)
            }
        };
        let trials = cases
            .into_iter()
            .map(|case| {
                libtest_mimic::Trial::test(case.name.clone(), move || match case.run() {
                    Ok(p) => {
                        for n in &p.notes {
                            println!("note: {}", netrepro_sys::escape::terminal(n));
                        }
                        Ok(())
                    }
                    Err(f) => Err(f.to_string().into()),
                })
            })
            .collect();
        libtest_mimic::run(&args, trials).exit()
    }
}

/// The test name of a scenario loaded from `root`: its path under `root`
/// without the extension, with `/` separators; a file given as `root`
/// itself: its file stem.
fn path_key(root: &Path, file: &Path) -> String {
    let rel = match file.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r.with_extension(""),
        _ => PathBuf::from(file.file_stem().unwrap_or(file.as_os_str())),
    };
    rel.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo() -> Target {
        Target::command("srv --port {port}")
    }

    fn names(s: &Suite) -> Vec<String> {
        s.cases()
            .unwrap()
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    #[test]
    fn one_case_per_scenario_and_target_named_scenario_then_target() {
        let s = Suite::new()
            .catalog_only(["tcp/rst-mid-request", "tcp/idle-client"])
            .target("a", echo())
            .target("b", echo());
        assert_eq!(
            names(&s),
            [
                "tcp/idle-client::a",
                "tcp/idle-client::b",
                "tcp/rst-mid-request::a",
                "tcp/rst-mid-request::b"
            ]
        );
    }

    #[test]
    fn the_whole_catalog_runs_the_scenarios_of_the_targets_mode() {
        let echo_cases = names(&Suite::new().catalog().target("e", echo()));
        let fwd = Target::command("fwd {port} {upstream}");
        let fwd_cases = names(&Suite::new().catalog().target("f", fwd));
        assert!(echo_cases.iter().all(|n| !n.starts_with("forward/")));
        assert!(echo_cases.iter().any(|n| n.starts_with("udp/")));
        assert!(!fwd_cases.is_empty());
        assert!(fwd_cases.iter().all(|n| n.starts_with("forward/")));
        assert_eq!(
            echo_cases.len() + fwd_cases.len(),
            catalog::FILES.len(),
            "every catalog file is one mode or the other"
        );
    }

    #[test]
    fn proto_keeps_the_scenarios_of_one_protocol() {
        let all = names(&Suite::new().catalog().target("e", echo()));
        let tcp = names(&Suite::new().catalog().proto(Proto::Tcp).target("e", echo()));
        let udp = names(&Suite::new().catalog().proto(Proto::Udp).target("e", echo()));
        assert!(!tcp.is_empty() && tcp.iter().all(|n| n.starts_with("tcp/")));
        assert!(!udp.is_empty() && udp.iter().all(|n| n.starts_with("udp/")));
        assert_eq!(tcp.len() + udp.len(), all.len());
        // An expectation for a scenario the filter left out is no mistake.
        let s = Suite::new()
            .catalog()
            .proto(Proto::Udp)
            .target("e", echo())
            .expect("tcp/idle-client", [Verdict::Hung]);
        assert!(s.cases().is_ok());
    }

    #[test]
    fn expectations_apply_per_scenario_over_the_default() {
        let s = Suite::new()
            .catalog_only(["tcp/rst-mid-request", "tcp/idle-client"])
            .target("t", echo())
            .expect_all([Verdict::Survived, Verdict::Leaked])
            .expect("tcp/idle-client", [Verdict::Hung]);
        let expect: Vec<(String, Vec<Verdict>)> = s
            .cases()
            .unwrap()
            .into_iter()
            .map(|c| match c.subject {
                Subject::External(x) => (c.name, x.expect),
                Subject::Builtin(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            expect,
            [
                ("tcp/idle-client::t".to_string(), vec![Verdict::Hung]),
                (
                    "tcp/rst-mid-request::t".to_string(),
                    vec![Verdict::Survived, Verdict::Leaked]
                ),
            ]
        );
        // The default is survived.
        let s = Suite::new()
            .catalog_only(["tcp/idle-client"])
            .target("t", echo());
        match &s.cases().unwrap()[0].subject {
            Subject::External(x) => assert_eq!(x.expect, [Verdict::Survived]),
            Subject::Builtin(_) => unreachable!(),
        }
    }

    #[test]
    fn mistakes_are_setup_errors_before_any_test_runs() {
        let base = || Suite::new().catalog_only(["tcp/idle-client"]);
        let err = |s: Suite| s.cases().unwrap_err();
        assert!(matches!(err(base()), SetupError::NoTarget));
        assert!(matches!(
            err(Suite::new().target("t", echo())),
            SetupError::NoScenario
        ));
        assert!(matches!(
            err(Suite::new().catalog_only(["tcp/nope"]).target("t", echo())),
            SetupError::NotInCatalog(n) if n == "tcp/nope"
        ));
        assert!(matches!(
            err(base().target("t", echo()).expect("tcp/slowloris", [Verdict::Hung])),
            SetupError::UnknownScenario(n) if n == "tcp/slowloris"
        ));
        for bad in ["", "a::b"] {
            assert!(matches!(
                err(base().target(bad, echo())),
                SetupError::TargetName(_)
            ));
        }
        assert!(matches!(
            err(base().target("t", echo()).target("t", echo())),
            SetupError::TargetName(_)
        ));
        assert!(matches!(
            err(base().catalog_only(["tcp/idle-client"]).target("t", echo())),
            SetupError::Duplicate(n) if n == "tcp/idle-client"
        ));
    }

    #[test]
    fn your_own_files_are_named_by_their_path_under_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (_, text) = catalog::FILES
            .iter()
            .find(|(r, _)| *r == "tcp/idle-client.toml")
            .unwrap();
        std::fs::create_dir(dir.path().join("mine")).unwrap();
        let file = dir.path().join("mine/idle.toml");
        std::fs::write(&file, text).unwrap();
        let s = Suite::new().path(dir.path()).target("t", echo());
        assert_eq!(names(&s), ["mine/idle::t"]);
        let s = Suite::new().path(&file).target("t", echo());
        assert_eq!(names(&s), ["idle::t"]);
        // A broken file is an error with its location, not a skipped test.
        std::fs::write(dir.path().join("mine/broken.toml"), "name = 3\n").unwrap();
        let e = Suite::new().path(dir.path()).target("t", echo()).cases();
        match e {
            Err(SetupError::Scenarios(errs)) => {
                assert_eq!(errs.len(), 1);
                assert!(errs[0].to_string().contains("broken.toml"), "{}", errs[0]);
            }
            other => panic!("{other:?}"),
        }
    }
}
