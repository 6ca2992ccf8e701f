//! The shell's `update`, driven without a runtime: the commands it returns are compared with
//! `==`, and the tick's time is the one the event carries.

use crate::tui::app::testing::command_line;
use crate::tui::app::{App, Settings};
use crate::tui::event::{Command, Event};

fn console() -> App {
    App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        theme_names: vec!["default".into(), "light".into(), "mine".into()],
        ..Settings::default()
    })
}

#[test]
fn theme_asks_the_runner_and_lists_the_names_it_was_given() {
    let mut app = console();
    assert_eq!(command_line(&mut app, "theme light"), vec![Command::LoadTheme("light".into())]);
    assert_eq!(command_line(&mut app, "theme"), vec![]);
    let shown = app.message.clone().unwrap().text;
    assert!(shown.ends_with("(available: default, light, mine)"), "{shown}");
}

#[test]
fn the_clock_is_the_ticks() {
    let mut app = console();
    let mut now = app.now;
    now.local = jiff::civil::time(7, 5, 0, 0);
    assert_eq!(app.update(Event::Tick(now)), vec![]);
    assert_eq!(app.clock, "07:05");
    assert_eq!(app.now, now);
}
