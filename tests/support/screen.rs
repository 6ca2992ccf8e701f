//! The console drawn once on ratatui's `TestBackend`, as text, for assertions and snapshots.
#![allow(dead_code)]

use aimdeck::tui::app::App;
use aimdeck::tui::views::frame::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal.backend().to_string()
}
