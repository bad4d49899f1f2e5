//! Not Linux: no network namespaces.

pub fn enter_new() -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

pub fn current_id() -> Option<u64> {
    None
}
