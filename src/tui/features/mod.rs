//! The console's domains, one folder each: its state, how its events and keys change that
//! state (returning `Command`s, never doing I/O), and its view. A domain reads another only
//! through the shell (`tui::app::App`) or the joins (`tui::joins`); no feature module imports
//! another (`tests/keybindings_doc.rs` checks it, and that nothing here does I/O or reads a
//! clock).

pub mod cache;
pub mod cluster;
pub mod deploy;
pub mod endpoints;
pub mod gpus;
pub mod recipes;
