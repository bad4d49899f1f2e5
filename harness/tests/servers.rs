//! Reference servers as real child processes (`netrepro serve ...`): each
//! announces itself, echoes, and naive/hardened fail/survive the seed
//! scenarios. Every wait is bounded; children are killed on drop.

use netrepro_observe::ServerEvent;
use netrepro_sys::errors::ErrorClass;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

struct Server {
    child: Child,
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<ServerEvent>,
    seen: Vec<ServerEvent>,
}

impl Server {
    async fn spawn(args: &[&str]) -> Server {
        Self::spawn_cmd(command(args)).await
    }

    /// A TCP forwarder of implementation `imp` relaying to `upstream`.
    async fn forward(imp: &str, upstream: &str) -> Server {
        Self::spawn(&[
            "--impl",
            imp,
            "--proto",
            "tcp",
            "--mode",
            "forward",
            "--upstream",
            upstream,
        ])
        .await
    }

    async fn spawn_cmd(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn netrepro serve");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<ServerEvent>(&line) {
                    Ok(ev) => {
                        let _ = tx.send(ev);
                    }
                    Err(_) => eprintln!("server stderr (not an event): {line}"),
                }
            }
        });
        let mut stdout = BufReader::new(stdout).lines();
        let line = timeout(WAIT, stdout.next_line())
            .await
            .expect("LISTENING line in time")
            .expect("read stdout")
            .expect("stdout not closed before LISTENING");
        let addr = line
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("LISTENING <addr>");
        // Keep draining stdout so the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        Server {
            child,
            addr,
            events,
            seen: Vec::new(),
        }
    }

    /// Wait for the first event matching `pred` (bounded).
    async fn wait_event(&mut self, what: &str, pred: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
        if let Some(ev) = self.seen.iter().find(|e| pred(e)) {
            return ev.clone();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ev)) => {
                    self.seen.push(ev.clone());
                    if pred(&ev) {
                        return ev;
                    }
                }
                Ok(None) | Err(_) => panic!("no event {what}; saw {:?}", self.seen),
            }
        }
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().expect("try_wait").is_none(),
            "server exited; events {:?}",
            self.seen
        );
    }
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netrepro"));
    cmd.arg("serve").args(args);
    cmd
}

async fn tcp_echo_roundtrip(addr: SocketAddr, msg: &[u8]) {
    let mut s = timeout(WAIT, TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    s.write_all(msg).await.unwrap();
    let mut got = vec![0u8; msg.len()];
    timeout(WAIT, s.read_exact(&mut got))
        .await
        .expect("echo in time")
        .unwrap();
    assert_eq!(got, msg);
}

async fn udp_echo_roundtrip(addr: SocketAddr, msg: &[u8]) {
    let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    c.send_to(msg, addr).await.unwrap();
    let mut buf = [0u8; 4096];
    let (n, from) = timeout(WAIT, c.recv_from(&mut buf))
        .await
        .expect("udp echo in time")
        .unwrap();
    assert_eq!(from, addr);
    assert_eq!(&buf[..n], msg);
}

/// An upstream that echoes every connection (for plain forwarding checks).
async fn echo_upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn tcp_echo_every_impl_announces_and_echoes() {
    for imp in ["naive", "naive-seq", "hardened"] {
        let server = Server::spawn(&["--impl", imp, "--proto", "tcp", "--mode", "echo"]).await;
        assert!(server.addr.ip().is_loopback());
        assert_ne!(server.addr.port(), 0);
        tcp_echo_roundtrip(server.addr, b"hello").await;
        tcp_echo_roundtrip(server.addr, &vec![7u8; 100_000]).await;
    }
}

#[tokio::test]
async fn tcp_echo_hardened_sends_fin_after_echoing_everything() {
    let server = Server::spawn(&["--impl", "hardened", "--proto", "tcp"]).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"last words").await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    timeout(WAIT, s.read_to_end(&mut got))
        .await
        .expect("EOF in time")
        .unwrap();
    assert_eq!(got, b"last words");
}

