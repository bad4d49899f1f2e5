//! Facts about the host for the report header (and `netrepro run`'s first
//! line), including whether a Windows build runs under Wine.

use super::model::{Environment, Host, Report, Summary, Tool, SCHEMA_VERSION};
use netrepro_scenario::Os;

pub fn tool() -> Tool {
    Tool {
        name: "netrepro".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// An empty report of a run on this host that started at `started_at`
/// (RFC 3339): results are added as they come.
pub fn new_report(started_at: String) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: tool(),
        host: host(),
        started_at,
        duration_ms: 0,
        complete: false,
        results: Vec::new(),
        summary: Summary::default(),
    }
}

pub fn host() -> Host {
    let info = os_info::get();
    let wine = netrepro_sys::platform::wine_version();
    Host {
        os: Os::current(),
        // Under Wine this is the Windows version Wine pretends to be.
        os_version: format!("{} {}", info.os_type(), info.version()),
        arch: std::env::consts::ARCH.into(),
        environment: if wine.is_some() {
            Environment::Wine
        } else {
            Environment::Native
        },
        wine,
    }
}

/// One line naming the tool and the host, e.g.
/// `netrepro 0.1.0 on windows (Windows 6.1.7601, x86_64) under Wine 8.0`.
pub fn header_line(tool: &Tool, host: &Host) -> String {
    let mut line = format!(
        "{} {} on {} ({}, {})",
        tool.name,
        tool.version,
        host.os.as_str(),
        host.os_version,
        host.arch
    );
    if let Some(v) = &host.wine {
        line.push_str(&format!(
            " under Wine {v}: wine expectations apply, Wine is not Windows"
        ));
    }
    line
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(wine: Option<&str>) -> Host {
        Host {
            os: Os::Windows,
            os_version: "Windows 6.1.7601".into(),
            arch: "x86_64".into(),
            environment: if wine.is_some() {
                Environment::Wine
            } else {
                Environment::Native
            },
            wine: wine.map(str::to_string),
        }
    }

    #[test]
    fn header_says_wine_only_under_wine() {
        let t = tool();
        let native = header_line(&t, &host(None));
        assert!(
            native.contains("on windows (Windows 6.1.7601, x86_64)"),
            "{native}"
        );
        assert!(!native.contains("Wine"), "{native}");
        let wine = header_line(&t, &host(Some("8.0")));
        assert!(wine.contains("under Wine 8.0"), "{wine}");
    }

    #[test]
    fn this_host_is_native_unless_wine_is_detected() {
        let h = super::host();
        assert_eq!(h.wine.is_some(), h.environment == Environment::Wine);
        assert_eq!(h.wine, netrepro_sys::platform::wine_version());
    }

    #[test]
    fn host_json_names_the_environment() {
        let v = serde_json::to_value(host(Some("8.0"))).unwrap();
        assert_eq!(v["environment"], "wine");
        assert_eq!(v["wine"], "8.0");
        // Reports written before these fields existed still load.
        let old: Host =
            serde_json::from_str(r#"{"os":"linux","os_version":"Debian 12","arch":"x86_64"}"#)
                .unwrap();
        assert_eq!(old.environment, Environment::Native);
        assert_eq!(old.wine, None);
    }
}
