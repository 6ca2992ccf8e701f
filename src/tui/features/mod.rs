//! The console's domains, one folder each: its `State`, its `Msg`, its
//! `update(&mut State, Msg, &Ctx) -> Vec<Command>` (never doing I/O) and its view. A domain
//! writes only its own state; it reads the others through `tui::ctx::Ctx` and asks the shell
//! (and, through notices, the other domains) with `Command::Shell`. No feature module imports
//! another or names the shell's `App` (`tests/keybindings_doc.rs` checks both, and that
//! nothing here does I/O or reads a clock).

pub mod cache;
pub mod cluster;
pub mod deploy;
pub mod endpoints;
pub mod gpus;
pub mod recipes;
