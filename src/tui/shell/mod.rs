//! The shell's behaviour: where each event goes (`route`), what a key does in each keyboard
//! mode (`keys`), and the `:` command line (`command_line`). The shell's state is
//! `tui::app::App`.

mod apply;
pub mod command_line;
mod create_wait;
mod keys;
mod route;

#[cfg(test)]
mod tests;
