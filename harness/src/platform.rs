//! Facts about the platform this process runs on that the OS name alone does
//! not tell: currently, whether a Windows build is running under Wine.

/// True when this Windows binary runs under Wine (ntdll exports
/// `wine_get_version`). Always false elsewhere.
pub fn under_wine() -> bool {
    false
}
