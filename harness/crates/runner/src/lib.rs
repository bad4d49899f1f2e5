//! The runner: for one scenario x implementation, start the server under
//! test ([`subject`]), run the client actors' steps ([`client`]), probe it
//! ([`probe`]), decide the verdict ([`decide`]) and check it against the
//! scenario's expectation ([`expect`]). [`run`] ties these together; [`jobs`]
//! runs many of them.

pub mod busy;
pub mod client;
mod cut_short;
pub mod decide;
pub mod expect;
pub mod external;
mod family;
pub mod harness_error;
pub mod jobs;
pub mod os_options;
pub mod probe;
mod quiesce;
pub mod run;
pub mod settle;
pub mod subject;

pub use external::{ExternalKind, ExternalTarget};
pub use run::*;
