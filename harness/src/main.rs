//! Minimal CLI for now: `netrepro serve ...` (the full CLI is merged later).

use clap::Parser;
use netrepro::servers;

#[derive(Parser)]
#[command(name = "netrepro", version, about)]
enum Cmd {
    /// Run a reference server (naive or hardened) until it dies.
    Serve(servers::ServeArgs),
}

fn main() -> std::process::ExitCode {
    match Cmd::parse() {
        Cmd::Serve(args) => servers::run(args),
    }
}
