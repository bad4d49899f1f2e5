//! `[sockopts.<actor>]`: socket options a client actor's sockets get
//! before connect (UDP: before bind). Checked against the actors (declared
//! client actors only: the upstream's sockets are accepted, not opened)
//! and the target (TCP-only options on a UDP scenario, a source address
//! that is loopback and of the server's family).

use super::check::{check_range, verr, Names, VResult};
use super::raw::{RawKeepalive, RawSockopts, S};
use crate::model::{limits, Actor, ActorKind, Keepalive, Proto, SockOpts, TargetSpec};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What can be wrong in `[sockopts]` (numbers out of range aside).
#[derive(Debug, thiserror::Error)]
enum SockoptsProblem {
    #[error("[sockopts.{name}] names an actor that is not declared; declared actors: {declared}")]
    UnknownActor { name: String, declared: Names },
    #[error("[sockopts.upstream]: the upstream's sockets are accepted by the harness, not opened by a client; socket options apply to client actors")]
    Upstream,
    #[error("[sockopts.{0}] sets no option; expected one or more of: rcvbuf, sndbuf, nodelay, linger_s, keepalive, source")]
    Empty(String),
    #[error("\"{0}\" is a TCP option, found proto = \"udp\"")]
    TcpOnly(&'static str),
    #[error("source address \"{0}\" is not loopback; expected an address in 127.0.0.0/8 or ::1")]
    SourceNotLoopback(String),
    #[error(
        "invalid source address \"{0}\"; expected a loopback IP such as 127.0.0.2 or ::1 (no port)"
    )]
    SourceNotAnIp(String),
    #[error("source address \"{addr}\" is not of the server's address family (bind = \"{bind}\")")]
    SourceFamily { addr: String, bind: String },
}

type RawTables = BTreeMap<S<String>, S<RawSockopts>>;

pub(super) fn validate_sockopts(
    raw: Option<&S<RawTables>>,
    actors: &[Actor],
    target: &TargetSpec,
) -> VResult<BTreeMap<String, SockOpts>> {
    let mut out = BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(out);
    };
    // File order, so the first error in the file is the one reported.
    let mut entries: Vec<_> = raw.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (name, table) in entries {
        let n = name.get_ref();
        match actors.iter().find(|a| a.name == *n) {
            None => {
                let declared = actors
                    .iter()
                    .filter(|a| a.kind == ActorKind::Client)
                    .map(|a| a.name.clone())
                    .collect();
                return verr(
                    name.span(),
                    SockoptsProblem::UnknownActor {
                        name: n.clone(),
                        declared: Names(declared),
                    },
                );
            }
            Some(a) if a.kind == ActorKind::Upstream => {
                return verr(name.span(), SockoptsProblem::Upstream)
            }
            Some(_) => {}
        }
        let opts = one(table, target)?;
        if opts == SockOpts::default() {
            return verr(name.span(), SockoptsProblem::Empty(n.clone()));
        }
        out.insert(n.clone(), opts);
    }
    Ok(out)
}

/// A TCP-only key on a UDP scenario is an error at its value.
fn tcp_only<T>(v: &Option<S<T>>, key: &'static str, proto: Proto) -> VResult<()> {
    match v {
        Some(v) if proto == Proto::Udp => verr(v.span(), SockoptsProblem::TcpOnly(key)),
        _ => Ok(()),
    }
}

fn opt_u32(v: &Option<S<u64>>, key: &'static str, min: u64, max: u64) -> VResult<Option<u32>> {
    // Every bound used here fits in a u32.
    v.as_ref()
        .map(|v| check_range(v, key, min, max).map(|n| n as u32))
        .transpose()
}

