//! The scenario's address family is part of the scenario (issue 10, item
//! 4): a `bind = "::1"` scenario must not run over IPv4 without a word. A
//! `--target-addr` of the other family is skipped with a note; a
//! `--target-cmd` program is given an address of the scenario's family and
//! must be ready there (an announced address of the other family fails the
//! setup).

use std::net::{IpAddr, SocketAddr};

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// The note for a `--target-addr` whose family differs from the scenario's
/// `bind`, or `None` when they agree.
pub fn addr_skip(bind: IpAddr, target: SocketAddr) -> Option<String> {
    (bind.is_ipv4() != target.is_ipv4()).then(|| {
        format!(
            "skipped: the scenario binds {bind} ({}), but --target-addr {target} is {}; the address family is part of the scenario, so it is not run over the other one",
            family(bind),
            family(target.ip())
        )
    })
}

/// The setup error for a started program ready on `ready` when the scenario
/// binds `bind` of the other family.
pub fn check_ready(bind: IpAddr, ready: SocketAddr) -> Result<(), String> {
    if bind.is_ipv4() == ready.is_ipv4() {
        return Ok(());
    }
    Err(format!(
        "the scenario binds {bind} ({}), but the target is ready on {ready} ({}); it must listen on the address it was given ({{addr}}/{{host}}/{{port}} are of the scenario's family)",
        family(bind),
        family(ready.ip())
    ))
}
