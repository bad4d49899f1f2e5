//! Client actors: execute a scenario's steps in order on real sockets (tokio +
//! socket2) and record one `StepRecord` per step and group member. In forward
//! mode the harness also plays the upstream server: through the `upstream`
//! actor, which accepts the forwarder's connections on a listener it owns,
//! or on its own as the scenario's `[target] upstream` behaviour says
//! ([`upstream`]).
//! `pause` / `resume` steps freeze the server's process tree through a
//! `Pauser`; `Session::run` resumes it before returning.
//!
//! Layout: [`session`] holds every actor's sockets, [`sequence`] runs the
//! steps in order (repeats, groups, the scenario deadline), [`step`] runs
//! one op on one member's socket (over [`tcp`] / [`udp`], with the payloads
//! of [`payload`]; an actor with socket options gets its socket from
//! [`sockopts`]), [`records`] merges the step records and writes the notes
//! about them.

mod payload;
mod records;
mod sequence;
mod session;
mod sockopts;
mod step;
mod tcp;
mod udp;
mod upstream;

pub use records::{merged_note, repeat_notes, StepLog};
pub use session::Session;
pub use sockopts::SockoptLog;
pub use step::{CONNECT_TIMEOUT, SEND_TIMEOUT};