#[tokio::test]
async fn udp_echo_every_impl_announces_and_echoes() {
    for imp in ["naive", "naive-seq", "hardened"] {
        let server = Server::spawn(&["--impl", imp, "--proto", "udp", "--mode", "echo"]).await;
        udp_echo_roundtrip(server.addr, b"ping").await;
        udp_echo_roundtrip(server.addr, &[1u8; 1500]).await;
    }
}

#[tokio::test]
async fn tcp_forward_every_impl_forwards() {
    let up = echo_upstream().await.to_string();
    for imp in ["naive", "naive-seq", "hardened"] {
        let server = Server::forward(imp, &up).await;
        tcp_echo_roundtrip(server.addr, b"through the forwarder").await;
    }
}

/// Abort a connection: SO_LINGER 0, then close (the peer gets an RST).
fn abort(s: TcpStream) {
    let s = s.into_std().unwrap();
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
}

#[tokio::test]
async fn naive_seq_dies_of_one_reset() {
    let mut server = Server::spawn(&["--impl", "naive-seq", "--proto", "tcp"]).await;
    let mut a = TcpStream::connect(server.addr).await.unwrap();
    a.write_all(b"x").await.unwrap();
    let mut one = [0u8; 1];
    timeout(WAIT, a.read_exact(&mut one))
        .await
        .unwrap()
        .unwrap();
    abort(a);
    let ev = server.wait_event("fatal recv", |e| e.fatal).await;
    assert_eq!(ev.class, ErrorClass::Reset);
    let status = timeout(WAIT, server.child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(1));
}

#[tokio::test]
async fn naive_seq_serves_nobody_behind_an_idle_client() {
    let server = Server::spawn(&["--impl", "naive-seq", "--proto", "tcp"]).await;
    let idle = TcpStream::connect(server.addr).await.unwrap();
    // The accept queue is FIFO: the server takes `idle` first and then
    // sits in read() on it.
    let mut b = TcpStream::connect(server.addr).await.unwrap();
    b.write_all(b"hello").await.unwrap();
    let mut got = [0u8; 5];
    // Bounded wait that must run out: b sits in the listen queue.
    let r = timeout(Duration::from_millis(300), b.read_exact(&mut got)).await;
    assert!(r.is_err(), "b was served while idle was connected: {r:?}");
    drop(idle);
    timeout(WAIT, b.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got, b"hello");
}

