//! The parsed, validated scenario: what the runner executes. Produced only by
//! `scenario::parse`, so every value here has already been checked.
//! `Proto` and `Mode` are also the command line's `--proto` / `--mode`
//! values (clap `ValueEnum`), so there is one list of each.

pub use netrepro_sys::platform::{Os, Platform};
pub use netrepro_sys::sockopt::{Keepalive, SockOpts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Transport of the server under test.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

/// What the server does with what it receives.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Sends every byte / datagram back to its sender.
    Echo,
    /// TCP port forwarder: each accepted connection is relayed to `--upstream`.
    Forward,
}

impl Proto {
    /// The name in scenario files, reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl Mode {
    /// The name in scenario files, reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Forward => "forward",
        }
    }
}

/// Which server: a built-in reference server, or the user's own program
/// (`run --target-cmd` / `--target-addr`). Scenario files state expectations
/// for the built-in ones only; the parser accepts naive, naive-seq, hardened.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Impl {
    /// Task (or thread) per connection, `?` on every socket call: one
    /// connection's error stays in its task by accident; accept errors end it.
    Naive,
    /// Rust-book chapter 20 style: one accept loop serving one connection
    /// at a time, `?` on every socket call up to `main`. TCP echo and
    /// forwarder only (see `servers`); UDP echo is the same as `naive`.
    #[serde(rename = "naive-seq")]
    NaiveSeq,
    Hardened,
    /// A server netrepro did not write; its expectation comes from the user.
    External,
}

/// The built-in reference servers: the [`Impl`]s netrepro can start itself
/// (`netrepro serve --impl`, `netrepro run --impl`, `explore --builtin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Builtin {
    Naive,
    NaiveSeq,
    Hardened,
}

impl Builtin {
    pub const ALL: [Builtin; 3] = [Builtin::Naive, Builtin::NaiveSeq, Builtin::Hardened];
}

impl From<Builtin> for Impl {
    fn from(b: Builtin) -> Impl {
        match b {
            Builtin::Naive => Impl::Naive,
            Builtin::NaiveSeq => Impl::NaiveSeq,
            Builtin::Hardened => Impl::Hardened,
        }
    }
}

impl Impl {
    /// The built-in server this is, if netrepro can start it itself.
    pub fn builtin(self) -> Option<Builtin> {
        match self {
            Impl::Naive => Some(Builtin::Naive),
            Impl::NaiveSeq => Some(Builtin::NaiveSeq),
            Impl::Hardened => Some(Builtin::Hardened),
            Impl::External => None,
        }
    }
}

impl Impl {
    /// The built-in implementations (the ones scenario files have expectations for).
    pub const ALL: [Impl; 3] = [Impl::Naive, Impl::NaiveSeq, Impl::Hardened];
    pub fn as_str(self) -> &'static str {
        match self {
            Impl::Naive => "naive",
            Impl::NaiveSeq => "naive-seq",
            Impl::Hardened => "hardened",
            Impl::External => "external",
        }
    }
}

/// Keys for per-platform expectation overrides: the three OSes, plus Wine
/// (what Wine really does differs from Windows; its observations are kept
/// apart from real-Windows claims).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ExpectKey {
    Linux,
    Windows,
    Macos,
    Wine,
}

impl ExpectKey {
    pub const ALL: [ExpectKey; 4] = [
        ExpectKey::Linux,
        ExpectKey::Windows,
        ExpectKey::Macos,
        ExpectKey::Wine,
    ];

    /// The name in scenario files (`[expect.naive.wine]`) and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectKey::Linux => "linux",
            ExpectKey::Windows => "windows",
            ExpectKey::Macos => "macos",
            ExpectKey::Wine => "wine",
        }
    }

    /// The platform whose expectation this key's cell is (`wine`: Windows
    /// under Wine, which applies `windows` and then `wine`).
    pub fn platform(self) -> Platform {
        match self {
            ExpectKey::Linux => Platform {
                os: Os::Linux,
                wine: false,
            },
            ExpectKey::Windows => Platform {
                os: Os::Windows,
                wine: false,
            },
            ExpectKey::Macos => Platform {
                os: Os::Macos,
                wine: false,
            },
            ExpectKey::Wine => Platform {
                os: Os::Windows,
                wine: true,
            },
        }
    }
}

