//! `Scenario` -> TOML text in the documented file format, such that
//! `parse_str(to_toml(s))` gives back `s` (except `path` and step `line`s,
//! which belong to the file). Used by `explore` to write the minimal failing
//! sequence as a scenario file. Only built-in expectations are written (the
//! only ones a file can hold); a missing naive or hardened one is written
//! as "unknown", a missing naive-seq one stays absent (it is optional).

use crate::model::*;
use std::fmt::Write as _;

/// A TOML string literal (escaped as TOML requires).
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn verdicts(v: &[Verdict]) -> String {
    match v {
        [] => q("unknown"),
        [one] => q(one.as_str()),
        many => list(
            &many
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
    }
}

fn steps_table(m: &std::collections::BTreeMap<String, Vec<Matcher>>) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{} = {}", q(k), list(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn partial(out: &mut String, p: &PartialExpectation, base: bool) {
    match (&p.server, base) {
        (Some(s), _) => writeln!(out, "server = {}", verdicts(s)).unwrap(),
        (None, true) => writeln!(out, "server = {}", q("unknown")).unwrap(),
        (None, false) => {}
    }
    if let Some(e) = &p.server_errors {
        writeln!(out, "server_errors = {}", list(e)).unwrap();
    }
    if let Some(st) = &p.steps {
        writeln!(out, "steps = {}", steps_table(st)).unwrap();
    }
    if let Some(o) = &p.observed {
        writeln!(out, "observed = {}", observed(o)).unwrap();
    }
}

/// `{ os_version = "…", arch = "…", wine = "…", netrepro = "…", date = "…" }`,
/// the optional keys only when set (as `netrepro bless` writes it).
pub fn observed(o: &Observed) -> String {
    let mut parts = vec![format!("os_version = {}", q(&o.os_version))];
    if let Some(a) = &o.arch {
        parts.push(format!("arch = {}", q(a)));
    }
    if let Some(w) = &o.wine {
        parts.push(format!("wine = {}", q(w)));
    }
    parts.push(format!("netrepro = {}", q(&o.netrepro)));
    parts.push(format!("date = {}", q(&o.date)));
    format!("{{ {} }}", parts.join(", "))
}

fn step(out: &mut String, s: &Step, header: &str) {
    writeln!(out, "\n{header}").unwrap();
    if let Some(id) = &s.id {
        writeln!(out, "id = {}", q(id)).unwrap();
    }
    if !s.op.is_scenario_level() {
        writeln!(out, "actor = {}", q(&s.actor)).unwrap();
    }
    writeln!(out, "op = {}", q(s.op.name())).unwrap();
    if s.parallel {
        writeln!(out, "parallel = true").unwrap();
    }
    match &s.op {
        Op::Send {
            payload,
            to,
            timeout_ms,
        } => {
            if let Some(to) = to {
                writeln!(out, "to = {}", q(&to.as_text())).unwrap();
            }
            match payload {
                Payload::Bytes(n) => writeln!(out, "bytes = {n}").unwrap(),
                Payload::Text(t) => writeln!(out, "text = {}", q(t)).unwrap(),
            }
            if let Some(ms) = timeout_ms {
                writeln!(out, "timeout_ms = {ms}").unwrap();
            }
        }
        Op::Recv { mode, timeout_ms } => {
            match mode {
                RecvMode::Exact(n) => writeln!(out, "bytes = {n}").unwrap(),
                RecvMode::Eof => writeln!(out, "until = \"eof\"").unwrap(),
                RecvMode::Any => {}
            }
            writeln!(out, "timeout_ms = {timeout_ms}").unwrap();
        }
        Op::Shutdown { how } => {
            let h = match how {
                ShutdownHow::Write => "write",
                ShutdownHow::Read => "read",
                ShutdownHow::Both => "both",
            };
            writeln!(out, "how = {}", q(h)).unwrap();
        }
        Op::Wait { ms } => writeln!(out, "ms = {ms}").unwrap(),
        Op::Blackhole { only: Some(o) } => writeln!(out, "only = {}", q(o.as_str())).unwrap(),
        Op::WaitReadable { timeout_ms } => writeln!(out, "timeout_ms = {timeout_ms}").unwrap(),
        Op::Netem(n) => {
            let keys = [
                ("delay_ms", n.delay_ms),
                ("loss_pct", n.loss_pct.map(u64::from)),
                ("duplicate_pct", n.duplicate_pct.map(u64::from)),
                ("reorder_pct", n.reorder_pct.map(u64::from)),
                ("rate_kbit", n.rate_kbit),
            ];
            for (k, v) in keys {
                if let Some(v) = v {
                    writeln!(out, "{k} = {v}").unwrap();
                }
            }
        }
        Op::Connect { to, timeout_ms } => {
            if let Some(to) = to {
                writeln!(out, "to = {}", q(&to.as_text())).unwrap();
            }
            if let Some(ms) = timeout_ms {
                writeln!(out, "timeout_ms = {ms}").unwrap();
            }
        }
        _ => {}
    }
}

