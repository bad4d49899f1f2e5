//! Run netrepro's scenarios against **your** server from your own cargo
//! tests: one test per scenario, named like netrepro's own
//! (`tcp/rst-mid-request::my-server`), so `cargo nextest run -E
//! 'test(rst)'` picks them by name and nextest's JUnit lists each one.
//!
//! Add the crate as a dev-dependency, declare a test file with
//! `harness = false`, and give it a `main` that builds a [`Suite`]:
//!
//! ```toml
//! [dev-dependencies]
//! netrepro-testing = { git = "https://…/netrepro" }
//!
//! [[test]]
//! name = "netrepro"
//! harness = false
//! ```
//!
//! ```no_run
//! // tests/netrepro.rs
//! use netrepro_testing::{Suite, Target, Verdict};
//!
//! fn main() {
//!     Suite::new()
//!         // Built-in scenarios, by their path under scenarios/ ...
//!         .catalog_only(["tcp/rst-mid-request", "tcp/rst-before-data"])
//!         // ... and/or your own scenario files (a folder or a file).
//!         // .path("tests/scenarios")
//!         .target(
//!             "my-server",
//!             // Or Target::command("python3 server.py --port {port}"),
//!             // or Target::addr("127.0.0.1:9000".parse().unwrap()).
//!             Target::program("target/debug/my-server").args(["--port", "{port}"]),
//!         )
//!         // survived is the default; say what else is acceptable.
//!         .expect("tcp/rst-before-data", [Verdict::Survived, Verdict::Hung])
//!         .run()
//! }
//! ```
//!
//! In your own package, name the program with
//! `env!("CARGO_BIN_EXE_<binary name>")`, which cargo sets for integration
//! tests. A started program is told where to listen through `{port}`,
//! `{host}` or `{addr}` in its arguments, or prints `LISTENING <addr>` on
//! stdout; see [`Target`].
//!
//! Each case starts the server (a fresh process per scenario), runs the
//! scenario's client actors, probes the server and decides a [`Verdict`].
//! A case fails when the verdict is not one you expect, and its failure
//! text is netrepro's diff (`server: expected survived, got crashed`) with
//! the client steps that went wrong and the server's last stderr lines.
//! A scenario that cannot run on this platform, or cannot run against the
//! kind of target given, passes with a note saying why.
//!
//! The catalog is embedded in this crate when it is built; the scenario
//! format and the catalog are described in netrepro's `scenarios/README.md`.
//! `examples/echo-server` in netrepro's repository is a complete package
//! that tests itself this way.

#![deny(missing_docs)]

mod case;
mod catalog;
mod suite;
mod target;

pub use case::{Case, Failure, Passed};
pub use netrepro_scenario::{Proto, Verdict};
pub use suite::{SetupError, Suite};
pub use target::{Target, TargetError};
