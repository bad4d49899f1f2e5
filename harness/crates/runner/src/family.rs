//! The scenario's address family is part of the scenario (issue 10, item
//! 4): a `bind = "::1"` scenario must not run over IPv4 without a word. A
//! host without IPv6 loopback skips it ([`unavailable_skip`]); a
//! `--target-addr` of the other family is skipped with a note
//! ([`addr_skip`]); a `--target-cmd` program is given an address of the
//! scenario's family and must be ready there (an announced address of the
//! other family fails the setup: [`check_ready`]).

use std::net::{IpAddr, SocketAddr};

/// A scenario `bind` that is not an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad bind address {0:?}")]
pub struct BadBind(pub String);

/// A started program ready on an address of the other family than the
/// scenario's `bind`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the scenario binds {bind} ({}), but the target is ready on {ready} ({}); it must listen on the address it was given ({{addr}}/{{host}}/{{port}} are of the scenario's family)",
    family(.bind),
    family(&.ready.ip())
)]
pub struct FamilyMismatch {
    pub bind: IpAddr,
    pub ready: SocketAddr,
}

fn family(ip: &IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// The scenario's `bind` as an address.
pub fn bind_ip(bind: &str) -> Result<IpAddr, BadBind> {
    bind.parse().map_err(|_| BadBind(bind.to_string()))
}

/// The note for an IPv6 `bind` this host cannot listen on (no IPv6
/// loopback): such a scenario is skipped, not failed. `None` when it can
/// (an IPv4 `bind` is never skipped here).
pub fn unavailable_skip(bind: IpAddr) -> Option<String> {
    if !bind.is_ipv6() {
        return None;
    }
    let e = std::net::TcpListener::bind(SocketAddr::new(bind, 0)).err()?;
    Some(format!("{bind} is not available on this host: {e}"))
}

/// The note for a `--target-addr` whose family differs from the scenario's
/// `bind`, or `None` when they agree.
pub fn addr_skip(bind: IpAddr, target: SocketAddr) -> Option<String> {
    (bind.is_ipv4() != target.is_ipv4()).then(|| {
        format!(
            "skipped: the scenario binds {bind} ({}), but --target-addr {target} is {}; the address family is part of the scenario, so it is not run over the other one",
            family(&bind),
            family(&target.ip())
        )
    })
}

/// The setup error for a started program ready on `ready` when the scenario
/// binds `bind` of the other family.
pub fn check_ready(bind: IpAddr, ready: SocketAddr) -> Result<(), FamilyMismatch> {
    if bind.is_ipv4() == ready.is_ipv4() {
        return Ok(());
    }
    Err(FamilyMismatch { bind, ready })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_address_of_the_other_family_is_a_mismatch() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(check_ready(v4, "127.0.0.1:9".parse().unwrap()), Ok(()));
        assert_eq!(check_ready(v6, "[::1]:9".parse().unwrap()), Ok(()));
        let ready: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            check_ready(v6, ready),
            Err(FamilyMismatch { bind: v6, ready })
        );
        assert!(addr_skip(v4, ready).is_none());
        assert!(addr_skip(v6, ready).is_some());
    }

    #[test]
    fn a_bind_that_is_not_an_address_is_refused_and_ipv4_is_never_skipped() {
        assert_eq!(bind_ip("localhost"), Err(BadBind("localhost".into())));
        assert_eq!(bind_ip("::1"), Ok("::1".parse().unwrap()));
        assert_eq!(unavailable_skip("127.0.0.1".parse().unwrap()), None);
    }
}
