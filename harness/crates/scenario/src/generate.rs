//! proptest strategies for random step sequences: two client actors (`a`,
//! `b`) and, in forward mode, the `upstream` actor; only ops the parser
//! accepts for each actor and protocol; sizes and timings bounded so a case
//! takes well under a second on a healthy server. Shrinking removes steps
//! and makes sizes and timeouts smaller.

use crate::model::{
    limits, Actor, ActorKind, Impl, ImplExpectations, Mode, Op, PartialExpectation, Payload, Proto,
    RecvMode, Scenario, ShutdownHow, Step, TargetSpec,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Client actors every generated scenario declares.
pub const CLIENTS: [&str; 2] = ["a", "b"];
/// Largest payload a generated send uses.
const MAX_TCP_SEND: usize = 8 * 1024;
/// Stays under a typical loopback MTU-free limit and far below 65 507.
const MAX_UDP_SEND: usize = 1_200;
const MIN_RECV_TIMEOUT_MS: u64 = 20;
const MAX_RECV_TIMEOUT_MS: u64 = 300;
const MAX_WAIT_MS: u64 = 100;

fn step(actor: &str, op: Op) -> Step {
    Step {
        id: None,
        actor: actor.to_owned(),
        op,
        parallel: false,
        line: 0,
    }
}

fn recv(proto: Proto, max: usize) -> BoxedStrategy<Op> {
    let mode = match proto {
        Proto::Tcp => prop_oneof![
            3 => Just(RecvMode::Any),
            2 => (1..=max).prop_map(RecvMode::Exact),
            1 => Just(RecvMode::Eof),
        ]
        .boxed(),
        Proto::Udp => prop_oneof![
            3 => Just(RecvMode::Any),
            1 => (1..=max).prop_map(RecvMode::Exact),
        ]
        .boxed(),
    };
    (mode, MIN_RECV_TIMEOUT_MS..=MAX_RECV_TIMEOUT_MS)
        .prop_map(|(mode, timeout_ms)| Op::Recv { mode, timeout_ms })
        .boxed()
}

fn send(max: usize) -> BoxedStrategy<Op> {
    (1..=max)
        .prop_map(|n| Op::Send {
            to: None,
            payload: Payload::Bytes(n),
            timeout_ms: None,
        })
        .boxed()
}

fn how() -> impl Strategy<Value = ShutdownHow> {
    prop_oneof![
        Just(ShutdownHow::Write),
        Just(ShutdownHow::Read),
        Just(ShutdownHow::Both)
    ]
}

/// Ops a client may do (the parser's table for TCP / UDP clients).
fn client_op(proto: Proto) -> BoxedStrategy<Op> {
    match proto {
        Proto::Tcp => prop_oneof![
            4 => Just(Op::Connect { to: None, timeout_ms: None }),
            4 => send(MAX_TCP_SEND),
            3 => recv(Proto::Tcp, MAX_TCP_SEND),
            1 => how().prop_map(|how| Op::Shutdown { how }),
            2 => Just(Op::Close),
            2 => Just(Op::Abort),
        ]
        .boxed(),
        Proto::Udp => prop_oneof![
            1 => Just(Op::Bind),
            1 => Just(Op::Connect { to: None, timeout_ms: None }),
            4 => send(MAX_UDP_SEND),
            3 => recv(Proto::Udp, MAX_UDP_SEND),
            2 => Just(Op::Close),
        ]
        .boxed(),
    }
}

/// Ops the harness-played upstream may do in forward mode.
fn upstream_op() -> BoxedStrategy<Op> {
    prop_oneof![
        4 => Just(Op::Accept),
        2 => send(MAX_TCP_SEND),
        2 => recv(Proto::Tcp, MAX_TCP_SEND),
        1 => how().prop_map(|how| Op::Shutdown { how }),
        1 => Just(Op::Close),
        1 => Just(Op::Abort),
    ]
    .boxed()
}

/// One step of any actor.
pub fn any_step(proto: Proto, mode: Mode) -> BoxedStrategy<Step> {
    let client =
        (prop::sample::select(CLIENTS.to_vec()), client_op(proto)).prop_map(|(a, op)| step(a, op));
    let wait = (0..=MAX_WAIT_MS.min(limits::MAX_WAIT_MS)).prop_map(|ms| step("", Op::Wait { ms }));
    if mode == Mode::Forward {
        prop_oneof![
            6 => client,
            4 => upstream_op().prop_map(|op| step("upstream", op)),
            1 => wait,
        ]
        .boxed()
    } else {
        prop_oneof![8 => client, 1 => wait].boxed()
    }
}

/// A sequence of 1..=max_steps steps.
pub fn steps(proto: Proto, mode: Mode, max_steps: usize) -> BoxedStrategy<Vec<Step>> {
    prop::collection::vec(any_step(proto, mode), 1..=max_steps.max(1)).boxed()
}

/// The in-memory scenario for one generated sequence.
pub fn scenario_for(steps: Vec<Step>, target: &TargetSpec, name: &str) -> Scenario {
    let mut actors: Vec<Actor> = CLIENTS
        .iter()
        .map(|n| Actor {
            name: (*n).to_owned(),
            kind: ActorKind::Client,
            count: 1,
        })
        .collect();
    if target.mode == Mode::Forward {
        actors.push(Actor {
            name: "upstream".into(),
            kind: ActorKind::Upstream,
            count: 1,
        });
    }
    let unknown = ImplExpectations {
        base: PartialExpectation {
            server: Some(Vec::new()),
            ..Default::default()
        },
        per_os: BTreeMap::new(),
    };
    Scenario {
        path: PathBuf::from(format!("{name}.toml")),
        name: name.to_owned(),
        summary: "A step sequence found by netrepro explore".into(),
        refs: Vec::new(),
        target: target.clone(),
        actors,
        steps,
        repeats: Vec::new(),
        expect: Impl::ALL.iter().map(|&i| (i, unknown.clone())).collect(),
        sockopts: BTreeMap::new(),
        // Bounds every case (an accept with nothing to accept waits up to 3 s).
        timeout_ms: 3_000,
    }
}
