//! netrepro's scenarios against this echo server, one test per scenario
//! (`tcp/rst-mid-request::echo-server`). `ECHO_SERVER_BUG=1` turns on the
//! server's deliberate bug, and the reset scenarios fail with netrepro's
//! diff. docs/reproduce.md shows this file; keep the two identical.

use netrepro_testing::{Suite, Target};

fn main() {
    let mut server = Target::program(env!("CARGO_BIN_EXE_echo-server")).args(["--port", "{port}"]);
    if std::env::var_os("ECHO_SERVER_BUG").is_some() {
        server = server.arg("--bug-exit-on-reset");
    }
    Suite::new()
        .catalog_only([
            "tcp/rst-mid-request",
            "tcp/rst-before-data",
            "tcp/rst-during-large-reply",
            "tcp/close-with-unread-data",
            "tcp/half-close-read-reply",
            "tcp/many-clients-one-aborts",
            "tcp/idle-client",
        ])
        .target("echo-server", server) // every scenario expects `survived`
        .run()
}
