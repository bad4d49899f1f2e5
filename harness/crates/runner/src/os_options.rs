//! What a scenario's server options mean on the OS the run happens on. Some
//! options only exist on one OS; the runner never lets them be silently
//! different elsewhere: each one either applies, or is dropped with a note
//! saying why the run is still the same test, or the result is skipped with
//! a note saying why it cannot be run here.
//!
//! - `ip_recverr` (Linux IP_RECVERR): it makes Linux report an ICMP port
//!   unreachable on the next recv of an unconnected UDP socket, which is what
//!   Windows does by default. Windows: dropped (a no-op), noted. macOS: no
//!   equivalent exists (BSD reports ICMP errors only on connected UDP
//!   sockets), so the scenario is skipped.
//! - `max_fds` (RLIMIT_NOFILE): Windows has no per-process descriptor limit
//!   to set, so this runner cannot provoke WSAEMFILE (which accept can
//!   return, per Microsoft's accept docs): skipped there.

use netrepro_scenario::{Os, Platform, ServerOptions};

/// Windows reports ICMP port unreachable on recvfrom by default.
pub const WINDOWS_RECVFROM_DOC: &str =
    "https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-recvfrom";
/// ... unless SIO_UDP_CONNRESET is turned off.
pub const SIO_UDP_CONNRESET_DOC: &str =
    "https://learn.microsoft.com/en-us/windows/win32/winsock/winsock-ioctls";
/// libuv asserts that the ICMP error is invisible off Linux.
pub const LIBUV_UNREACHABLE_TEST: &str =
    "https://github.com/libuv/libuv/blob/v1.x/test/test-udp-send-unreachable.c";

/// How to run a scenario here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run with these (possibly reduced) options; `notes` go to the result.
    Run {
        options: ServerOptions,
        notes: Vec<String>,
    },
    /// Do not start the server; the note says why.
    Skip { note: String },
}

/// The decision for `options` on `platform`.
pub fn decide(options: &ServerOptions, platform: Platform) -> Decision {
    let mut effective = options.clone();
    let mut notes = Vec::new();
    if options.ip_recverr {
        match platform.os {
            Os::Linux => {}
            Os::Windows => {
                effective.ip_recverr = false;
                let mut note = format!(
                    "ip_recverr is Linux-only and a no-op on Windows: Windows already \
                     reports an ICMP port unreachable on the next recvfrom of an \
                     unconnected UDP socket (WSAECONNRESET 10054) unless \
                     SIO_UDP_CONNRESET is turned off ({WINDOWS_RECVFROM_DOC}, \
                     {SIO_UDP_CONNRESET_DOC}); the server ran without it"
                );
                if platform.wine {
                    note.push_str(
                        "; under Wine the error is never reported at all \
                         (see docs/os.md, Wine), so the wine expectations apply",
                    );
                }
                notes.push(note);
            }
            Os::Macos => {
                return Decision::Skip {
                    note: format!(
                        "skipped: ip_recverr is Linux-only and macOS has no equivalent: \
                         BSD sockets report ICMP errors only on connected UDP sockets, so \
                         an unconnected server socket never sees the port unreachable \
                         ({LIBUV_UNREACHABLE_TEST}; OS-BEHAVIOUR.md §5.4)"
                    ),
                };
            }
        }
    }
    if options.max_fds.is_some() && platform.os == Os::Windows {
        return Decision::Skip {
            note: "skipped: max_fds sets RLIMIT_NOFILE, and Windows has no per-process \
                   descriptor limit to set, so the server cannot be made to run out \
                   of descriptors this way (accept itself can fail WSAEMFILE 10024, \
                   \"no descriptors available\", per Microsoft's accept docs, \
                   but nothing here can provoke it)"
                .into(),
        };
    }
    Decision::Run {
        options: effective,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: Platform = Platform {
        os: Os::Linux,
        wine: false,
    };
    const WINDOWS: Platform = Platform {
        os: Os::Windows,
        wine: false,
    };
    const WINE: Platform = Platform {
        os: Os::Windows,
        wine: true,
    };
    const MACOS: Platform = Platform {
        os: Os::Macos,
        wine: false,
    };

    fn recverr() -> ServerOptions {
        ServerOptions {
            ip_recverr: true,
            reply_delay_ms: Some(150),
            ..ServerOptions::default()
        }
    }

    #[test]
    fn ip_recverr_applies_on_linux_unchanged() {
        assert_eq!(
            decide(&recverr(), LINUX),
            Decision::Run {
                options: recverr(),
                notes: vec![]
            }
        );
    }

    #[test]
    fn ip_recverr_is_dropped_with_a_cited_note_on_windows() {
        let Decision::Run { options, notes } = decide(&recverr(), WINDOWS) else {
            panic!("windows must run the scenario");
        };
        assert!(!options.ip_recverr);
        // Only the Linux-only option changes.
        assert_eq!(options.reply_delay_ms, Some(150));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains(WINDOWS_RECVFROM_DOC), "{}", notes[0]);
        assert!(notes[0].contains("10054"), "{}", notes[0]);
        assert!(!notes[0].contains("Wine"), "{}", notes[0]);
    }

    #[test]
    fn under_wine_the_note_says_wine_does_not_report_it() {
        let Decision::Run { options, notes } = decide(&recverr(), WINE) else {
            panic!("wine must run the scenario");
        };
        assert!(!options.ip_recverr);
        assert!(notes[0].contains("under Wine"), "{}", notes[0]);
    }

    #[test]
    fn ip_recverr_is_skipped_with_a_cited_note_on_macos() {
        match decide(&recverr(), MACOS) {
            Decision::Skip { note } => {
                assert!(note.contains(LIBUV_UNREACHABLE_TEST), "{note}");
                assert!(note.contains("connected UDP"), "{note}");
            }
            other => panic!("macos must skip, got {other:?}"),
        }
    }

    #[test]
    fn max_fds_is_skipped_only_on_windows() {
        let o = ServerOptions {
            max_fds: Some(32),
            ..ServerOptions::default()
        };
        for p in [LINUX, MACOS] {
            assert_eq!(
                decide(&o, p),
                Decision::Run {
                    options: o.clone(),
                    notes: vec![]
                }
            );
        }
        for p in [WINDOWS, WINE] {
            assert!(matches!(decide(&o, p), Decision::Skip { note } if note.contains("EMFILE")));
        }
    }

    #[test]
    fn plain_options_run_everywhere_without_notes() {
        let o = ServerOptions::default();
        for p in [LINUX, WINDOWS, WINE, MACOS] {
            assert_eq!(
                decide(&o, p),
                Decision::Run {
                    options: o.clone(),
                    notes: vec![]
                }
            );
        }
    }
}