fn one(table: &S<RawSockopts>, target: &TargetSpec) -> VResult<SockOpts> {
    let t = table.get_ref();
    let proto = target.proto;
    tcp_only(&t.nodelay, "nodelay", proto)?;
    tcp_only(&t.linger_s, "linger_s", proto)?;
    tcp_only(&t.keepalive, "keepalive", proto)?;
    Ok(SockOpts {
        rcvbuf: opt_u32(&t.rcvbuf, "rcvbuf", 1, limits::MAX_SOCK_BUF)?,
        sndbuf: opt_u32(&t.sndbuf, "sndbuf", 1, limits::MAX_SOCK_BUF)?,
        nodelay: t.nodelay.as_ref().map(|v| *v.get_ref()),
        linger_s: opt_u32(&t.linger_s, "linger_s", 0, limits::MAX_LINGER_S)?,
        keepalive: t.keepalive.as_ref().map(keepalive).transpose()?,
        source: t.source.as_ref().map(|s| source(s, target)).transpose()?,
    })
}

fn keepalive(k: &S<RawKeepalive>) -> VResult<Keepalive> {
    let k = k.get_ref();
    Ok(Keepalive {
        idle_s: opt_u32(&k.idle_s, "idle_s", 1, limits::MAX_KEEPALIVE_S)?,
        interval_s: opt_u32(&k.interval_s, "interval_s", 1, limits::MAX_KEEPALIVE_S)?,
        count: opt_u32(&k.count, "count", 1, limits::MAX_KEEPALIVE_COUNT)?,
    })
}

