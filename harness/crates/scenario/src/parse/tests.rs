//! Whole files through the entry points: a scenario using every section
//! parses to the model expected, the ways a file can fail before
//! validation (empty, not TOML) are located, and no input makes the parser
//! panic or report a place outside the file.

use super::test_support::{assert_located, p};
use super::*;
use crate::model::*;
use proptest::prelude::*;
use rstest::rstest;
use std::collections::BTreeMap;

const VALID: &str = r#"name = "tcp-rst-mid-echo"
summary = "Clients abort with RST while the server echoes"
refs = ["https://example.com/issue/1", "https://example.com/issue/2"]
timeout_ms = 15000

[target]
proto = "tcp"
bind = "127.0.0.2"
max_fds = 64

actors = ["a", "b_2"]
groups = { crowd = 50, alpha = 2 }

[[steps]]
actor = "a"
op = "connect"

[[steps]]
actor = "crowd"
op = "connect"

[[steps]]
actor = "a"
op = "send"
text = "hello"

[[steps]]
actor = "crowd"
op = "send"
bytes = 4096

[[steps]]
op = "wait"
ms = 200

[[steps]]
actor = "a"
op = "recv"
id = "first-read"
bytes = 5
timeout_ms = 2000

[[steps]]
actor = "crowd"
op = "abort"

[[steps]]
actor = "b_2"
op = "connect"

[[steps]]
actor = "b_2"
op = "shutdown"
how = "write"

[[steps]]
actor = "b_2"
op = "recv"
id = "b-eof"
until = "eof"

[[steps]]
actor = "a"
op = "recv"

[[steps]]
actor = "a"
op = "close"

[expect.naive]
server = ["crashed", "hung"]
server_errors = ["reset", "ECONNRESET"]
steps = { first-read = ["ok", "reset"], b-eof = "eof" }

[expect.naive.windows]
server_errors = ["WSAECONNRESET"]

[expect.naive.macos]
server = "leaked"

[expect.hardened]
server = "survived"
"#;

#[test]
fn valid_scenario_round_trips() {
    let s = parse_str(VALID, &p()).unwrap();
    let step = |id: Option<&str>, actor: &str, op: Op, line: usize| Step {
        id: id.map(str::to_owned),
        actor: actor.to_owned(),
        op,
        parallel: false,
        line,
    };
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let expected = Scenario {
        path: p(),
        name: "tcp-rst-mid-echo".into(),
        summary: "Clients abort with RST while the server echoes".into(),
        refs: strs(&["https://example.com/issue/1", "https://example.com/issue/2"]),
        target: TargetSpec {
            proto: Proto::Tcp,
            mode: Mode::Echo,
            bind: "127.0.0.2".into(),
            options: ServerOptions {
                ip_recverr: false,
                reply_delay_ms: None,
                idle_timeout_ms: None,
                max_fds: Some(64),
            },
            netns: false,
            upstream: Default::default(),
        },
        actors: vec![
            Actor {
                name: "a".into(),
                kind: ActorKind::Client,
                count: 1,
            },
            Actor {
                name: "b_2".into(),
                kind: ActorKind::Client,
                count: 1,
            },
            Actor {
                name: "crowd".into(),
                kind: ActorKind::Client,
                count: 50,
            },
            Actor {
                name: "alpha".into(),
                kind: ActorKind::Client,
                count: 2,
            },
        ],
        steps: vec![
            step(
                None,
                "a",
                Op::Connect {
                    to: None,
                    timeout_ms: None,
                },
                14,
            ),
            step(
                None,
                "crowd",
                Op::Connect {
                    to: None,
                    timeout_ms: None,
                },
                18,
            ),
            step(
                None,
                "a",
                Op::Send {
                    to: None,
                    payload: Payload::Text("hello".into()),
                    timeout_ms: None,
                },
                22,
            ),
            step(
                None,
                "crowd",
                Op::Send {
                    to: None,
                    payload: Payload::Bytes(4096),
                    timeout_ms: None,
                },
                27,
            ),
            step(None, "", Op::Wait { ms: 200 }, 32),
            step(
                Some("first-read"),
                "a",
                Op::Recv {
                    mode: RecvMode::Exact(5),
                    timeout_ms: 2000,
                },
                36,
            ),
            step(None, "crowd", Op::Abort, 43),
            step(
                None,
                "b_2",
                Op::Connect {
                    to: None,
                    timeout_ms: None,
                },
                47,
            ),
            step(
                None,
                "b_2",
                Op::Shutdown {
                    how: ShutdownHow::Write,
                },
                51,
            ),
            step(
                Some("b-eof"),
                "b_2",
                Op::Recv {
                    mode: RecvMode::Eof,
                    timeout_ms: limits::DEFAULT_RECV_TIMEOUT_MS,
                },
                56,
            ),
            step(
                None,
                "a",
                Op::Recv {
                    mode: RecvMode::Any,
                    timeout_ms: limits::DEFAULT_RECV_TIMEOUT_MS,
                },
                62,
            ),
            step(None, "a", Op::Close, 66),
        ],
        expect: BTreeMap::from([
            (
                Impl::Naive,
                ImplExpectations {
                    base: PartialExpectation {
                        server: Some(vec![Verdict::Crashed, Verdict::Hung]),
                        server_errors: Some(strs(&["reset", "ECONNRESET"])),
                        steps: Some(BTreeMap::from([
                            ("first-read".to_string(), strs(&["ok", "reset"])),
                            ("b-eof".to_string(), strs(&["eof"])),
                        ])),
                        observed: None,
                    },
                    per_os: BTreeMap::from([
                        (
                            ExpectKey::Windows,
                            PartialExpectation {
                                server_errors: Some(strs(&["WSAECONNRESET"])),
                                ..Default::default()
                            },
                        ),
                        (
                            ExpectKey::Macos,
                            PartialExpectation {
                                server: Some(vec![Verdict::Leaked]),
                                ..Default::default()
                            },
                        ),
                    ]),
                },
            ),
            (
                Impl::Hardened,
                ImplExpectations {
                    base: PartialExpectation {
                        server: Some(vec![Verdict::Survived]),
                        ..Default::default()
                    },
                    per_os: BTreeMap::new(),
                },
            ),
        ]),
        repeats: Vec::new(),
        sockopts: BTreeMap::new(),
        timeout_ms: 15000,
    };
    assert_eq!(s, expected);
    let win = s.expect[&Impl::Naive].resolve(Platform {
        os: Os::Windows,
        wine: false,
    });
    assert_eq!(win.server, vec![Verdict::Crashed, Verdict::Hung]);
    assert_eq!(win.server_errors, strs(&["WSAECONNRESET"]));
}