impl From<Os> for ExpectKey {
    fn from(os: Os) -> ExpectKey {
        match os {
            Os::Linux => ExpectKey::Linux,
            Os::Windows => ExpectKey::Windows,
            Os::Macos => ExpectKey::Macos,
        }
    }
}

/// Options applied to the server process, not to the clients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerOptions {
    /// Linux: set IP_RECVERR/IPV6_RECVERR on the server's UDP socket so ICMP
    /// errors surface on recv, as Windows does by default.
    pub ip_recverr: bool,
    /// RLIMIT_NOFILE for the server process (Unix).
    pub max_fds: Option<u64>,
    /// Built-in servers only: wait this long before each reply, as a server
    /// doing real work would. Makes "the reply goes to a client that already
    /// left" deterministic instead of a race against the client's close.
    pub reply_delay_ms: Option<u64>,
    /// Built-in hardened servers only: close a connection after this long
    /// without traffic (`--idle-timeout-ms`; the server's default otherwise).
    #[serde(default)]
    pub idle_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSpec {
    pub proto: Proto,
    pub mode: Mode,
    /// Bind address for the server; loopback by default.
    pub bind: String,
    pub options: ServerOptions,
    /// Linux: run the server and every client in a network namespace the
    /// run creates for itself, on that namespace's own loopback, so that
    /// link-fault steps (`netem`, `blackhole`, `heal`) touch nothing else.
    /// Where namespaces are not available the scenario is skipped.
    #[serde(default)]
    pub netns: bool,
    /// Forward mode: how the harness plays the upstream server.
    #[serde(default)]
    pub upstream: UpstreamBehaviour,
}

/// How the harness plays the upstream server in forward mode (`[target]
/// upstream = ...`). Every behaviour but `Scripted` answers every connection
/// the forwarder opens on its own while the steps run, event-driven, so a
/// scenario need not script each byte; the steps then have no `upstream`
/// actor to drive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamBehaviour {
    /// The `upstream` actor's steps (accept, send, recv, ...) drive it.
    #[default]
    Scripted,
    /// Writes back every byte it reads (RFC 862); at EOF, once all is
    /// echoed, it shuts down its write side (FIN) and closes.
    Echo,
    /// Reads and drops every byte (RFC 863), never writes, and ignores the
    /// peer's FIN: its side stays open until the steps end.
    Discard,
    /// Reads and drops every byte; when the peer half-closes (a read
    /// returns 0) it shuts down its write side (FIN back) and closes.
    CloseOnHalfClose,
}

impl UpstreamBehaviour {
    /// Every behaviour, in the order the docs list them.
    pub const ALL: [UpstreamBehaviour; 4] = [
        UpstreamBehaviour::Scripted,
        UpstreamBehaviour::Echo,
        UpstreamBehaviour::Discard,
        UpstreamBehaviour::CloseOnHalfClose,
    ];

    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamBehaviour::Scripted => "scripted",
            UpstreamBehaviour::Echo => "echo",
            UpstreamBehaviour::Discard => "discard",
            UpstreamBehaviour::CloseOnHalfClose => "close-on-half-close",
        }
    }

    /// The behaviour named `s` in a scenario file.
    pub fn parse(s: &str) -> Option<UpstreamBehaviour> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// Who performs a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub kind: ActorKind,
    /// A group of `count` identical clients; a step on the group runs once per
    /// member (`count == 1` for a single client).
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A client of the server under test.
    Client,
    /// Forward mode only: the upstream server the forwarder connects to,
    /// played by the harness. Its `accept` takes the forwarder's next connection.
    Upstream,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payload {
    /// N bytes of a deterministic pattern.
    Bytes(usize),
    /// UTF-8 text as given.
    Text(String),
}