fn source(s: &S<String>, target: &TargetSpec) -> VResult<IpAddr> {
    let text = s.get_ref();
    let ip = match text.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => ip,
        Ok(_) => return verr(s.span(), SockoptsProblem::SourceNotLoopback(text.clone())),
        Err(_) => return verr(s.span(), SockoptsProblem::SourceNotAnIp(text.clone())),
    };
    // `bind` was checked to be a loopback IP already.
    let server_v6 = target.bind.parse::<IpAddr>().is_ok_and(|b| b.is_ipv6());
    if ip.is_ipv6() != server_v6 {
        return verr(
            s.span(),
            SockoptsProblem::SourceFamily {
                addr: text.clone(),
                bind: target.bind.clone(),
            },
        );
    }
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use crate::model::{Keepalive, SockOpts};
    use crate::parse::parse_str;
    use crate::parse::test_support::{assert_located, p, with_head, with_udp_head, HEAD, TAIL};
    use rstest::rstest;

    #[test]
    fn every_option_parses_to_the_model() {
        let src = with_head(
            "actors = [\"a\"]\ngroups = { crowd = 3 }\n\
             [sockopts.a]\nrcvbuf = 4096\nsndbuf = 8192\nnodelay = false\nlinger_s = 0\n\
             keepalive = { idle_s = 5, interval_s = 2, count = 3 }\nsource = \"127.0.0.2\"\n\
             [sockopts.crowd]\nkeepalive = {}\n",
        );
        let s = parse_str(&src, &p()).unwrap();
        assert_eq!(
            s.sockopts["a"],
            SockOpts {
                rcvbuf: Some(4096),
                sndbuf: Some(8192),
                nodelay: Some(false),
                linger_s: Some(0),
                keepalive: Some(Keepalive {
                    idle_s: Some(5),
                    interval_s: Some(2),
                    count: Some(3),
                }),
                source: Some("127.0.0.2".parse().unwrap()),
            }
        );
        // An empty keepalive table: SO_KEEPALIVE on, the OS's parameters.
        assert_eq!(s.sockopts["crowd"].keepalive, Some(Keepalive::default()));
        assert_eq!(s.sockopts.len(), 2);
    }

    #[test]
    fn udp_takes_buffers_and_an_ipv6_source() {
        let src = format!(
            "name = \"x\"\nsummary = \"y\"\n[target]\nproto = \"udp\"\nbind = \"::1\"\n\
             actors = [\"a\"]\n[sockopts.a]\nrcvbuf = 2048\nsource = \"::1\"\n{TAIL}"
        );
        let s = parse_str(&src, &p()).unwrap();
        assert_eq!(s.sockopts["a"].rcvbuf, Some(2048));
        assert_eq!(s.sockopts["a"].source, Some("::1".parse().unwrap()));
    }

    #[rstest]
    #[case::undeclared_actor(
        with_head("actors = [\"a\"]\n[sockopts.b]\nrcvbuf = 1\n"),
        6,
        11,
        "[sockopts.b] names an actor that is not declared; declared actors: a"
    )]
    #[case::upstream(
        format!("{HEAD}mode = \"forward\"\nactors = [\"a\"]\n[sockopts.upstream]\nrcvbuf = 1\n{TAIL}"),
        7, 11, "the upstream's sockets are accepted")]
    #[case::empty_table(
        with_head("actors = [\"a\"]\n[sockopts.a]\n"),
        6,
        11,
        "[sockopts.a] sets no option"
    )]
    #[case::unknown_key(
        with_head("actors = [\"a\"]\n[sockopts.a]\nrcvbuff = 1\n"),
        7,
        1,
        "unknown key \"rcvbuff\" in [sockopts.a]"
    )]
    #[case::unknown_keepalive_key(
        with_head("actors = [\"a\"]\n[sockopts.a]\nkeepalive = { idle = 1 }\n"),
        7,
        15,
        "unknown key \"idle\""
    )]
    #[case::wrong_type(
        with_head("actors = [\"a\"]\n[sockopts.a]\nnodelay = \"yes\"\n"),
        7,
        11,
        "expected a boolean"
    )]
    #[case::rcvbuf_zero(
        with_head("actors = [\"a\"]\n[sockopts.a]\nrcvbuf = 0\n"),
        7,
        10,
        "\"rcvbuf\" must be between 1 and 67108864, found 0"
    )]
    #[case::sndbuf_too_big(
        with_head("actors = [\"a\"]\n[sockopts.a]\nsndbuf = 100000000\n"),
        7,
        10,
        "\"sndbuf\" must be between 1 and 67108864"
    )]
    #[case::linger_too_long(
        with_head("actors = [\"a\"]\n[sockopts.a]\nlinger_s = 6\n"),
        7,
        12,
        "\"linger_s\" must be between 0 and 5, found 6"
    )]
    #[case::keepalive_idle_zero(
        with_head("actors = [\"a\"]\n[sockopts.a]\nkeepalive = { idle_s = 0 }\n"),
        7,
        24,
        "\"idle_s\" must be between 1 and 32767, found 0"
    )]
    #[case::keepalive_count_too_big(
        with_head("actors = [\"a\"]\n[sockopts.a]\nkeepalive = { count = 128 }\n"),
        7,
        23,
        "\"count\" must be between 1 and 127, found 128"
    )]
    #[case::source_not_loopback(
        with_head("actors = [\"a\"]\n[sockopts.a]\nsource = \"10.0.0.1\"\n"),
        7,
        10,
        "source address \"10.0.0.1\" is not loopback"
    )]
    #[case::source_with_port(
        with_head("actors = [\"a\"]\n[sockopts.a]\nsource = \"127.0.0.2:5000\"\n"),
        7,
        10,
        "invalid source address \"127.0.0.2:5000\""
    )]
    #[case::source_other_family(
        with_head("actors = [\"a\"]\n[sockopts.a]\nsource = \"::1\"\n"),
        7,
        10,
        "source address \"::1\" is not of the server's address family (bind = \"127.0.0.1\")"
    )]
    #[case::nodelay_on_udp(
        with_udp_head("actors = [\"a\"]\n[sockopts.a]\nnodelay = true\n"),
        7,
        11,
        "\"nodelay\" is a TCP option, found proto = \"udp\""
    )]
    #[case::linger_on_udp(
        with_udp_head("actors = [\"a\"]\n[sockopts.a]\nrcvbuf = 1\nlinger_s = 0\n"),
        8,
        12,
        "\"linger_s\" is a TCP option"
    )]
    #[case::keepalive_on_udp(
        with_udp_head("actors = [\"a\"]\n[sockopts.a]\nkeepalive = {}\n"),
        7,
        13,
        "\"keepalive\" is a TCP option"
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
