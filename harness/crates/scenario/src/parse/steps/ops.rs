//! One step's op and its arguments: which keys each op takes and what they
//! may hold (`send`'s payload, `recv`'s mode, `shutdown`'s how, …), one
//! function per op that takes any.

use crate::model::{limits, BlackholeOnly, Netem, Op, Payload, RecvMode, ShutdownHow, UdpDest};
use crate::parse::check::{check_range, verr, VErr, VResult};
use crate::parse::raw::{RawStep, S};
use std::ops::Range;

/// Every op, in the order error messages list them.
pub(super) const OPS: &str =
    "connect, bind, accept, send, recv, wait_readable, shutdown, close, abort, wait, pause, resume, probe, netem, blackhole, heal";

/// The keys of `netem`.
const NETEM_KEYS: &[&str] = &[
    "delay_ms",
    "loss_pct",
    "duplicate_pct",
    "reorder_pct",
    "rate_kbit",
];

/// The largest `netem` delay and rate a scenario may ask for.
const MAX_NETEM_DELAY_MS: u64 = 10_000;
const MAX_RATE_KBIT: u64 = 10_000_000;

/// What can be wrong with an op and its arguments (numbers out of range
/// aside).
#[derive(Debug, thiserror::Error)]
pub(super) enum OpProblem {
    #[error("step is missing required key \"op\"; expected one of: {OPS}")]
    MissingOp,
    #[error("unknown op \"{0}\"; expected one of: {OPS}")]
    UnknownOp(String),
    #[error("\"timeout_ms\" on connect is TCP only (a UDP connect does not wait for anyone)")]
    UdpConnectTimeout,
    #[error("send takes exactly one of \"bytes\" or \"text\", found both")]
    SendBoth,
    #[error("send needs exactly one of \"bytes\" = N or \"text\" = \"...\", found neither")]
    SendNeither,
    #[error(
        "payload of {len} bytes is too large; at most {max} bytes allowed{}",
        if *.udp { " for UDP" } else { "" }
    )]
    PayloadTooLarge { len: usize, max: usize, udp: bool },
    #[error("recv takes at most one of \"bytes\" or \"until\", found both")]
    RecvBoth,
    #[error("until = \"eof\" is only valid with proto = \"tcp\" (UDP has no EOF)")]
    EofNeedsTcp,
    #[error("unknown until \"{0}\"; expected: eof")]
    UnknownUntil(String),
    #[error("shutdown needs \"how\"; expected one of: write, read, both")]
    ShutdownNeedsHow,
    #[error("unknown how \"{0}\"; expected one of: write, read, both")]
    UnknownHow(String),
    #[error("wait needs \"ms\" = N (at most {max})", max = limits::MAX_WAIT_MS)]
    WaitNeedsMs,
    #[error("\"to\" is UDP only (a TCP client connects to the server under test)")]
    ToNeedsUdp,
    #[error("invalid \"to\" \"{0}\"; expected \"closed\" (a loopback port nothing is bound to) or a loopback address with port, e.g. \"127.0.0.1:9\" or \"[::1]:9\"")]
    BadTo(String),
    #[error("\"to\" {0} is not loopback; only 127.0.0.0/8 and ::1 are allowed")]
    ToNotLoopback(String),
    #[error("\"to\" {0} is not of the server's address family ({1}); a socket bound for one family cannot send to the other")]
    ToWrongFamily(String, &'static str),
    #[error("netem needs at least one of: {} (to undo a netem, use op = \"heal\")", NETEM_KEYS.join(", "))]
    NetemNeedsOne,
    #[error("unknown only \"{0}\"; expected: fin")]
    UnknownOnly(String),
    #[error("only = \"fin\" is only valid with proto = \"tcp\" (UDP has no FIN)")]
    OnlyNeedsTcp,
    #[error("\"reorder_pct\" needs \"delay_ms\": netem reorders by sending some packets at once while the rest are delayed")]
    ReorderNeedsDelay,
}