impl Payload {
    pub fn len(&self) -> usize {
        match self {
            Payload::Bytes(n) => *n,
            Payload::Text(t) => t.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecvMode {
    /// Exactly N bytes (TCP) / one datagram of at most N bytes (UDP).
    Exact(usize),
    /// Read until EOF (TCP only).
    Eof,
    /// Whatever arrives first: at least one byte, EOF, or an error.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShutdownHow {
    Write,
    Read,
    Both,
}

/// Where a UDP `send` or `connect` goes instead of the server under test.
/// Always loopback (the parser refuses anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UdpDest {
    /// A loopback port of the server's address family that nothing is bound
    /// to: the runner binds a UDP socket to port 0, notes the port and
    /// closes it just before the step, so the kernel answers with ICMP
    /// port unreachable.
    Closed,
    /// This address in 127.0.0.0/8 or `::1` (of the server's family).
    Addr(std::net::SocketAddr),
}

impl UdpDest {
    /// The text a scenario file holds: `"closed"` or `"127.0.0.1:9"`.
    pub fn as_text(&self) -> String {
        match self {
            UdpDest::Closed => "closed".to_owned(),
            UdpDest::Addr(a) => a.to_string(),
        }
    }
}

/// One operation of one actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// TCP: connect to the server. UDP: connect the socket (connected UDP).
    Connect {
        /// UDP only: connect to this loopback destination instead of the
        /// server under test (e.g. a closed port: the ICMP path).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<UdpDest>,
        /// TCP: give up after this long (outcome "timeout"): a connect that
        /// waits for a SYN retransmit (a full listen queue) takes 1 s or
        /// more. `None` = `client::CONNECT_TIMEOUT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// UDP: bind a fresh socket (implicit before the first send if missing).
    Bind,
    /// Upstream actor: accept the forwarder's next connection.
    Accept,
    Send {
        payload: Payload,
        /// UDP only, unconnected socket: send to this loopback destination
        /// instead of the server under test.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<UdpDest>,
        /// Give up after this long and record how much went out (a peer that
        /// stops reading blocks a large send); `None` = `client::SEND_TIMEOUT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    Recv {
        mode: RecvMode,
        timeout_ms: u64,
    },
    Shutdown {
        how: ShutdownHow,
    },
    /// Wait until the socket is readable (data, EOF or a pending error)
    /// without reading: a peek. Outcome `ok` with the bytes the peek saw
    /// (left queued), `eof`, the error, or `timeout`. Replaces a fixed
    /// `wait` in "the reply has arrived; now close without reading it".
    #[serde(rename = "wait_readable")]
    WaitReadable {
        timeout_ms: u64,
    },
    /// Graceful close (FIN for TCP).
    Close,
    /// SO_LINGER {1, 0} then close: the peer gets RST.
    Abort,
    /// A scenario-level pause (e.g. "idle for 200 ms"); never synchronisation.
    Wait {
        ms: u64,
    },
    /// Freeze the server under test and its whole process tree (SIGSTOP /
    /// NtSuspendProcess): what clients do meanwhile waits in its sockets'
    /// queues, so "the client is gone before the server replies" is an
    /// ordering, not a race. Takes no actor. The runner resumes the server
    /// when the steps end, whatever happened, before it probes or kills it.
    Pause,
    /// Let a paused server run again (SIGCONT / NtResumeProcess).
    Resume,
    /// Probe the server now, while the scenario's clients are still open
    /// (by default the probe runs after they are closed). Takes no actor.
    /// Not served while the server is alive = `hung`: for scenarios whose
    /// meaning is "the server serves others while a client is open".
    Probe,
    /// Link fault (needs `[target] netns = true`): shape the namespace's
    /// loopback with `tc qdisc ... netem` (tc-netem(8)); replaces any earlier
    /// `netem`. Takes no actor: it applies to every packet on the link.
    Netem(Netem),
    /// Link fault (needs `netns = true`): drop every packet to or from the
    /// local port of the actor's socket (nftables in the namespace), so the
    /// peer sees neither FIN nor RST: the actor vanished silently. With
    /// `only`, drop just those segments (e.g. `only = "fin"`: the closing
    /// handshake is lost, the data before it is not).
    Blackhole {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<BlackholeOnly>,
    },
    /// Undo every `netem` and `blackhole` so far. Takes no actor.
    Heal,
}

/// Which segments a `blackhole` step drops instead of every one (TCP only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlackholeOnly {
    /// Segments carrying FIN (nft `tcp flags & fin == fin`): a close that
    /// never arrives, while everything before it did (RFC 9293 §3.6).
    Fin,
}

impl BlackholeOnly {
    pub fn as_str(self) -> &'static str {
        match self {
            BlackholeOnly::Fin => "fin",
        }
    }
}

