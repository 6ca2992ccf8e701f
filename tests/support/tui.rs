//! Helpers for tests that drive the console's `App` with key events and read the screen.

use std::time::Duration;

use aimdeck::backend::registry::Registry;
use aimdeck::monitor::PollConfig;
use aimdeck::tui::app::App;
use aimdeck::tui::effects::Effects;
use aimdeck::tui::event::{Event, Now};
use aimdeck::tui::views::frame::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio_util::sync::DropGuard;

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The key events that type `text`.
pub fn typed(text: &str) -> impl Iterator<Item = Event> + '_ {
    text.chars().map(|c| key(KeyCode::Char(c)))
}

/// For a test crate that is a folder (`tests/NAME/main.rs` with modules): its snapshots stay in
/// `tests/snapshots/` named `NAME__SNAPSHOT`, where they were when it was one file, whichever
/// of its modules asserts them.
pub fn assert_screen(name: impl Into<String>, shown: impl AsRef<str>) {
    let name = format!("{}__{}", env!("CARGO_CRATE_NAME"), name.into());
    let shown = shown.as_ref().to_string();
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, shown);
    });
}

/// What a `width` x `height` terminal shows of the app.
pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal.backend().to_string()
}

/// The real effects runner over `backends`, with the endpoint monitor polling every 250 ms,
/// and the channel its results come back on. Dropping the guard stops the monitor and runs.
pub fn live_runner(backends: Registry) -> (Effects, mpsc::Receiver<Event>, DropGuard) {
    let (tx, events) = mpsc::channel(1024);
    let poll = PollConfig {
        interval: Duration::from_millis(250),
        stagger_start: false,
        ..PollConfig::default()
    };
    let runner = Effects::new(tx, backends, "/nonexistent/themes".into(), Vec::new())
        .with_endpoint_monitor(poll);
    let guard = runner.shutdown_guard();
    (runner, events, guard)
}

/// A clock tick at the current time.
#[allow(dead_code)]
pub fn tick() -> Event {
    Event::Tick(Now::read())
}
