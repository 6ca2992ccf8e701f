//! Helpers for tests that drive the console's `App` with key events and read the screen.

use std::time::Duration;

use aimdeck::monitor::PollConfig;
use aimdeck::tui::app::App;
use aimdeck::tui::endpoint_tasks;
use aimdeck::tui::event::Event;
use aimdeck::tui::runner::TaskRunner;
use aimdeck::tui::views::frame::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

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

/// The real task runner, with the endpoint monitor polling every 250 ms, and the channel its
/// results come back on. Dropping the guard stops the monitor.
pub fn live_runner() -> (TaskRunner, mpsc::Receiver<Event>, DropGuard) {
    let (tx, events) = mpsc::channel(1024);
    let cancel = CancellationToken::new();
    let poll = PollConfig {
        interval: Duration::from_millis(250),
        stagger_start: false,
        ..PollConfig::default()
    };
    let tasks =
        endpoint_tasks::spawn(tx.clone(), poll, cancel.clone()).expect("endpoint tasks start");
    let runner =
        TaskRunner::new(tx, "/nonexistent/themes".into(), Vec::new()).with_endpoints(tasks);
    (runner, events, cancel.drop_guard())
}