/// What a `netem` step does to the link (tc-netem(8)); at least one is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netem {
    /// Delay every packet by this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Drop this percentage of packets (0..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_pct: Option<u8>,
    /// Send this percentage of packets twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_pct: Option<u8>,
    /// Send this percentage of packets at once while the rest wait for
    /// `delay_ms` (which reordering needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_pct: Option<u8>,
    /// Limit the link to this many kilobits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_kbit: Option<u64>,
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Connect { .. } => "connect",
            Op::Bind => "bind",
            Op::Accept => "accept",
            Op::Send { .. } => "send",
            Op::Recv { .. } => "recv",
            Op::Shutdown { .. } => "shutdown",
            Op::WaitReadable { .. } => "wait_readable",
            Op::Close => "close",
            Op::Abort => "abort",
            Op::Wait { .. } => "wait",
            Op::Pause => "pause",
            Op::Resume => "resume",
            Op::Probe => "probe",
            Op::Netem(_) => "netem",
            Op::Blackhole { .. } => "blackhole",
            Op::Heal => "heal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Optional name so expectations can refer to this step's outcome.
    pub id: Option<String>,
    pub actor: String,
    #[serde(flatten)]
    pub op: Op,
    /// A step on a group: run every member at once instead of one after
    /// another (`parallel = true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
    /// 1-based line in the scenario file, for messages.
    pub line: usize,
}

impl Op {
    /// Ops of the scenario itself, not of an actor: they take no `actor`.
    pub fn is_scenario_level(&self) -> bool {
        matches!(
            self,
            Op::Wait { .. } | Op::Pause | Op::Resume | Op::Probe | Op::Netem(_) | Op::Heal
        )
    }

    /// Ops that change the link: they need `[target] netns = true`.
    pub fn is_link_fault(&self) -> bool {
        matches!(self, Op::Netem(_) | Op::Blackhole { .. } | Op::Heal)
    }
}

impl Scenario {
    /// True if any step pauses the server (it must be our own process).
    pub fn pauses_server(&self) -> bool {
        self.steps.iter().any(|s| s.op == Op::Pause)
    }

    /// True if any step is a `netem` (the run needs `tc`).
    pub fn uses_netem(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.op, Op::Netem(_)))
    }

    /// True if any step is a `blackhole` (the run needs `nft`).
    pub fn uses_blackhole(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.op, Op::Blackhole { .. }))
    }
}

/// A block of consecutive steps that runs `times` times in order
/// (`repeat = N` with `[[steps.do]]` in the file). The steps themselves are
/// in `Scenario::steps` once, at `first..first + len`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repeat {
    /// Index of the block's first step in `Scenario::steps`.
    pub first: usize,
    /// Number of steps in the block (at least 1).
    pub len: usize,
    /// How many times the block runs (1..=`limits::MAX_REPEAT`).
    pub times: u32,
    /// 1-based line of the `repeat` key, for messages.
    pub line: usize,
}

/// Verdict about the server after the scenario ran.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Verdict {
    /// Still serves a fresh probe and resources came back.
    Survived,
    /// Alive, but the probe timed out.
    Hung,
    /// Exited (exit code or signal recorded).
    Crashed,
    /// Serves the probe, but its sockets (count or CLOSE_WAIT), threads or
    /// processes grew and did not come back.
    Leaked,
    /// Serves the probe and resources came back, but its process tree kept
    /// using a CPU after the scenario ended (a spinning event loop).
    Busy,
    /// Alive (still running after the exit grace), but turns new clients
    /// away: the probe was refused, reset, closed or answered wrongly
    /// before its timeout (e.g. Node under EMFILE resets new connections).
    Rejecting,
}

