//! The runner: for one scenario x implementation, check it can run here
//! ([`preflight`]), start the server under test ([`start`], a child process
//! in [`subject`]), run the client actors' steps ([`client`]), probe it
//! ([`end_probe`], [`probe`]), wait for its resources ([`settle`], [`busy`]),
//! decide the verdict ([`decide`]), check it against the scenario's
//! expectation ([`expect`]) and fill in the result ([`record`]). [`run`]
//! ties these together; [`jobs`] runs many of them; [`watchdog`] bounds
//! them from outside the async runtime.

pub mod backstop;
pub mod busy;
pub mod client;
pub mod config;
mod cut_short;
pub mod decide;
pub mod end_probe;
pub mod estimate;
pub mod expect;
pub mod external;
pub mod family;
pub mod harness_error;
pub mod jobs;
pub mod link;
pub mod live;
mod loopback;
pub mod netns;
pub mod os_options;
pub mod plan;
mod precise_sleep;
pub mod preflight;
pub mod probe;
mod quiesce;
pub mod record;
pub mod run;
pub mod settle;
mod stall_hook;
pub mod start;
pub mod subject;
pub mod watchdog;

pub use config::RunConfig;
pub use external::{ExternalKind, ExternalTarget};
pub use plan::Subject;
pub use run::{run_one, run_subject};
