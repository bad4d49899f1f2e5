//! Ctrl-C only, where tokio offers nothing more specific.

pub(super) struct Signals;

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    pub(super) async fn next(&mut self) -> u8 {
        let _ = tokio::signal::ctrl_c().await;
        130
    }
}
