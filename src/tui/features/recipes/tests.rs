//! The recipes domain's `update`, driven without a runtime.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::{App, Level, Settings};
use crate::tui::event::{Command, Event};
use crate::tui::views::ViewId;

fn console() -> App {
    App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() })
}

#[test]
fn the_start_and_ctrl_r_load_the_library() {
    let mut app = console();
    assert!(app.start().contains(&Command::LoadRecipes));
    app.view = ViewId::Recipes;
    let ctrl_r = Event::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_r), vec![Command::LoadRecipes]);
}

/// A loader that panicked is an error the operator reads, not a save of a recipe called "".
#[test]
fn a_failed_load_is_shown_as_an_error() {
    let mut app = console();
    let commands = app.update(Event::RecipesFailed("loading recipes failed: boom".into()));
    assert_eq!(commands, vec![]);
    let message = app.message.clone().expect("a message");
    assert_eq!(message.level, Level::Error);
    assert_eq!(message.text, "recipes: loading recipes failed: boom");
}
