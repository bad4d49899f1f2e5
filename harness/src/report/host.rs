//! Facts about the host for the report header.

use super::model::{Host, Tool};
use crate::scenario::Os;

pub fn tool() -> Tool {
    Tool {
        name: "netrepro".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

pub fn host() -> Host {
    let info = os_info::get();
    Host {
        os: Os::current(),
        os_version: format!("{} {}", info.os_type(), info.version()),
        arch: std::env::consts::ARCH.into(),
    }
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