/// One actor's `[sockopts.<actor>]` (actor names are bare-key safe).
fn sockopts(out: &mut String, actor: &str, o: &SockOpts) {
    writeln!(out, "\n[sockopts.{actor}]").unwrap();
    let numbers = [("rcvbuf", o.rcvbuf), ("sndbuf", o.sndbuf)];
    for (k, v) in numbers {
        if let Some(v) = v {
            writeln!(out, "{k} = {v}").unwrap();
        }
    }
    if let Some(v) = o.nodelay {
        writeln!(out, "nodelay = {v}").unwrap();
    }
    if let Some(v) = o.linger_s {
        writeln!(out, "linger_s = {v}").unwrap();
    }
    if let Some(k) = o.keepalive {
        let parts: Vec<String> = [
            ("idle_s", k.idle_s),
            ("interval_s", k.interval_s),
            ("count", k.count),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
        .collect();
        writeln!(out, "keepalive = {{ {} }}", parts.join(", ")).unwrap();
    }
    if let Some(ip) = o.source {
        writeln!(out, "source = {}", q(&ip.to_string())).unwrap();
    }
}

/// The scenario as a TOML file, preceded by `header` as `#` comment lines.
pub fn to_toml(sc: &Scenario, header: &[String]) -> String {
    let mut out = String::new();
    for h in header {
        for line in h.lines() {
            writeln!(out, "# {line}").unwrap();
        }
    }
    writeln!(out, "name = {}", q(&sc.name)).unwrap();
    writeln!(out, "summary = {}", q(&sc.summary)).unwrap();
    if !sc.refs.is_empty() {
        writeln!(out, "refs = [").unwrap();
        for r in &sc.refs {
            writeln!(out, "  {},", q(r)).unwrap();
        }
        writeln!(out, "]").unwrap();
    }
    writeln!(out, "timeout_ms = {}", sc.timeout_ms).unwrap();
    // Top-level keys must come before the first table header.
    let clients = sc.actors.iter().filter(|a| a.kind == ActorKind::Client);
    let singles: Vec<String> = clients
        .clone()
        .filter(|a| a.count == 1)
        .map(|a| a.name.clone())
        .collect();
    let groups: Vec<String> = clients
        .filter(|a| a.count != 1)
        .map(|a| format!("{} = {}", q(&a.name), a.count))
        .collect();
    if !singles.is_empty() {
        writeln!(out, "actors = {}", list(&singles)).unwrap();
    }
    if !groups.is_empty() {
        writeln!(out, "groups = {{ {} }}", groups.join(", ")).unwrap();
    }

    let t = &sc.target;
    out.push_str("\n[target]\n");
    writeln!(out, "proto = {}", q(t.proto.as_str())).unwrap();
    writeln!(out, "mode = {}", q(t.mode.as_str())).unwrap();
    writeln!(out, "bind = {}", q(&t.bind)).unwrap();
    if t.options.ip_recverr {
        writeln!(out, "ip_recverr = true").unwrap();
    }
    if let Some(n) = t.options.max_fds {
        writeln!(out, "max_fds = {n}").unwrap();
    }
    if let Some(n) = t.options.reply_delay_ms {
        writeln!(out, "reply_delay_ms = {n}").unwrap();
    }
    if let Some(n) = t.options.idle_timeout_ms {
        writeln!(out, "idle_timeout_ms = {n}").unwrap();
    }
    if t.netns {
        writeln!(out, "netns = true").unwrap();
    }
    if t.upstream != UpstreamBehaviour::Scripted {
        writeln!(out, "upstream = {}", q(t.upstream.as_str())).unwrap();
    }
    for (actor, o) in &sc.sockopts {
        sockopts(&mut out, actor, o);
    }

    // Steps in order; a repeat block is one `[[steps]]` with `repeat = N`
    // followed by its steps as `[[steps.do]]`.
    let mut i = 0;
    while i < sc.steps.len() {
        match sc.repeats.iter().find(|r| r.first == i) {
            Some(r) => {
                writeln!(out, "\n[[steps]]\nrepeat = {}", r.times).unwrap();
                for s in &sc.steps[r.first..r.first + r.len] {
                    step(&mut out, s, "[[steps.do]]");
                }
                i = r.first + r.len.max(1);
            }
            None => {
                step(&mut out, &sc.steps[i], "[[steps]]");
                i += 1;
            }
        }
    }

    for imp in Impl::ALL {
        // [expect.naive-seq] is optional: absent stays absent.
        if imp == Impl::NaiveSeq && !sc.expect.contains_key(&imp) {
            continue;
        }
        let e = sc.expect.get(&imp).cloned().unwrap_or_default();
        writeln!(out, "\n[expect.{}]", imp.as_str()).unwrap();
        partial(&mut out, &e.base, true);
        for (key, p) in &e.per_os {
            writeln!(out, "[expect.{}.{}]", imp.as_str(), key.as_str()).unwrap();
            partial(&mut out, p, false);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate as gen;
    use proptest::prelude::*;
    use std::path::Path;

    /// What a file can carry: everything but the path and step lines.
    fn normalised(mut s: Scenario) -> Scenario {
        s.path = "x.toml".into();
        for st in &mut s.steps {
            st.line = 0;
        }
        for r in &mut s.repeats {
            r.line = 0;
        }
        s
    }

    fn round_trip(s: &Scenario) -> Scenario {
        let text = to_toml(s, &["a header".into()]);
        match crate::parse_str(&text, Path::new("x.toml")) {
            Ok(back) => normalised(back),
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    #[test]
    fn shipped_scenarios_round_trip() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scenarios");
        let all = crate::load_paths(&[dir]).expect("catalog loads");
        assert!(!all.is_empty());
        for s in all {
            assert_eq!(round_trip(&s), normalised(s.clone()), "{}", s.name);
        }
    }

    fn verdict() -> impl Strategy<Value = Verdict> {
        prop_oneof![
            Just(Verdict::Survived),
            Just(Verdict::Hung),
            Just(Verdict::Crashed),
            Just(Verdict::Leaked),
            Just(Verdict::Busy),
            Just(Verdict::Rejecting)
        ]
    }

    fn partial(base: bool) -> impl Strategy<Value = PartialExpectation> {
        let server = prop::collection::btree_set(verdict(), 0..3)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        let server = if base {
            server.prop_map(Some).boxed()
        } else {
            prop::option::of(server).boxed()
        };
        let matcher = prop::sample::select(vec![
            "ok",
            "eof",
            "reset",
            "ECONNRESET",
            "WSAECONNRESET",
            "timeout",
        ])
        .prop_map(String::from);
        (
            server,
            prop::option::of(prop::collection::vec(matcher, 1..3)),
        )
            .prop_map(|(server, server_errors)| PartialExpectation {
                server,
                server_errors,
                steps: None,
                observed: None,
            })
    }

    fn expectations() -> impl Strategy<Value = ImplExpectations> {
        (
            partial(true),
            prop::option::of(partial(false)),
            prop::option::of(partial(false)),
        )
            .prop_map(|(base, win, wine)| {
                let mut per_os = std::collections::BTreeMap::new();
                if let Some(w) = win {
                    per_os.insert(ExpectKey::Windows, w);
                }
                if let Some(w) = wine {
                    per_os.insert(ExpectKey::Wine, w);
                }
                let mut e = ImplExpectations { base, per_os };
                // A marker wherever the cell is known (the parser refuses
                // one on an unknown cell).
                for key in [ExpectKey::Windows, ExpectKey::Wine] {
                    let known = !e.resolve(key.platform()).server.is_empty();
                    if let (true, Some(p)) = (known, e.per_os.get_mut(&key)) {
                        p.observed = Some(Observed {
                            os_version: "Windows 10.0.20348 \"LTSC\"".into(),
                            arch: (key == ExpectKey::Windows).then(|| "x86_64".into()),
                            wine: (key == ExpectKey::Wine).then(|| "8.0".into()),
                            netrepro: "0.1.0".into(),
                            date: "2026-11-26".into(),
                        });
                    }
                }
                e
            })
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        let target = prop_oneof![
            (
                any::<bool>(),
                prop::option::of(16u64..4096),
                prop::option::of(0u64..500)
            )
                .prop_map(|(ip_recverr, max_fds, reply_delay_ms)| TargetSpec {
                    proto: Proto::Udp,
                    mode: Mode::Echo,
                    bind: "127.0.0.1".into(),
                    options: ServerOptions {
                        ip_recverr,
                        max_fds,
                        reply_delay_ms,
                        idle_timeout_ms: None,
                    },
                    netns: false,
                    upstream: Default::default(),
                }),
            (
                any::<bool>(),
                prop::option::of(16u64..4096),
                prop::option::of(1u64..60_000),
                any::<bool>(),
            )
                .prop_map(|(fwd, max_fds, idle_timeout_ms, netns)| TargetSpec {
                    proto: Proto::Tcp,
                    mode: if fwd { Mode::Forward } else { Mode::Echo },
                    bind: "::1".into(),
                    options: ServerOptions {
                        ip_recverr: false,
                        max_fds,
                        reply_delay_ms: None,
                        idle_timeout_ms,
                    },
                    netns,
                    upstream: Default::default(),
                }),
        ];
        (
            target,
            "[a-z0-9-]{1,20}",
            "[a-z][ -~\u{e9}\"\\\\\n]{0,40}",
            prop::collection::vec("[ -~]{0,30}", 0..3),
            1u64..100_000,
            expectations(),
            expectations(),
        )
            .prop_flat_map(|(t, name, summary, refs, timeout_ms, naive, hardened)| {
                gen::steps(t.proto, t.mode, 8).prop_map(move |steps| {
                    let mut s = gen::scenario_for(steps, &t, &name);
                    s.summary = summary.clone();
                    s.refs = refs.clone();
                    s.timeout_ms = timeout_ms;
                    s.expect.insert(Impl::Naive, naive.clone());
                    s.expect.insert(Impl::Hardened, hardened.clone());
                    normalised(s)
                })
            })
    }

    #[test]
    fn link_fault_steps_round_trip() {
        let src = "name = \"x\"\nsummary = \"y\"\nactors = [\"c\"]\n[target]\nproto = \"tcp\"\nnetns = true\n\
            [[steps]]\nactor = \"c\"\nop = \"connect\"\n\
            [[steps]]\nop = \"netem\"\ndelay_ms = 20\nloss_pct = 5\nduplicate_pct = 1\nreorder_pct = 25\nrate_kbit = 800\n\
            [[steps]]\nactor = \"c\"\nop = \"blackhole\"\n\
            [[steps]]\nactor = \"c\"\nop = \"blackhole\"\nonly = \"fin\"\n\
            [[steps]]\nop = \"heal\"\n\
            [expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n";
        let s = normalised(crate::parse_str(src, Path::new("x.toml")).unwrap());
        assert!(s.target.netns);
        assert_eq!(
            s.steps[1].op,
            Op::Netem(crate::model::Netem {
                delay_ms: Some(20),
                loss_pct: Some(5),
                duplicate_pct: Some(1),
                reorder_pct: Some(25),
                rate_kbit: Some(800),
            })
        );
        assert_eq!(s.steps[2].op, Op::Blackhole { only: None });
        assert_eq!(
            s.steps[3].op,
            Op::Blackhole {
                only: Some(crate::model::BlackholeOnly::Fin)
            }
        );
        assert_eq!(s.steps[4].op, Op::Heal);
        assert_eq!(round_trip(&s), s);
    }

    #[test]
    fn upstream_behaviours_round_trip() {
        for b in UpstreamBehaviour::ALL {
            let src = format!(
                "name = \"x\"\nsummary = \"y\"\nactors = [\"c\"]\n[target]\nproto = \"tcp\"\nmode = \"forward\"\nupstream = \"{}\"\n\
                 [[steps]]\nactor = \"c\"\nop = \"connect\"\n\
                 [expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n",
                b.as_str()
            );
            let s = normalised(crate::parse_str(&src, Path::new("x.toml")).unwrap());
            assert_eq!(s.target.upstream, b);
            assert_eq!(round_trip(&s), s);
        }
    }

    #[test]
    fn sockopts_round_trip() {
        let src = "name = \"x\"\nsummary = \"y\"\nactors = [\"c\", \"d\"]\ngroups = { g = 2 }\n\
            [target]\nproto = \"tcp\"\n\
            [sockopts.c]\nrcvbuf = 4096\nsndbuf = 2048\nnodelay = false\nlinger_s = 0\n\
            keepalive = { idle_s = 9, count = 2 }\nsource = \"127.0.0.3\"\n\
            [sockopts.g]\nkeepalive = {}\n\
            [[steps]]\nactor = \"c\"\nop = \"connect\"\n\
            [expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n";
        let s = normalised(crate::parse_str(src, Path::new("x.toml")).unwrap());
        assert_eq!(s.sockopts.len(), 2);
        assert_eq!(s.sockopts["c"].keepalive.and_then(|k| k.interval_s), None);
        assert_eq!(s.sockopts["c"].keepalive.and_then(|k| k.count), Some(2));
        assert_eq!(round_trip(&s), s);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn written_scenarios_parse_back_identically(s in scenario()) {
            prop_assert_eq!(round_trip(&s), s);
        }
    }
}