/// Keys each op accepts besides `op`, `actor` and `id`.
pub(super) fn op_keys(op: &str) -> &'static [&'static str] {
    match op {
        "connect" => &["timeout_ms", "to"],
        "send" => &["bytes", "text", "timeout_ms", "to"],
        "recv" => &["bytes", "until", "timeout_ms"],
        "wait_readable" => &["timeout_ms"],
        "shutdown" => &["how"],
        "wait" => &["ms"],
        "netem" => NETEM_KEYS,
        "blackhole" => &["only"],
        _ => &[],
    }
}

/// The op `op_name` (one of [`OPS`]) with its arguments from `r`, whose
/// keys already belong to it. A missing argument is reported at `op_at`
/// (the op's value); `step_at` is the whole step.
pub(super) fn validate_op(
    op_name: &str,
    r: &RawStep,
    udp: bool,
    v6: bool,
    op_at: Range<usize>,
    step_at: Range<usize>,
) -> VResult<Op> {
    Ok(match op_name {
        "connect" => connect(r, udp, v6)?,
        "bind" => Op::Bind,
        "accept" => Op::Accept,
        "close" => Op::Close,
        "abort" => Op::Abort,
        "pause" => Op::Pause,
        "resume" => Op::Resume,
        "probe" => Op::Probe,
        "blackhole" => blackhole(r, udp)?,
        "heal" => Op::Heal,
        "netem" => netem(r, op_at)?,
        "send" => send(r, udp, v6, op_at, step_at)?,
        "recv" => recv(r, udp)?,
        "wait_readable" => Op::WaitReadable {
            timeout_ms: recv_timeout(r)?,
        },
        "shutdown" => shutdown(r, op_at)?,
        "wait" => wait(r, op_at)?,
        // Checked against OPS by the caller.
        other => return verr(op_at, OpProblem::UnknownOp(other.to_owned())),
    })
}

fn connect(r: &RawStep, udp: bool, v6: bool) -> VResult<Op> {
    if let (true, Some(t)) = (udp, &r.timeout_ms) {
        return verr(t.span(), OpProblem::UdpConnectTimeout);
    }
    Ok(Op::Connect {
        to: udp_dest(r, udp, v6)?,
        timeout_ms: r
            .timeout_ms
            .as_ref()
            .map(|t| check_range(t, "timeout_ms", 1, limits::MAX_CONNECT_TIMEOUT_MS))
            .transpose()?,
    })
}

/// `to` of a UDP send or connect: `"closed"` or a loopback address of the
/// server's family.
fn udp_dest(r: &RawStep, udp: bool, v6: bool) -> VResult<Option<UdpDest>> {
    let Some(t) = &r.to else { return Ok(None) };
    if !udp {
        return verr(t.span(), OpProblem::ToNeedsUdp);
    }
    let text = t.get_ref();
    if text == "closed" {
        return Ok(Some(UdpDest::Closed));
    }
    let addr: std::net::SocketAddr = text
        .parse()
        .or_else(|_| verr(t.span(), OpProblem::BadTo(text.clone())))?;
    if !addr.ip().is_loopback() {
        return verr(t.span(), OpProblem::ToNotLoopback(text.clone()));
    }
    if addr.is_ipv6() != v6 {
        let family = if v6 { "IPv6" } else { "IPv4" };
        return verr(t.span(), OpProblem::ToWrongFamily(text.clone(), family));
    }
    Ok(Some(UdpDest::Addr(addr)))
}

/// The largest payload an exact recv may name.
fn max_payload(udp: bool) -> usize {
    if udp {
        limits::MAX_UDP_PAYLOAD
    } else {
        limits::MAX_PAYLOAD
    }
}

