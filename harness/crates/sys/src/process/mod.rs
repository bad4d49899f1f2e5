//! The server's process tree as the OS sees it: spawn it in its own group
//! (Unix) / Job object (Windows), kill the whole tree, pause and resume it,
//! walk it and sample its resources.
//!
//! Layout: `group` (command setup, tree kill, registry), `supervise` (the
//! `netrepro __supervise` process that keeps a target's whole tree killable,
//! Linux), `tree` (freeze-walk-kill of a process tree), `procctl` (+ per-OS
//! files: list descendants, signals, subreaper), `pause` (a scenario's pause
//! / resume of the tree), `resources` (+ per-OS files: fd and CLOSE_WAIT
//! sampling), `sample` (what a sample holds), `job` (Windows Job object),
//! `inherit` (closes that wait for spawns between fork and exec).

pub mod group;
pub mod inherit;
#[cfg(windows)]
mod job;
pub mod pause;
pub mod procctl;
pub mod resources;
pub mod sample;
pub mod supervise;
pub mod tree;
