//! The harness's own client-side sockets stay on loopback: a UDP socket for
//! a step or for the probe is bound to the loopback address of the server's
//! family, so traffic never leaves the machine and `::1` scenarios stay IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;

/// The loopback address of `server`'s family.
pub fn ip_for(server: SocketAddr) -> IpAddr {
    if server.is_ipv6() {
        Ipv6Addr::LOCALHOST.into()
    } else {
        Ipv4Addr::LOCALHOST.into()
    }
}

/// A UDP socket bound to the loopback address of `server`'s family.
pub async fn udp_socket_for(server: SocketAddr) -> std::io::Result<UdpSocket> {
    UdpSocket::bind(SocketAddr::new(ip_for(server), 0)).await
}
