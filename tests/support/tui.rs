//! Helpers for tests that drive the console's `App` with key events and read the screen.

use aimdeck::tui::app::App;
use aimdeck::tui::event::Event;
use aimdeck::tui::views::frame::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The key events that type `text`.
pub fn typed(text: &str) -> impl Iterator<Item = Event> + '_ {
    text.chars().map(|c| key(KeyCode::Char(c)))
}

/// What a `width` x `height` terminal shows of the app.
pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal.backend().to_string()
}