fn send(
    r: &RawStep,
    udp: bool,
    v6: bool,
    op_at: Range<usize>,
    step_at: Range<usize>,
) -> VResult<Op> {
    let payload = match (&r.bytes, &r.text) {
        (Some(_), Some(t)) => return verr(t.span(), OpProblem::SendBoth),
        (None, None) => return verr(op_at, OpProblem::SendNeither),
        (Some(b), None) => Payload::Bytes(usize::try_from(*b.get_ref()).unwrap_or(usize::MAX)),
        (None, Some(t)) => Payload::Text(t.get_ref().clone()),
    };
    // A UDP send may go past the family's datagram limit (65 507 bytes
    // for IPv4, 65 527 for IPv6), up to one byte past the larger, so the
    // client's own EMSGSIZE / WSAEMSGSIZE can be the expected outcome.
    let max = if udp {
        limits::MAX_UDP_SEND
    } else {
        limits::MAX_PAYLOAD
    };
    if payload.len() > max {
        let s = r
            .bytes
            .as_ref()
            .map(S::span)
            .or(r.text.as_ref().map(S::span))
            .unwrap_or(step_at);
        return verr(
            s,
            OpProblem::PayloadTooLarge {
                len: payload.len(),
                max,
                udp,
            },
        );
    }
    let timeout_ms = r
        .timeout_ms
        .as_ref()
        .map(|t| check_range(t, "timeout_ms", 1, limits::MAX_SEND_TIMEOUT_MS))
        .transpose()?;
    Ok(Op::Send {
        payload,
        to: udp_dest(r, udp, v6)?,
        timeout_ms,
    })
}

fn recv(r: &RawStep, udp: bool) -> VResult<Op> {
    let mode = match (&r.bytes, &r.until) {
        (Some(_), Some(u)) => return verr(u.span(), OpProblem::RecvBoth),
        (Some(b), None) => {
            RecvMode::Exact(check_range(b, "bytes", 1, max_payload(udp) as u64)? as usize)
        }
        (None, Some(u)) => match u.get_ref().as_str() {
            "eof" if udp => return verr(u.span(), OpProblem::EofNeedsTcp),
            "eof" => RecvMode::Eof,
            other => return verr(u.span(), OpProblem::UnknownUntil(other.to_owned())),
        },
        (None, None) => RecvMode::Any,
    };
    let timeout_ms = recv_timeout(r)?;
    Ok(Op::Recv { mode, timeout_ms })
}

/// `timeout_ms` of a recv or a wait_readable: bounded, with a default.
fn recv_timeout(r: &RawStep) -> VResult<u64> {
    match &r.timeout_ms {
        Some(t) => check_range(t, "timeout_ms", 1, limits::MAX_RECV_TIMEOUT_MS),
        None => Ok(limits::DEFAULT_RECV_TIMEOUT_MS),
    }
}

fn shutdown(r: &RawStep, op_at: Range<usize>) -> VResult<Op> {
    let h = r
        .how
        .as_ref()
        .ok_or_else(|| VErr::new(op_at, OpProblem::ShutdownNeedsHow))?;
    let how = match h.get_ref().as_str() {
        "write" => ShutdownHow::Write,
        "read" => ShutdownHow::Read,
        "both" => ShutdownHow::Both,
        other => return verr(h.span(), OpProblem::UnknownHow(other.to_owned())),
    };
    Ok(Op::Shutdown { how })
}

/// `blackhole` with its optional `only` (which segments to drop).
fn blackhole(r: &RawStep, udp: bool) -> VResult<Op> {
    let Some(o) = &r.only else {
        return Ok(Op::Blackhole { only: None });
    };
    let only = match o.get_ref().as_str() {
        "fin" => BlackholeOnly::Fin,
        other => return verr(o.span(), OpProblem::UnknownOnly(other.to_owned())),
    };
    if udp {
        return verr(o.span(), OpProblem::OnlyNeedsTcp);
    }
    Ok(Op::Blackhole { only: Some(only) })
}

fn wait(r: &RawStep, op_at: Range<usize>) -> VResult<Op> {
    let m =
        r.ms.as_ref()
            .ok_or_else(|| VErr::new(op_at, OpProblem::WaitNeedsMs))?;
    Ok(Op::Wait {
        ms: check_range(m, "ms", 0, limits::MAX_WAIT_MS)?,
    })
}

