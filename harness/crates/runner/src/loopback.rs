//! The harness's own client-side sockets stay on loopback: a UDP socket for
//! a step or for the probe is bound to the loopback address of the server's
//! family, so traffic never leaves the machine and `::1` scenarios stay IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;

/// A UDP socket bound to the loopback address of `server`'s family.
pub async fn udp_socket_for(server: SocketAddr) -> std::io::Result<UdpSocket> {
    let ip: IpAddr = if server.is_ipv6() {
        Ipv6Addr::LOCALHOST.into()
    } else {
        Ipv4Addr::LOCALHOST.into()
    };
    UdpSocket::bind(SocketAddr::new(ip, 0)).await
}
