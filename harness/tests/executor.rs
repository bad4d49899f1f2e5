//! The client executor on real loopback sockets against small in-process
//! servers: repeated blocks (records per iteration, bounded by the scenario
//! timeout) and parallel group steps (members really run at once).

use netrepro_observe::StepOutcome;
use netrepro_runner::client::{repeat_notes, Session};
use netrepro_scenario::parse_str;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A TCP echo server on 127.0.0.1 for the duration of the test.
async fn echo_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Accepts and holds connections, never answering.
async fn silent_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    addr
}

fn scenario(body: &str) -> netrepro_scenario::Scenario {
    let src = format!(
        "name = \"t\"\nsummary = \"t\"\n{body}\n[expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n"
    );
    parse_str(&src, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_repeated_block_runs_n_times_and_records_each_iteration() {
    let sc = scenario(
        r#"[target]
proto = "tcp"
actors = ["a"]
[[steps]]
repeat = 5
[[steps.do]]
actor = "a"
op = "connect"
[[steps.do]]
actor = "a"
op = "send"
bytes = 10
[[steps.do]]
id = "echo"
actor = "a"
op = "recv"
bytes = 10
[[steps.do]]
actor = "a"
op = "abort"
[[steps]]
actor = "a"
op = "connect"
"#,
    );
    let mut session = Session::new(&sc, echo_server().await, None);
    let log = session.run(&sc).await;
    // 5 x 4 runs with one outcome per step: one record per step, the first
    // iteration as the example, the fifth as the last.
    assert_eq!(log.merged(), 5 * 4 - 4);
    let recs = log.into_records();
    assert_eq!(recs.len(), 4 + 1, "{recs:#?}");
    for (i, r) in recs[..4].iter().enumerate() {
        assert_eq!((r.index, r.iteration, r.runs), (i, 1, 5), "{r:?}");
        assert_eq!(r.last.map(|l| l.iteration), Some(5), "{r:?}");
        assert!(matches!(r.outcome, StepOutcome::Ok { .. }), "{r:?}");
    }
    let echo = &recs[2];
    assert_eq!(echo.id.as_deref(), Some("echo"));
    assert!(echo.outcome == StepOutcome::Ok { bytes: 10 } && echo.wanted == Some(10));
    // The step after the block is not part of it.
    assert_eq!((recs[4].index, recs[4].iteration, recs[4].runs), (4, 0, 1));
    assert_eq!(
        repeat_notes(&sc, &recs),
        vec!["repeat: the 4 step(s) at lines 8-20 ran 5 of 5 times".to_string()]
    );
}

#[tokio::test]
async fn the_scenario_timeout_bounds_a_long_repeat() {
    let sc = scenario(
        r#"timeout_ms = 300
[target]
proto = "tcp"
actors = ["a"]
[[steps]]
repeat = 1000
[[steps.do]]
op = "wait"
ms = 20
[[steps]]
actor = "a"
op = "connect"
"#,
    );
    let started = Instant::now();
    let mut session = Session::new(&sc, echo_server().await, None);
    let recs = session.run(&sc).await.into_records();
    assert!(started.elapsed() < Duration::from_secs(2));
    // About 15 waits fit into 300 ms; the rest of the block is not run.
    assert!(recs.len() < 40, "{} records", recs.len());
    let last = recs.last().unwrap();
    assert!(
        matches!(last.outcome, StepOutcome::Skipped { .. }),
        "{last:?}"
    );
    let note = &repeat_notes(&sc, &recs)[0];
    assert!(
        note.ends_with("of 1000 times") && !note.contains("ran 1000"),
        "{note}"
    );
}

#[tokio::test]
async fn parallel_members_run_at_once() {
    let sc = scenario(
        r#"[target]
proto = "tcp"
groups = { crowd = 20 }
[[steps]]
actor = "crowd"
op = "connect"
parallel = true
[[steps]]
id = "wait-reply"
actor = "crowd"
op = "recv"
timeout_ms = 300
parallel = true
"#,
    );
    let mut session = Session::new(&sc, silent_server().await, None);
    let started = Instant::now();
    let recs = session.run(&sc).await.into_records();
    // One after another this would take 20 x 300 ms.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    // Each step: 20 runs, one outcome, one record (member 0 first, 19 last).
    assert_eq!(recs.len(), 2, "{recs:#?}");
    for r in &recs {
        assert_eq!((r.member, r.runs), (0, 20), "{r:?}");
        assert_eq!(r.last.map(|l| l.member), Some(19), "{r:?}");
    }
    assert!(matches!(recs[0].outcome, StepOutcome::Ok { .. }));
    assert!(matches!(recs[1].outcome, StepOutcome::Timeout { .. }));
}

#[tokio::test]
async fn sequential_members_keep_their_sockets_across_parallel_steps() {
    let sc = scenario(
        r#"[target]
proto = "tcp"
groups = { crowd = 4 }
[[steps]]
actor = "crowd"
op = "connect"
parallel = true
[[steps]]
actor = "crowd"
op = "send"
bytes = 7
[[steps]]
actor = "crowd"
op = "recv"
bytes = 7
parallel = true
"#,
    );
    let mut session = Session::new(&sc, echo_server().await, None);
    let recs = session.run(&sc).await.into_records();
    assert_eq!(recs.iter().map(|r| r.runs).sum::<u64>(), 12);
    assert!(
        recs.iter()
            .all(|r| matches!(r.outcome, StepOutcome::Ok { .. })),
        "{recs:#?}"
    );
}