const FORWARD: &str = r#"name = "fwd-upstream-rst"
summary = "Upstream resets while a client is connected"
[target]
proto = "tcp"
mode = "forward"
bind = "::1"
actors = ["c"]
[[steps]]
actor = "c"
op = "connect"
[[steps]]
actor = "upstream"
op = "accept"
[[steps]]
actor = "upstream"
op = "abort"
[expect.naive]
server = "crashed"
[expect.hardened]
server = "survived"
"#;

#[test]
fn forward_mode_has_implicit_upstream_and_defaults() {
    let s = parse_str(FORWARD, &p()).unwrap();
    assert_eq!(s.target.mode, Mode::Forward);
    assert_eq!(s.target.bind, "::1");
    assert_eq!(s.timeout_ms, limits::DEFAULT_SCENARIO_TIMEOUT_MS);
    assert_eq!(
        s.actors.last(),
        Some(&Actor {
            name: "upstream".into(),
            kind: ActorKind::Upstream,
            count: 1
        })
    );
    assert_eq!(s.steps[1].op, Op::Accept);
    assert_eq!(s.steps[1].line, 11);
    assert!(s.refs.is_empty());
}

#[test]
fn udp_scenario_with_recverr() {
    let src = r#"name = "udp-icmp"
summary = "x"
actors = ["u"]
steps = [
  { actor = "u", op = "bind" },
  { actor = "u", op = "send", bytes = 65507 },
  { actor = "u", op = "recv", bytes = 10, id = "r" },
]
[target]
proto = "udp"
ip_recverr = true
[expect.naive]
server = "survived"
steps = { r = ["timeout", "refused", "message-size"] }
[expect.hardened]
server = "survived"
"#;
    let s = parse_str(src, &p()).unwrap();
    assert!(s.target.options.ip_recverr);
    assert_eq!(s.steps.len(), 3);
    assert_eq!(s.steps[2].line, 7);
    assert_eq!(
        s.steps[2].op,
        Op::Recv {
            mode: RecvMode::Exact(10),
            timeout_ms: 1000
        }
    );
}

#[rstest]
#[case::toml_syntax_error(
    "name = \"x\"\nsummary = \"y\"\nproto = = 3\n".to_string(), 3, 9, "invalid TOML")]
#[case::duplicate_toml_key(
    "name = \"x\"\nname = \"y\"\n".to_string(), 2, 1, "invalid TOML")]
#[case::empty_file("".to_string(), 1, 1, "empty file")]
#[case::whitespace_file("\n  \n".to_string(), 1, 1, "empty file")]
fn bad_input_is_located(
    #[case] src: String,
    #[case] line: usize,
    #[case] column: usize,
    #[case] phrase: &str,
) {
    assert_located(&src, line, column, phrase);
}

/// Delete or duplicate some lines of the valid file.
fn mutate(src: &str, ops: &[(bool, usize)]) -> String {
    let mut lines: Vec<&str> = src.lines().collect();
    for &(dup, i) in ops {
        if lines.is_empty() {
            break;
        }
        let i = i % lines.len();
        if dup {
            lines.insert(i, lines[i]);
        } else {
            lines.remove(i);
        }
    }
    lines.join("\n")
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(src in "\\PC*") {
        let _ = parse_str(&src, &p());
    }

    #[test]
    fn never_panics_on_toml_like_text(src in "[a-z_\\[\\]=\" .{},0-9\n-]{0,200}") {
        let _ = parse_str(&src, &p());
    }

    #[test]
    fn never_panics_on_mutated_valid_files(
        ops in proptest::collection::vec((any::<bool>(), any::<usize>()), 1..6),
        which in any::<bool>(),
    ) {
        let base = if which { VALID } else { FORWARD };
        let src = mutate(base, &ops);
        if let Err(e) = parse_str(&src, &p()) {
            prop_assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e}");
            prop_assert!(e.line <= src.lines().count() + 1, "line out of range: {e}");
        }
    }
}
