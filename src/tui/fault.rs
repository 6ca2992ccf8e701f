//! Fault injection for the reliability tests (`tests/fault_console.rs`, `docs/reliability.md`).
//!
//! `AIMDECK_FAULT=panic-after-first-frame` makes the console panic right after it has drawn its
//! first frame, on the thread that owns the terminal, so a test can check in a real terminal
//! that a panic leaves it restored (cooked mode, echo, main screen) with the message readable.
//! The variable is read once, in `tui::run`; consoles driven on a `TestBackend` never read it.
//! Any other value is ignored, so a stray setting cannot change what a user sees.

use std::sync::OnceLock;

/// The variable that selects a fault.
pub const FAULT_ENV: &str = "AIMDECK_FAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    PanicAfterFirstFrame,
}

static FAULT: OnceLock<Fault> = OnceLock::new();

/// Reads `AIMDECK_FAULT` once; later calls keep the first answer.
pub fn init_from_env() -> Fault {
    *FAULT.get_or_init(|| match std::env::var(FAULT_ENV).as_deref() {
        Ok("panic-after-first-frame") => Fault::PanicAfterFirstFrame,
        _ => Fault::None,
    })
}

/// Called by the event loop after the first frame is on screen.
pub fn after_first_frame() {
    if FAULT.get() == Some(&Fault::PanicAfterFirstFrame) {
        panic!("fault injected: {FAULT_ENV}=panic-after-first-frame");
    }
}
