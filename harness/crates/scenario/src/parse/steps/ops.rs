//! One step's op and its arguments: which keys each op takes and what they
//! may hold (`send`'s payload, `recv`'s mode, `shutdown`'s how, …), one
//! function per op that takes any.

use crate::model::{limits, Op, Payload, RecvMode, ShutdownHow};
use crate::parse::check::{check_range, verr, VErr, VResult};
use crate::parse::raw::{RawStep, S};
use std::ops::Range;

/// Every op, in the order error messages list them.
pub(super) const OPS: &str =
    "connect, bind, accept, send, recv, shutdown, close, abort, wait, pause, resume, probe";

/// Keys each op accepts besides `op`, `actor` and `id`.
pub(super) fn op_keys(op: &str) -> &'static [&'static str] {
    match op {
        "connect" => &["timeout_ms"],
        "send" => &["bytes", "text", "timeout_ms"],
        "recv" => &["bytes", "until", "timeout_ms"],
        "shutdown" => &["how"],
        "wait" => &["ms"],
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
    op_at: Range<usize>,
    step_at: Range<usize>,
) -> VResult<Op> {
    Ok(match op_name {
        "connect" => connect(r, udp)?,
        "bind" => Op::Bind,
        "accept" => Op::Accept,
        "close" => Op::Close,
        "abort" => Op::Abort,
        "pause" => Op::Pause,
        "resume" => Op::Resume,
        "probe" => Op::Probe,
        "send" => send(r, udp, op_at, step_at)?,
        "recv" => recv(r, udp)?,
        "shutdown" => shutdown(r, op_at)?,
        "wait" => wait(r, op_at)?,
        // Checked against OPS by the caller.
        other => {
            return verr(
                op_at,
                format!("unknown op \"{other}\"; expected one of: {OPS}"),
            )
        }
    })
}

fn connect(r: &RawStep, udp: bool) -> VResult<Op> {
    if let (true, Some(t)) = (udp, &r.timeout_ms) {
        return verr(
            t.span(),
            "\"timeout_ms\" on connect is TCP only (a UDP connect does not wait for anyone)",
        );
    }
    Ok(Op::Connect {
        timeout_ms: r
            .timeout_ms
            .as_ref()
            .map(|t| check_range(t, "\"timeout_ms\"", 1, limits::MAX_CONNECT_TIMEOUT_MS))
            .transpose()?,
    })
}

/// The largest payload a send or an exact recv may name.
fn max_payload(udp: bool) -> usize {
    if udp {
        limits::MAX_UDP_PAYLOAD
    } else {
        limits::MAX_PAYLOAD
    }
}

fn send(r: &RawStep, udp: bool, op_at: Range<usize>, step_at: Range<usize>) -> VResult<Op> {
    let payload = match (&r.bytes, &r.text) {
        (Some(_), Some(t)) => {
            return verr(
                t.span(),
                "send takes exactly one of \"bytes\" or \"text\", found both",
            )
        }
        (None, None) => {
            return verr(
                op_at,
                "send needs exactly one of \"bytes\" = N or \"text\" = \"...\", found neither",
            )
        }
        (Some(b), None) => Payload::Bytes(usize::try_from(*b.get_ref()).unwrap_or(usize::MAX)),
        (None, Some(t)) => Payload::Text(t.get_ref().clone()),
    };
    let max = max_payload(udp);
    if payload.len() > max {
        let s = r
            .bytes
            .as_ref()
            .map(S::span)
            .or(r.text.as_ref().map(S::span))
            .unwrap_or(step_at);
        return verr(
            s,
            format!(
                "payload of {} bytes is too large; at most {max} bytes allowed{}",
                payload.len(),
                if udp { " for UDP" } else { "" }
            ),
        );
    }
    let timeout_ms = r
        .timeout_ms
        .as_ref()
        .map(|t| check_range(t, "\"timeout_ms\"", 1, limits::MAX_SEND_TIMEOUT_MS))
        .transpose()?;
    Ok(Op::Send {
        payload,
        timeout_ms,
    })
}

fn recv(r: &RawStep, udp: bool) -> VResult<Op> {
    let mode = match (&r.bytes, &r.until) {
        (Some(_), Some(u)) => {
            return verr(
                u.span(),
                "recv takes at most one of \"bytes\" or \"until\", found both",
            )
        }
        (Some(b), None) => {
            RecvMode::Exact(check_range(b, "\"bytes\"", 1, max_payload(udp) as u64)? as usize)
        }
        (None, Some(u)) => match u.get_ref().as_str() {
            "eof" if udp => {
                return verr(
                    u.span(),
                    "until = \"eof\" is only valid with proto = \"tcp\" (UDP has no EOF)",
                )
            }
            "eof" => RecvMode::Eof,
            other => {
                return verr(
                    u.span(),
                    format!("unknown until \"{other}\"; expected: eof"),
                )
            }
        },
        (None, None) => RecvMode::Any,
    };
    let timeout_ms = match &r.timeout_ms {
        Some(t) => check_range(t, "\"timeout_ms\"", 1, limits::MAX_RECV_TIMEOUT_MS)?,
        None => limits::DEFAULT_RECV_TIMEOUT_MS,
    };
    Ok(Op::Recv { mode, timeout_ms })
}

fn shutdown(r: &RawStep, op_at: Range<usize>) -> VResult<Op> {
    let h = r.how.as_ref().ok_or_else(|| VErr {
        span: op_at,
        message: "shutdown needs \"how\"; expected one of: write, read, both".into(),
    })?;
    let how = match h.get_ref().as_str() {
        "write" => ShutdownHow::Write,
        "read" => ShutdownHow::Read,
        "both" => ShutdownHow::Both,
        other => {
            return verr(
                h.span(),
                format!("unknown how \"{other}\"; expected one of: write, read, both"),
            )
        }
    };
    Ok(Op::Shutdown { how })
}

fn wait(r: &RawStep, op_at: Range<usize>) -> VResult<Op> {
    let m = r.ms.as_ref().ok_or_else(|| VErr {
        span: op_at,
        message: format!("wait needs \"ms\" = N (at most {})", limits::MAX_WAIT_MS),
    })?;
    Ok(Op::Wait {
        ms: check_range(m, "\"ms\"", 0, limits::MAX_WAIT_MS)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::{assert_located, with_head, with_udp_head};
    use rstest::rstest;

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
            "actors = [\"a\"]\n[[steps]]\nactor = \"a\"\nop = \"send\"\nbytes = 65508\n"
        ),
        9,
        9,
        "at most 65507 bytes"
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
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