/// Acceptable verdicts as one label: `"crashed|hung"`, or `"unknown"` for
/// none (an unverified expectation).
pub fn verdicts_label(verdicts: &[Verdict]) -> String {
    if verdicts.is_empty() {
        return "unknown".to_owned();
    }
    verdicts
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Survived => "survived",
            Verdict::Hung => "hung",
            Verdict::Crashed => "crashed",
            Verdict::Leaked => "leaked",
            Verdict::Busy => "busy",
            Verdict::Rejecting => "rejecting",
        }
    }
}

/// One acceptable description of an observed error or outcome: `"ok"`,
/// `"eof"`, `"timeout"` (harness timeout), a portable class (`"reset"`) or
/// an OS-specific name (`"ECONNRESET"`, `"WSAECONNRESET"`).
pub type Matcher = String;

/// What is expected for one implementation on one OS (after overrides).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    /// Acceptable verdicts (any one of them). Empty = unknown (unverified).
    pub server: Vec<Verdict>,
    /// Each entry must match at least one server-side error.
    pub server_errors: Vec<Matcher>,
    /// Step id -> acceptable outcomes (any one of them, for every member).
    pub steps: BTreeMap<String, Vec<Matcher>>,
}

/// Base expectation per implementation plus per-platform overrides;
/// overrides replace the fields they set. Under Wine, the `windows`
/// override applies first and the `wine` one on top of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImplExpectations {
    pub base: PartialExpectation,
    pub per_os: BTreeMap<ExpectKey, PartialExpectation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialExpectation {
    /// `Some(empty)` = explicitly unknown (`server = "unknown"`): unverified.
    pub server: Option<Vec<Verdict>>,
    pub server_errors: Option<Vec<Matcher>>,
    pub steps: Option<BTreeMap<String, Vec<Matcher>>>,
    /// Per-OS cells only: the run that showed what this cell expects
    /// (`observed = { … }`, written by `netrepro bless`). Not inherited:
    /// it marks this OS's cell, not the ones that take from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
}

/// Where a per-OS cell was observed: the `observed = { os_version = …,
/// netrepro = …, date = … }` marker of `[expect.<impl>.<os>]`. A cell
/// without one states what its scenario's refs (or its author) say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The report's `host.os_version` (`Windows 10.0.20348`, `Debian 12 (kernel 6.1.0)`).
    pub os_version: String,
    /// The report's `host.arch`, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The Wine version when the run was under Wine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wine: Option<String>,
    /// The netrepro version that ran it (the report's `tool.version`).
    pub netrepro: String,
    /// The day the run started, `YYYY-MM-DD` (UTC).
    pub date: String,
}

impl Observed {
    /// Where, for a person: `Wine 8.0 / Windows 6.1.7601`, `Windows 10.0.20348`.
    pub fn host(&self) -> String {
        match &self.wine {
            Some(w) => format!("Wine {w} / {}", self.os_version),
            None => self.os_version.clone(),
        }
    }
}

/// What a cell of the catalog rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance<'a> {
    /// A run showed it (the cell's `observed` marker).
    Observed(&'a Observed),
    /// Stated (from the scenario's refs, or by its author), never marked observed.
    Cited,
    /// `server = "unknown"`: nobody has observed it and no source says.
    Unknown,
}

