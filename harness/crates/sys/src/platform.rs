//! Facts about the platform this process runs on that the OS name alone does
//! not tell: currently, whether a Windows build is running under Wine (and
//! which Wine). Wine is not Windows: its socket layer reports some errors
//! differently (docs/os.md, "Windows under Wine"),
//! so a run under Wine uses the scenarios' `wine` expectations and says so
//! in the report.

use serde::{Deserialize, Serialize};

/// Host operating systems an expectation can be written for.
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
pub enum Os {
    Linux,
    Windows,
    Macos,
}

impl Os {
    /// The OS this binary was compiled for.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::Macos => "macos",
        }
    }
}

/// Where a run happens, for picking expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: Os,
    /// A Windows binary running under Wine.
    pub wine: bool,
}

impl Platform {
    /// This host (Wine detected at run time).
    pub fn current() -> Platform {
        Platform {
            os: Os::current(),
            wine: under_wine(),
        }
    }
}

/// True when this Windows binary runs under Wine. Always false elsewhere.
pub fn under_wine() -> bool {
    wine_version().is_some()
}

/// The Wine version (e.g. `"8.0"`) when running under Wine; `None` on real
/// Windows and on every other OS.
pub fn wine_version() -> Option<String> {
    // Asked per sample and per result; the answer cannot change in a process.
    static VERSION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VERSION.get_or_init(os::wine_version).clone()
}

#[cfg(windows)]
mod os {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};

    /// Wine's ntdll exports `wine_get_version` (a `const char *(void)`);
    /// Microsoft's ntdll does not. This is the check Wine's own FAQ suggests
    /// (https://gitlab.winehq.org/wine/wine/-/wikis/Developer-FAQ#how-can-i-detect-wine).
    pub(super) fn wine_version() -> Option<String> {
        // SAFETY: both strings are NUL-terminated literals; ntdll is mapped in
        // every Windows process, and the handle is not owned (no FreeLibrary).
        let ntdll = unsafe { GetModuleHandleA(c"ntdll.dll".as_ptr().cast()) };
        if ntdll.is_null() {
            return None;
        }
        // SAFETY: as above; a null result means "not exported".
        let proc = unsafe { GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()) }?;
        // SAFETY: Wine documents the export as `const char *wine_get_version(void)`.
        let get: unsafe extern "C" fn() -> *const core::ffi::c_char =
            unsafe { std::mem::transmute(proc) };
        // SAFETY: the returned pointer is a static NUL-terminated string (or null).
        let p = unsafe { get() };
        if p.is_null() {
            return Some("unknown".into());
        }
        // SAFETY: non-null, NUL-terminated, static for the process lifetime.
        let v = unsafe { std::ffi::CStr::from_ptr(p) };
        Some(v.to_string_lossy().into_owned())
    }
}

#[cfg(not(windows))]
mod os {
    /// Wine runs Windows binaries only.
    pub(super) fn wine_version() -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    /// A native build is never "under Wine"; a Windows build is under Wine
    /// exactly when ntdll exports `wine_get_version`, which only a run under
    /// Wine can show (the `.ci/run` Wine step checks the report's host).
    #[test]
    fn native_builds_are_not_wine() {
        if !cfg!(windows) {
            assert_eq!(super::wine_version(), None);
            assert!(!super::under_wine());
        } else {
            assert_eq!(super::under_wine(), super::wine_version().is_some());
        }
    }
}
