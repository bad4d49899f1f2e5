//! The built-in servers listen on ports the harness picks, outside the
//! OS's ephemeral range (`runner/src/start/builtin.rs`): a port the kernel
//! picked for a server that then crashed could go to the next run's server
//! at once, and the crashed run's next client reached that one.

mod common;

/// The port of a result's `LISTENING <addr>` line.
fn listening_port(r: &serde_json::Value) -> Option<u16> {
    r["output"]["stdout_tail"]
        .as_array()?
        .iter()
        .filter_map(|l| l.as_str()?.strip_prefix("LISTENING "))
        .find_map(|a| a.trim().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
}

#[test]
fn built_in_servers_listen_outside_the_ephemeral_range_on_ports_not_repeated() {
    if netrepro_sys::ports::listen_range().is_none() {
        eprintln!("SKIP: this host's ephemeral range leaves no room for a listen range");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // TCP and UDP, all three servers: 12 servers in one run.
    let (out, res) = common::run_report(
        &[
            "scenarios/tcp/idle-client.toml",
            "scenarios/tcp/rst-mid-request.toml",
            "scenarios/udp/zero-length-datagram.toml",
            "scenarios/udp/max-size-datagram.toml",
        ],
        dir.path(),
    );
    assert_eq!(res.len(), 12, "{}", String::from_utf8_lossy(&out.stderr));
    let eph = netrepro_sys::ports::ephemeral_range();
    let mut seen = std::collections::HashSet::new();
    for r in &res {
        let port = listening_port(r).unwrap_or_else(|| panic!("no LISTENING line: {r}"));
        assert!(!eph.contains(&u32::from(port)), "{port} is in {eph:?}: {r}");
        assert!(seen.insert(port), "port {port} handed out twice in one run");
    }
}