impl ImplExpectations {
    /// What the cell of `key` rests on: unknown when its verdict is, else
    /// observed when its own table carries a marker, else cited.
    pub fn provenance(&self, key: ExpectKey) -> Provenance<'_> {
        if self.resolve(key.platform()).server.is_empty() {
            return Provenance::Unknown;
        }
        match self.per_os.get(&key).and_then(|p| p.observed.as_ref()) {
            Some(o) => Provenance::Observed(o),
            None => Provenance::Cited,
        }
    }

    /// The expectation that applies on `platform`: base, then the OS's
    /// override, then (under Wine) the `wine` override. An override whose
    /// verdict is `unknown` drops the inherited error and step cells.
    pub fn resolve(&self, platform: Platform) -> Expectation {
        let mut e = Expectation {
            server: self.base.server.clone().unwrap_or_default(),
            server_errors: self.base.server_errors.clone().unwrap_or_default(),
            steps: self.base.steps.clone().unwrap_or_default(),
        };
        let mut keys = vec![ExpectKey::from(platform.os)];
        if platform.wine {
            keys.push(ExpectKey::Wine);
        }
        for key in keys {
            if let Some(o) = self.per_os.get(&key) {
                if let Some(s) = &o.server {
                    e.server = s.clone();
                    // An override that says `unknown` claims nothing it does
                    // not write itself: cells inherited from the base (or,
                    // under Wine, from `windows`) described another
                    // platform's behaviour and must not fail this one.
                    if s.is_empty() {
                        e.server_errors.clear();
                        e.steps.clear();
                    }
                }
                if let Some(s) = &o.server_errors {
                    e.server_errors = s.clone();
                }
                if let Some(s) = &o.steps {
                    e.steps = s.clone();
                }
            }
        }
        e
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// File it came from (as given on the command line).
    pub path: PathBuf,
    pub name: String,
    pub summary: String,
    pub refs: Vec<String>,
    pub target: TargetSpec,
    /// Declared actors in order, including the implicit upstream in forward mode.
    pub actors: Vec<Actor>,
    pub steps: Vec<Step>,
    /// Repeated blocks of `steps`, in order, never overlapping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<Repeat>,
    pub expect: BTreeMap<Impl, ImplExpectations>,
    /// Client actor -> socket options set on each of its sockets before
    /// connect (UDP: before bind), from `[sockopts.<actor>]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sockopts: BTreeMap<String, SockOpts>,
    /// Upper bound for the whole scenario (steps, not server start/probe).
    pub timeout_ms: u64,
}

impl Scenario {
    pub fn actor(&self, name: &str) -> Option<&Actor> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// The repeated block that starts at step `index`, if any.
    pub fn repeat_at(&self, index: usize) -> Option<&Repeat> {
        self.repeats.iter().find(|r| r.first == index)
    }

    /// How many times step `index` runs: its `repeat` block's repetitions,
    /// or once.
    pub fn times_of(&self, index: usize) -> u64 {
        self.repeats
            .iter()
            .find(|r| (r.first..r.first + r.len).contains(&index))
            .map_or(1, |r| u64::from(r.times))
    }

    /// How many step executions the scenario asks for at most: every step
    /// once per group member, times its block's repetitions.
    pub fn executions(&self) -> u64 {
        let members = |s: &Step| self.actor(&s.actor).map_or(1, |a| u64::from(a.count));
        self.steps
            .iter()
            .enumerate()
            .map(|(i, s)| members(s) * self.times_of(i))
            .sum()
    }
}

