//! The built-in scenario catalog, embedded at build time (see `build.rs`):
//! each file's path under `scenarios/` and its text.

/// (path relative to `scenarios/`, with `/` separators; file text), sorted
/// by path.
pub(crate) const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The test-name key of a catalog file: its path without `.toml`
/// (`tcp/rst-mid-request`).
pub(crate) fn key(rel: &str) -> &str {
    rel.strip_suffix(".toml").unwrap_or(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_embedded_and_every_file_parses() {
        assert!(FILES.len() >= 20, "{} files", FILES.len());
        for (rel, text) in FILES {
            let path = std::path::Path::new("scenarios").join(rel);
            netrepro_scenario::parse_str(text, &path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        }
        assert!(FILES.iter().any(|(r, _)| key(r) == "tcp/rst-mid-request"));
    }
}