fn netem(r: &RawStep, op_at: Range<usize>) -> VResult<Op> {
    let pct = |v: &Option<S<u64>>, what: &'static str| {
        v.as_ref()
            .map(|v| check_range(v, what, 0, 100).map(|n| n as u8))
            .transpose()
    };
    let n = Netem {
        delay_ms: r
            .delay_ms
            .as_ref()
            .map(|v| check_range(v, "delay_ms", 0, MAX_NETEM_DELAY_MS))
            .transpose()?,
        loss_pct: pct(&r.loss_pct, "loss_pct")?,
        duplicate_pct: pct(&r.duplicate_pct, "duplicate_pct")?,
        reorder_pct: pct(&r.reorder_pct, "reorder_pct")?,
        rate_kbit: r
            .rate_kbit
            .as_ref()
            .map(|v| check_range(v, "rate_kbit", 1, MAX_RATE_KBIT))
            .transpose()?,
    };
    if n == Netem::default() {
        return verr(op_at, OpProblem::NetemNeedsOne);
    }
    if let (Some(r), None) = (&r.reorder_pct, n.delay_ms) {
        return verr(r.span(), OpProblem::ReorderNeedsDelay);
    }
    Ok(Op::Netem(n))
}

#[cfg(test)]
mod tests {
    use super::{validate_op, OpProblem};
    use crate::model::{limits, BlackholeOnly, Op};
    use crate::parse::parse_str;
    use crate::parse::raw::RawStep;
    use crate::parse::test_support::{assert_located, p, with_head, with_udp_head};
    use rstest::rstest;

    /// The problem `validate_op` finds in a step written as `keys`, as
    /// its enum (not its text).
    fn problem(op: &str, keys: &str, udp: bool) -> OpProblem {
        let raw: RawStep = toml::from_str(keys).unwrap();
        let err = validate_op(op, &raw, udp, false, 0..1, 0..2).unwrap_err();
        *err.problem.downcast::<OpProblem>().unwrap()
    }

    #[test]
    fn each_family_reports_its_own_problem() {
        assert!(matches!(
            problem("send", "bytes = 1\ntext = \"a\"", false),
            OpProblem::SendBoth
        ));
        assert!(matches!(
            problem("send", "bytes = 65529", true),
            OpProblem::PayloadTooLarge {
                len: 65529,
                max: 65528,
                udp: true
            }
        ));
        assert!(matches!(
            problem("recv", "until = \"eof\"", true),
            OpProblem::EofNeedsTcp
        ));
        assert!(matches!(
            problem("connect", "timeout_ms = 5", true),
            OpProblem::UdpConnectTimeout
        ));
        assert!(matches!(
            problem("shutdown", "", false),
            OpProblem::ShutdownNeedsHow
        ));
        assert!(matches!(problem("wait", "", false), OpProblem::WaitNeedsMs));
    }

