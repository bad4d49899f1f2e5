//! `[target]`: the server under test's protocol, mode, bind address and
//! options, each checked against the others (forward is TCP only,
//! `ip_recverr` UDP only, …).

use super::check::{opt_range, verr, VErr, VResult};
use super::raw::{RawTarget, S};
use crate::model::{limits, Mode, Proto, ServerOptions, TargetSpec, UpstreamBehaviour};
use std::net::IpAddr;

const MIN_MAX_FDS: u64 = 16;
const MAX_MAX_FDS: u64 = 1_048_576;

/// What can be wrong in `[target]` (numbers out of range aside).
#[derive(Debug, thiserror::Error)]
enum TargetProblem {
    #[error("missing required key \"proto\" in [target]; expected \"tcp\" or \"udp\"")]
    MissingProto,
    #[error("unknown proto \"{0}\"; expected one of: tcp, udp")]
    UnknownProto(String),
    #[error("unknown mode \"{0}\"; expected one of: echo, forward")]
    UnknownMode(String),
    #[error("mode = \"forward\" requires proto = \"tcp\", found proto = \"udp\"")]
    ForwardNeedsTcp,
    #[error("bind address \"{0}\" is not loopback; expected an address in 127.0.0.0/8 or ::1")]
    BindNotLoopback(String),
    #[error("invalid bind address \"{0}\"; expected a loopback IP such as 127.0.0.1 or ::1")]
    BindNotAnIp(String),
    #[error("\"ip_recverr\" is only valid with proto = \"udp\", found proto = \"tcp\"")]
    RecverrNeedsUdp,
    #[error("\"reply_delay_ms\" applies to echo servers only, found mode = \"forward\"")]
    ReplyDelayNeedsEcho,
    #[error("\"idle_timeout_ms\" is only valid with proto = \"tcp\" (UDP has no connections), found proto = \"udp\"")]
    IdleTimeoutNeedsTcp,
    #[error("unknown upstream \"{name}\"; expected one of: {}", upstream_names())]
    UnknownUpstream { name: String },
    #[error(
        "\"upstream\" applies to mode = \"forward\" only (the harness plays the upstream there)"
    )]
    UpstreamNeedsForward,
}

fn upstream_names() -> String {
    UpstreamBehaviour::ALL
        .map(UpstreamBehaviour::as_str)
        .join(", ")
}

pub(super) fn validate_target(raw: &S<RawTarget>) -> VResult<TargetSpec> {
    let t = raw.get_ref();
    let proto_raw = t
        .proto
        .as_ref()
        .ok_or_else(|| VErr::new(raw.span(), TargetProblem::MissingProto))?;
    let proto = match proto_raw.get_ref().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        other => {
            return verr(
                proto_raw.span(),
                TargetProblem::UnknownProto(other.to_owned()),
            )
        }
    };
    let mode = match &t.mode {
        None => Mode::Echo,
        Some(m) => match m.get_ref().as_str() {
            "echo" => Mode::Echo,
            "forward" => Mode::Forward,
            other => return verr(m.span(), TargetProblem::UnknownMode(other.to_owned())),
        },
    };
    if mode == Mode::Forward && proto != Proto::Tcp {
        let span = t.mode.as_ref().map_or(raw.span(), |m| m.span());
        return verr(span, TargetProblem::ForwardNeedsTcp);
    }
    let bind = match &t.bind {
        None => "127.0.0.1".to_owned(),
        Some(b) => {
            let s = b.get_ref();
            match s.parse::<IpAddr>() {
                Ok(ip) if ip.is_loopback() => s.clone(),
                Ok(_) => return verr(b.span(), TargetProblem::BindNotLoopback(s.clone())),
                Err(_) => return verr(b.span(), TargetProblem::BindNotAnIp(s.clone())),
            }
        }
    };
    let ip_recverr = match &t.ip_recverr {
        None => false,
        Some(v) if proto == Proto::Udp => *v.get_ref(),
        Some(v) => return verr(v.span(), TargetProblem::RecverrNeedsUdp),
    };
    let max_fds = opt_range(
        &t.max_fds,
        "max_fds",
        MIN_MAX_FDS,
        MAX_MAX_FDS,
        None::<TargetProblem>,
    )?;
    let reply_delay_ms = opt_range(
        &t.reply_delay_ms,
        "reply_delay_ms",
        0,
        limits::MAX_WAIT_MS,
        (mode == Mode::Forward).then_some(TargetProblem::ReplyDelayNeedsEcho),
    )?;
    let idle_timeout_ms = opt_range(
        &t.idle_timeout_ms,
        "idle_timeout_ms",
        1,
        limits::MAX_IDLE_TIMEOUT_MS,
        (proto == Proto::Udp).then_some(TargetProblem::IdleTimeoutNeedsTcp),
    )?;
    let upstream = match &t.upstream {
        None => UpstreamBehaviour::default(),
        Some(u) if mode != Mode::Forward => {
            return verr(u.span(), TargetProblem::UpstreamNeedsForward)
        }
        Some(u) => UpstreamBehaviour::parse(u.get_ref()).ok_or_else(|| {
            VErr::new(
                u.span(),
                TargetProblem::UnknownUpstream {
                    name: u.get_ref().clone(),
                },
            )
        })?,
    };
    Ok(TargetSpec {
        proto,
        mode,
        bind,
        options: ServerOptions {
            ip_recverr,
            max_fds,
            reply_delay_ms,
            idle_timeout_ms,
        },
        netns: t.netns.as_ref().is_some_and(|v| *v.get_ref()),
        upstream,
    })
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::assert_located;
    use rstest::rstest;

    #[rstest]
    #[case::forward_on_udp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\nmode = \"forward\"\n".to_string(), 5, 8, "requires proto = \"tcp\"")]
    #[case::non_loopback_bind(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nbind = \"0.0.0.0\"\n".to_string(), 5, 8, "is not loopback")]
    #[case::bind_not_an_ip(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nbind = \"localhost\"\n".to_string(), 5, 8, "invalid bind address \"localhost\"")]
    #[case::recverr_on_tcp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nip_recverr = true\n".to_string(), 5, 14, "only valid with proto = \"udp\"")]
    #[case::max_fds_out_of_range(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nmax_fds = 8\n".to_string(), 5, 11, "between 16 and 1048576, found 8")]
    #[case::idle_timeout_on_udp(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\nidle_timeout_ms = 100\n".to_string(), 5, 19, "\"idle_timeout_ms\" is only valid with proto = \"tcp\"")]
    #[case::unknown_upstream(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nmode = \"forward\"\nupstream = \"mirror\"\n".to_string(), 6, 12, "unknown upstream \"mirror\"; expected one of: scripted, echo, discard, close-on-half-close")]
    #[case::upstream_on_echo(
        "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"tcp\"\nupstream = \"echo\"\n".to_string(), 5, 12, "applies to mode = \"forward\" only")]
    fn bad_input_is_located(
        #[case] src: String,
        #[case] line: usize,
        #[case] column: usize,
        #[case] phrase: &str,
    ) {
        assert_located(&src, line, column, phrase);
    }
}
