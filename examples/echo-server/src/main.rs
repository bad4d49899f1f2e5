//! A small tokio TCP echo server: the example target of netrepro-testing.
//!
//! `echo-server [--port N] [--bug-exit-on-reset]` listens on 127.0.0.1
//! (port 0 = any free port), prints `LISTENING <addr>` once it accepts
//! connections, and echoes every connection until the client closes it. An
//! error on one connection ends that connection only.
//!
//! `--bug-exit-on-reset` is a deliberate bug of the class netrepro exists
//! to catch (Natter, Tribler): the first ECONNRESET on any connection ends
//! the whole process, so one client that aborts takes the server down for
//! everyone.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Command-line options.
struct Options {
    port: u16,
    bug_exit_on_reset: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        port: 0,
        bug_exit_on_reset: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                o.port = v.parse().map_err(|_| format!("--port {v:?}: not a port"))?;
            }
            "--bug-exit-on-reset" => o.bug_exit_on_reset = true,
            _ => {
                return Err(format!(
                    "unknown argument {a:?}; usage: echo-server [--port N] [--bug-exit-on-reset]"
                ))
            }
        }
    }
    Ok(o)
}

/// Echo until EOF or an error; the error is returned to the caller.
async fn echo(mut s: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
    }
}

#[tokio::main]
async fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("echo-server: {e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, o.port))).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("echo-server: bind 127.0.0.1:{}: {e}", o.port);
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("LISTENING {a}"),
        Err(e) => {
            eprintln!("echo-server: local address: {e}");
            std::process::exit(1);
        }
    }
    loop {
        let (s, peer) = match listener.accept().await {
            Ok(c) => c,
            // A failed accept (a connection reset while queued, no
            // descriptors left) concerns that connection, not the server.
            Err(e) => {
                eprintln!("echo-server: accept: {e}");
                continue;
            }
        };
        let bug = o.bug_exit_on_reset;
        tokio::spawn(async move {
            if let Err(e) = echo(s).await {
                eprintln!("echo-server: {peer}: {e}");
                if bug && e.kind() == ErrorKind::ConnectionReset {
                    // The deliberate bug: one client's reset ends the server.
                    std::process::exit(1);
                }
            }
        });
    }
}