    #[test]
    fn udp_to_is_closed_or_a_loopback_address_of_the_servers_family() {
        use crate::model::{Payload, UdpDest};
        let s = parse_str(
            &with_udp_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"connect\"\nto = \"closed\"\n[[steps]]\nactor = \"a\"\nop = \"send\"\nto = \"127.0.0.2:9\"\nbytes = 65528\n"),
            &p(),
        )
        .unwrap();
        assert_eq!(
            s.steps[0].op,
            Op::Connect {
                to: Some(UdpDest::Closed),
                timeout_ms: None
            }
        );
        assert_eq!(
            s.steps[1].op,
            Op::Send {
                payload: Payload::Bytes(limits::MAX_UDP_SEND),
                to: Some(UdpDest::Addr("127.0.0.2:9".parse().unwrap())),
                timeout_ms: None
            }
        );
        assert!(matches!(
            problem("send", "bytes = 1\nto = \"10.0.0.1:9\"", true),
            OpProblem::ToNotLoopback(_)
        ));
        assert!(matches!(
            problem("send", "bytes = 1\nto = \"[::1]:9\"", true),
            OpProblem::ToWrongFamily(..)
        ));
        assert!(matches!(
            problem("send", "bytes = 1\nto = \"9\"", true),
            OpProblem::BadTo(_)
        ));
        assert!(matches!(
            problem("connect", "to = \"closed\"", false),
            OpProblem::ToNeedsUdp
        ));
    }

    #[test]
    fn blackhole_takes_an_optional_only_fin() {
        let s = parse_str(
            &with_head("netns = true\nactors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"blackhole\"\n[[steps]]\nactor = \"a\"\nop = \"blackhole\"\nonly = \"fin\"\n"),
            &p(),
        )
        .unwrap();
        assert_eq!(s.steps[0].op, Op::Blackhole { only: None });
        assert_eq!(
            s.steps[1].op,
            Op::Blackhole {
                only: Some(BlackholeOnly::Fin)
            }
        );
    }

    #[test]
    fn wait_readable_takes_a_bounded_timeout_with_a_default() {
        let s = parse_str(
            &with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"wait_readable\"\n[[steps]]\nactor = \"a\"\nop = \"wait_readable\"\ntimeout_ms = 250\n"),
            &p(),
        )
        .unwrap();
        assert_eq!(
            s.steps[0].op,
            Op::WaitReadable {
                timeout_ms: limits::DEFAULT_RECV_TIMEOUT_MS
            }
        );
        assert_eq!(s.steps[1].op, Op::WaitReadable { timeout_ms: 250 });
    }

    #[rstest]
    #[case::send_both_bytes_and_text(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 3\ntext = \"abc\"\n"), 10, 8, "exactly one of \"bytes\" or \"text\", found both")]
    #[case::send_neither(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\n"),
        8,
        6,
        "found neither"
    )]
    #[case::udp_payload_too_large(
        with_udp_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 65529\n"
        ),
        9,
        9,
        "at most 65528 bytes"
    )]
    #[case::to_not_loopback(
        with_udp_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 1\nto = \"192.0.2.1:9\"\n"
        ),
        10,
        6,
        "is not loopback"
    )]
    #[case::recv_until_eof_on_udp(
        with_udp_head(
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"recv\"\nuntil = \"eof\"\n"
        ),
        9,
        9,
        "until = \"eof\" is only valid with proto = \"tcp\""
    )]
    #[case::wait_too_long(
        with_head("[[steps]]\nop = \"wait\"\nms = 10001\n"),
        7,
        6,
        "between 0 and 10000"
    )]
    #[case::send_timeout_out_of_range(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 1\ntimeout_ms = 0\n"), 10, 14, "\"timeout_ms\" must be between 1 and 30000")]
    #[case::wait_readable_takes_no_bytes(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"wait_readable\"\nbytes = 3\n"), 9, 9, "key \"bytes\" does not apply to op \"wait_readable\"; \"wait_readable\" takes only timeout_ms")]
    #[case::wait_readable_timeout_too_long(
        with_udp_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"wait_readable\"\ntimeout_ms = 30001\n"), 9, 14, "\"timeout_ms\" must be between 1 and 30000")]
    #[case::netem_with_nothing(
        with_head("[[steps]]\nop = \"netem\"\n"),
        6,
        6,
        "netem needs at least one of: delay_ms"
    )]
    #[case::netem_reorder_without_delay(
        with_head("[[steps]]\nop = \"netem\"\nreorder_pct = 5\n"),
        7,
        15,
        "\"reorder_pct\" needs \"delay_ms\""
    )]
    #[case::netem_loss_over_100(
        with_head("[[steps]]\nop = \"netem\"\nloss_pct = 101\n"),
        7,
        12,
        "between 0 and 100, found 101"
    )]
    #[case::blackhole_without_netns(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"blackhole\"\n"),
        8,
        6,
        "add netns = true to [target]"
    )]
    #[case::blackhole_only_unknown(
        with_head("netns = true\nactors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"blackhole\"\nonly = \"syn\"\n"),
        10,
        8,
        "unknown only \"syn\"; expected: fin"
    )]
    #[case::blackhole_only_fin_on_udp(
        with_udp_head("netns = true\nactors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"blackhole\"\nonly = \"fin\"\n"),
        10,
        8,
        "only valid with proto = \"tcp\""
    )]
    #[case::only_on_another_op(
        with_head("netns = true\nactors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"close\"\nonly = \"fin\"\n"),
        10,
        8,
        "key \"only\" does not apply to op \"close\""
    )]
    #[case::netem_with_an_actor(
        with_head("actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"netem\"\ndelay_ms = 1\n"),
        7,
        9,
        "on the whole link and takes no actor"
    )]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
