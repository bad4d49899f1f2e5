//! Reference servers, run as child processes (`netrepro serve`): naive (what
//! people really write) and hardened (the known fixes applied).

use crate::scenario::{Impl, Mode, Proto};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long = "impl", value_enum)]
    pub impl_: ImplArg,
    #[arg(long, value_enum)]
    pub proto: ProtoArg,
    #[arg(long, value_enum, default_value = "echo")]
    pub mode: ModeArg,
    /// Forward mode: where to connect for each accepted client.
    #[arg(long)]
    pub upstream: Option<std::net::SocketAddr>,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Linux: IP_RECVERR on the UDP socket (ICMP errors surface on recv).
    #[arg(long)]
    pub ip_recverr: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImplArg { Naive, Hardened }
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProtoArg { Tcp, Udp }
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg { Echo, Forward }

impl From<ImplArg> for Impl { fn from(a: ImplArg) -> Impl { match a { ImplArg::Naive => Impl::Naive, ImplArg::Hardened => Impl::Hardened } } }
impl From<ProtoArg> for Proto { fn from(a: ProtoArg) -> Proto { match a { ProtoArg::Tcp => Proto::Tcp, ProtoArg::Udp => Proto::Udp } } }
impl From<ModeArg> for Mode { fn from(a: ModeArg) -> Mode { match a { ModeArg::Echo => Mode::Echo, ModeArg::Forward => Mode::Forward } } }

/// Run a server until it dies; returns the process exit code.
pub fn run(_args: ServeArgs) -> std::process::ExitCode {
    todo!()
}