/// Defaults and bounds that the parser applies.
pub mod limits {
    pub const DEFAULT_RECV_TIMEOUT_MS: u64 = 1_000;
    pub const MAX_RECV_TIMEOUT_MS: u64 = 30_000;
    pub const MAX_WAIT_MS: u64 = 10_000;
    pub const DEFAULT_SCENARIO_TIMEOUT_MS: u64 = 20_000;
    pub const MAX_SCENARIO_TIMEOUT_MS: u64 = 120_000;
    pub const MAX_ACTOR_COUNT: u32 = 1_000;
    pub const MAX_STEPS: usize = 1_000;
    pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;
    /// Largest UDP payload that fits an IPv4 datagram (65 535 - 20 - 8).
    pub const MAX_UDP_PAYLOAD: usize = 65_507;
    /// Largest UDP payload that fits an IPv6 datagram without jumbograms
    /// (65 535 - 8).
    pub const MAX_UDP6_PAYLOAD: usize = 65_527;
    /// Largest UDP send a scenario may ask for: one byte past what any
    /// UDP length field can carry (65 535 - 8), so "too large for IPv4" and
    /// "too large for IPv6" can both be asked and the client's own
    /// EMSGSIZE / WSAEMSGSIZE expected.
    pub const MAX_UDP_SEND: usize = 65_528;
    /// Most repetitions of one `repeat` block.
    pub const MAX_REPEAT: u64 = 1_000;
    /// Most step executions (steps x group members x repetitions) per scenario.
    pub const MAX_EXECUTIONS: u64 = 50_000;
    pub const MAX_SEND_TIMEOUT_MS: u64 = 30_000;
    pub const MAX_CONNECT_TIMEOUT_MS: u64 = 30_000;
    pub const MAX_IDLE_TIMEOUT_MS: u64 = 60_000;
    /// Largest SO_RCVBUF / SO_SNDBUF a scenario may ask for (64 MiB; the
    /// OS clamps further, and the report says what it granted).
    pub const MAX_SOCK_BUF: u64 = 64 * 1024 * 1024;
    /// Longest SO_LINGER time: a close with linger on may block the
    /// harness's thread that long.
    pub const MAX_LINGER_S: u64 = 5;
    /// Longest keepalive idle time / interval, seconds (Linux's
    /// MAX_TCP_KEEPIDLE and MAX_TCP_KEEPINTVL, tcp(7)).
    pub const MAX_KEEPALIVE_S: u64 = 32_767;
    /// Most keepalive probes (Linux's MAX_TCP_KEEPCNT, tcp(7)).
    pub const MAX_KEEPALIVE_COUNT: u64 = 127;
}

#[cfg(test)]
mod resolve_tests {
    use super::*;

    fn partial(
        server: Option<Vec<Verdict>>,
        errors: &[&str],
        step: Option<&str>,
    ) -> PartialExpectation {
        PartialExpectation {
            server,
            server_errors: (!errors.is_empty())
                .then(|| errors.iter().map(|e| e.to_string()).collect()),
            steps: step.map(|m| BTreeMap::from([("next-served".to_string(), vec![m.to_string()])])),
            observed: None,
        }
    }

    fn wine() -> Platform {
        Platform {
            os: Os::Windows,
            wine: true,
        }
    }

    #[test]
    fn an_unknown_override_drops_the_inherited_cells() {
        let mut per_os = BTreeMap::new();
        per_os.insert(
            ExpectKey::Windows,
            partial(Some(vec![Verdict::Crashed]), &["reset"], None),
        );
        per_os.insert(ExpectKey::Wine, partial(Some(Vec::new()), &[], None));
        let x = ImplExpectations {
            base: partial(Some(vec![Verdict::Survived]), &["refused"], Some("ok")),
            per_os,
        };
        let e = x.resolve(wine());
        assert!(e.server.is_empty());
        assert!(e.server_errors.is_empty(), "{e:?}");
        assert!(e.steps.is_empty(), "{e:?}");
        // Real Windows still gets the base steps and its own errors.
        let w = x.resolve(Platform {
            os: Os::Windows,
            wine: false,
        });
        assert_eq!(w.server, vec![Verdict::Crashed]);
        assert_eq!(w.server_errors, vec!["reset".to_string()]);
        assert_eq!(w.steps.len(), 1);
    }

    #[test]
    fn an_unknown_override_keeps_the_cells_it_writes_itself() {
        let mut per_os = BTreeMap::new();
        per_os.insert(
            ExpectKey::Wine,
            partial(Some(Vec::new()), &["reset"], Some("eof")),
        );
        let x = ImplExpectations {
            base: partial(Some(vec![Verdict::Survived]), &["refused"], Some("ok")),
            per_os,
        };
        let e = x.resolve(wine());
        assert_eq!(e.server_errors, vec!["reset".to_string()]);
        assert_eq!(e.steps["next-served"], vec!["eof".to_string()]);
    }
}