#[tokio::test]
async fn forward_without_upstream_is_a_usage_error() {
    let out = timeout(
        WAIT,
        command(&["--impl", "naive", "--proto", "tcp", "--mode", "forward"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn forward_upstream_refused_is_logged_not_fatal() {
    // A port with nothing listening: bind, read the port, close.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    for imp in ["naive", "hardened"] {
        let mut server = Server::forward(imp, &dead).await;
        let mut c = TcpStream::connect(server.addr).await.unwrap();
        let mut buf = [0u8; 1];
        // The server drops the client once the upstream connect fails.
        let _ = timeout(WAIT, c.read(&mut buf))
            .await
            .expect("client closed in time");
        let ev = server
            .wait_event("connect_upstream refused", |e| e.op == "connect_upstream")
            .await;
        assert_eq!(ev.class, ErrorClass::Refused);
        assert!(!ev.fatal);
        server.assert_alive();
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;

    impl Server {
        fn pid(&self) -> u32 {
            self.child.id().expect("running")
        }

        /// Exit code after the process ends by itself (bounded).
        async fn wait_exit(&mut self) -> Option<i32> {
            let status = timeout(WAIT, self.child.wait())
                .await
                .expect("server exits in time")
                .expect("wait");
            status.code()
        }

        /// Everything logged so far (the stderr pipe is read to its end once the
        /// process has exited).
        async fn drain_events(&mut self) -> &[ServerEvent] {
            while let Ok(Some(ev)) = timeout(WAIT, self.events.recv()).await {
                self.seen.push(ev);
            }
            &self.seen
        }
    }

    fn fd_count(pid: u32) -> usize {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("/proc/PID/fd")
            .count()
    }

    /// Poll /proc (bounded) until `pred(fd count)` holds; returns the last count.
    async fn wait_fds(pid: u32, what: &str, pred: impl Fn(usize) -> bool) -> usize {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let n = fd_count(pid);
            if pred(n) {
                return n;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "fd count never {what}; last {n}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every thread of `pid` is stopped (after SIGSTOP).
    async fn wait_stopped(pid: u32) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let all_stopped = std::fs::read_dir(format!("/proc/{pid}/task"))
                .unwrap()
                .all(|t| {
                    let stat =
                        std::fs::read_to_string(t.unwrap().path().join("stat")).unwrap_or_default();
                    // state is the field after the ")" closing the command name
                    stat.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('T'))
                        .unwrap_or(false)
                });
            if all_stopped {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never stopped"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn signal(pid: u32, sig: i32) {
        // SAFETY: plain kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
    }

    /// Client A sends a datagram and closes its socket before the server
    /// replies. Deterministic: the server is SIGSTOPped while A sends and
    /// closes, so its echo always goes to a closed port (ICMP port unreachable).
    async fn vanishing_client(server: &Server) {
        let pid = server.pid();
        signal(pid, libc::SIGSTOP);
        wait_stopped(pid).await;
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"are you there?", server.addr).await.unwrap();
        drop(a);
        signal(pid, libc::SIGCONT);
    }

    #[tokio::test]
    async fn udp_naive_with_ip_recverr_dies_like_the_seed_bug() {
        let mut server = Server::spawn(&[
            "--impl",
            "naive",
            "--proto",
            "udp",
            "--mode",
            "echo",
            "--ip-recverr",
        ])
        .await;
        udp_echo_roundtrip(server.addr, b"before").await;
        vanishing_client(&server).await;
        assert_eq!(server.wait_exit().await, Some(1));
        let events = server.drain_events().await.to_vec();
        let fatal: Vec<_> = events.iter().filter(|e| e.fatal).collect();
        assert_eq!(fatal.len(), 1, "exactly one fatal event: {events:?}");
        assert_eq!(fatal[0].name, "ECONNREFUSED");
        assert_eq!(fatal[0].raw, Some(libc::ECONNREFUSED));
        assert_eq!(fatal[0].class, ErrorClass::Refused);
        assert_eq!(fatal[0].op, "recv_from");
    }

    #[tokio::test]
    async fn udp_naive_without_ip_recverr_survives_on_linux() {
        let mut server =
            Server::spawn(&["--impl", "naive", "--proto", "udp", "--mode", "echo"]).await;
        vanishing_client(&server).await;
        udp_echo_roundtrip(server.addr, b"second client").await;
        server.assert_alive();
    }

    #[tokio::test]
    async fn udp_hardened_with_ip_recverr_survives_and_serves_the_next_client() {
        let mut server = Server::spawn(&[
            "--impl",
            "hardened",
            "--proto",
            "udp",
            "--mode",
            "echo",
            "--ip-recverr",
        ])
        .await;
        vanishing_client(&server).await;
        let ev = server
            .wait_event("recv_from ECONNREFUSED", |e| e.op == "recv_from")
            .await;
        assert_eq!(
            (ev.name.as_str(), ev.class, ev.fatal),
            ("ECONNREFUSED", ErrorClass::Refused, false)
        );
        udp_echo_roundtrip(server.addr, b"second client").await;
        // And again: the socket stays usable after repeated reports.
        vanishing_client(&server).await;
        udp_echo_roundtrip(server.addr, b"third client").await;
        server.assert_alive();
    }

    /// Upstream that accepts one connection and hands it to the test.
    async fn holding_upstream() -> (SocketAddr, tokio::sync::oneshot::Receiver<TcpStream>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            if let Ok((s, _)) = l.accept().await {
                let _ = tx.send(s);
            }
        });
        (addr, rx)
    }

    /// Client connects through the forwarder, sends, then aborts (RST).
    /// Returns the upstream's end once it has read the bytes.
    async fn client_aborts_through(
        server: &Server,
        upstream: tokio::sync::oneshot::Receiver<TcpStream>,
    ) -> TcpStream {
        let c = TcpStream::connect(server.addr).await.unwrap();
        let mut c = c;
        c.write_all(b"ping").await.unwrap();
        let mut up = timeout(WAIT, upstream)
            .await
            .expect("upstream connected")
            .unwrap();
        let mut got = [0u8; 4];
        timeout(WAIT, up.read_exact(&mut got))
            .await
            .expect("bytes forwarded")
            .unwrap();
        assert_eq!(&got, b"ping");
        c.set_zero_linger().unwrap();
        drop(c); // RST
        up
    }

    /// The peer aborted: the read fails with ECONNRESET (no data, no EOF).
    async fn read_reset(s: &mut TcpStream) {
        let mut rest = Vec::new();
        let err = timeout(WAIT, s.read_to_end(&mut rest))
            .await
            .expect("reset in time")
            .expect_err("an abort, not a clean EOF");
        assert_eq!(err.raw_os_error(), Some(libc::ECONNRESET), "{err:?}");
        assert!(rest.is_empty(), "no data expected");
    }

    #[tokio::test]
    async fn forward_naive_leaks_both_sockets_while_upstream_stays_open() {
        let (up_addr, up_rx) = holding_upstream().await;
        let up_s = up_addr.to_string();
        let mut server = Server::forward("naive", &up_s).await;
        let pid = server.pid();
        let baseline = fd_count(pid);
        let mut up = client_aborts_through(&server, up_rx).await;
        // The client->upstream task saw the RST and returned ...
        let ev = server.wait_event("recv reset", |e| e.op == "recv").await;
        assert_eq!((ev.class, ev.fatal), (ErrorClass::Reset, false));
        // ... without telling anyone: the upstream sees neither FIN nor RST
        // (over a bounded window) ...
        let mut one = [0u8; 1];
        let quiet = timeout(Duration::from_millis(300), up.read(&mut one)).await;
        assert!(
            quiet.is_err(),
            "upstream must not hear of the abort: {quiet:?}"
        );
        // ... and the sibling still blocks on the upstream read, holding both
        // sockets: nothing else can free them while the upstream stays open.
        // Observe over a bounded window that the count does not come back.
        let window = tokio::time::Instant::now() + Duration::from_millis(500);
        while tokio::time::Instant::now() < window {
            let n = fd_count(pid);
            assert_eq!(
                n,
                baseline + 2,
                "naive forwarder holds client + upstream sockets"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The leak ends only when the upstream closes.
        drop(up);
        wait_fds(pid, "back to baseline after upstream close", |n| {
            n == baseline
        })
        .await;
        server.assert_alive();
    }

    #[tokio::test]
    async fn forward_hardened_closes_both_sockets_when_client_aborts() {
        let (up_addr, up_rx) = holding_upstream().await;
        let up_s = up_addr.to_string();
        let mut server = Server::forward("hardened", &up_s).await;
        let pid = server.pid();
        let baseline = fd_count(pid);
        let mut up = client_aborts_through(&server, up_rx).await;
        let ev = server.wait_event("recv reset", |e| e.op == "recv").await;
        assert_eq!((ev.class, ev.fatal), (ErrorClass::Reset, false));
        // Upstream still open on our side, yet the forwarder let go of both,
        // and passed the client's abort on as an abort.
        wait_fds(pid, "back to baseline", |n| n == baseline).await;
        read_reset(&mut up).await;
        server.assert_alive();
    }

    #[tokio::test]
    async fn forward_hardened_propagates_client_half_close() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_s = l.local_addr().unwrap().to_string();
        let upstream = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut req = Vec::new();
            // Completes only if the forwarder propagated the client's FIN.
            timeout(WAIT, s.read_to_end(&mut req))
                .await
                .expect("upstream sees EOF")
                .unwrap();
            s.write_all(b"reply to ").await.unwrap();
            s.write_all(&req).await.unwrap();
            req
        });
        let server = Server::forward("hardened", &up_s).await;
        let mut c = TcpStream::connect(server.addr).await.unwrap();
        c.write_all(b"request").await.unwrap();
        c.shutdown().await.unwrap();
        let mut reply = Vec::new();
        timeout(WAIT, c.read_to_end(&mut reply))
            .await
            .expect("reply and EOF in time")
            .unwrap();
        assert_eq!(reply, b"reply to request");
        assert_eq!(timeout(WAIT, upstream).await.unwrap().unwrap(), b"request");
    }

    fn with_nofile(args: &[&str], limit: u64) -> Command {
        let mut cmd = command(args);
        // SAFETY: setrlimit is async-signal-safe; runs in the child before exec.
        unsafe {
            cmd.pre_exec(move || {
                let rl = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    const NOFILE: u64 = 32;
    const CLIENTS: usize = 64;

    /// Open up to CLIENTS connections; they complete from the listen backlog
    /// even when the server cannot accept. With `stop_on_error`, the first
    /// failed connect ends the loop (the naive server may already be dead:
    /// later connects see ECONNREFUSED, or ECONNRESET for a handshake that
    /// was pending when the listener closed).
    async fn connect_many(addr: SocketAddr, stop_on_error: bool) -> Vec<TcpStream> {
        let mut v = Vec::new();
        for _ in 0..CLIENTS {
            match timeout(WAIT, TcpStream::connect(addr))
                .await
                .expect("connect in time")
            {
                Ok(s) => v.push(s),
                Err(e) if stop_on_error => {
                    eprintln!("connect #{} failed: {e}", v.len());
                    break;
                }
                Err(e) => panic!("connect #{} failed: {e}", v.len()),
            }
        }
        v
    }

    #[tokio::test]
    async fn tcp_echo_naive_dies_of_emfile_under_low_rlimit() {
        let mut server =
            Server::spawn_cmd(with_nofile(&["--impl", "naive", "--proto", "tcp"], NOFILE)).await;
        let clients = connect_many(server.addr, true).await;
        assert!(clients.len() as u64 >= NOFILE / 2, "server died too early");
        assert_eq!(server.wait_exit().await, Some(1));
        let events = server.drain_events().await.to_vec();
        let fatal: Vec<_> = events.iter().filter(|e| e.fatal).collect();
        assert_eq!(fatal.len(), 1, "{events:?}");
        assert_eq!(fatal[0].op, "accept");
        assert_eq!(fatal[0].name, "EMFILE");
        assert_eq!(fatal[0].raw, Some(libc::EMFILE));
        assert_eq!(fatal[0].class, ErrorClass::ResourceExhausted);
    }

    #[tokio::test]
    async fn tcp_echo_hardened_keeps_serving_under_low_rlimit() {
        let mut server = Server::spawn_cmd(with_nofile(
            &["--impl", "hardened", "--proto", "tcp"],
            NOFILE,
        ))
        .await;
        let pid = server.pid();
        let mut clients = connect_many(server.addr, false).await;
        // The first ones are served while the rest wait in the backlog.
        for c in clients.iter_mut().take(4) {
            c.write_all(b"hi").await.unwrap();
            let mut got = [0u8; 2];
            timeout(WAIT, c.read_exact(&mut got))
                .await
                .expect("served")
                .unwrap();
        }
        assert!(fd_count(pid) as u64 <= NOFILE);
        drop(clients);
        // Every backlogged connection is accepted and closed in turn, then a
        // fresh client is served.
        tcp_echo_roundtrip(server.addr, b"still here").await;
        server.assert_alive();
        while let Ok(ev) = server.events.try_recv() {
            server.seen.push(ev);
        }
        let bad: Vec<_> = server
            .seen
            .iter()
            .filter(|e| e.fatal || e.op == "accept")
            .collect();
        assert!(bad.is_empty(), "hardened never runs out of fds: {bad:?}");
    }
}
