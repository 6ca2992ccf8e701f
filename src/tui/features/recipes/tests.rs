//! The recipes domain's `update`, driven without a runtime.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::process::ProcessBackend;
use crate::backend::registry::Registry;
use crate::recipes::load_builtin;
use crate::tui::app::{App, Settings};
use crate::tui::event::{Command, Event};
use crate::tui::messages::Level;
use crate::tui::mode::{FormPurpose, Mode, PickPurpose};
use crate::tui::views::ViewId;

fn console() -> App {
    App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() })
}

impl App {
    /// Whether an 80x24 screen of the console shows `text`.
    fn screen_text_contains(&self, text: &str) -> bool {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|frame| crate::tui::views::frame::render(self, frame)).unwrap();
        terminal.backend().to_string().contains(text)
    }
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Issue 21: the library is read when the Recipes view or the create form first needs it, once;
/// Ctrl-R reads it again.
#[test]
fn the_library_is_read_on_first_use_and_again_on_ctrl_r() {
    let mut app = console();
    assert!(!app.start().contains(&Command::LoadRecipes), "not at start");
    assert!(!app.update(key('2')).contains(&Command::LoadRecipes), "not for the Cache view");
    assert_eq!(app.update(key('3')), vec![Command::LoadRecipes]);
    assert!(app.screen_text_contains("Loading recipes"));
    app.update(key('1'));
    assert!(!app.update(key('3')).contains(&Command::LoadRecipes), "asked once");
    app.update(Event::Recipes(Arc::new(load_builtin())));
    let ctrl_r = Event::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_r), vec![Command::LoadRecipes]);

    // The create form needs it too (its recipe picker).
    let mut app = console();
    app.start();
    app.view = ViewId::Endpoints;
    assert!(app.update(key('c')).contains(&Command::LoadRecipes));
}

/// A create submitted while the library is still being read waits with its form open, then
/// goes on by itself: the model has recipes, so the picker opens, as it would have at once.
#[test]
fn a_create_submitted_before_the_library_is_read_goes_on_when_it_is() {
    let backend: Arc<dyn Backend> = Arc::new(ProcessBackend::new("/nonexistent/state", Vec::new()));
    let mut app = App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        backends: Registry::new(vec![backend]),
        active_backend: "process".into(),
        ..Settings::default()
    });
    app.start();
    app.view = ViewId::Endpoints;
    app.update(key('c'));
    for c in "web1".chars() {
        app.update(key(c));
    }
    app.update(Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    for c in "meta-llama/Llama-3.1-8B-Instruct".chars() {
        app.update(key(c));
    }
    let enter = Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(app.update(enter), vec![]);
    assert!(matches!(app.mode, Mode::Form(_, FormPurpose::Create)), "the form stays open");
    let text = &app.message.as_ref().expect("a message").text;
    assert!(text.contains("reading the recipe library"), "{text}");

    app.update(Event::Recipes(Arc::new(load_builtin())));
    assert!(
        matches!(&app.mode, Mode::Pick(_, PickPurpose::CreateRecipe)),
        "the recipe picker opened: {:?}",
        app.mode
    );
    let draft = app.deploy.draft.as_ref().expect("the submitted values");
    assert_eq!(draft["name"], "web1");
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
    app.view = ViewId::Recipes;
    assert!(app.screen_text_contains("Recipes could not be read: loading recipes failed: boom"));
}

/// The recipes domain's `update` on its own: Ctrl-R reads the library, `e` with nothing
/// selected says so, and a hardware change with no library chooses nothing.
#[test]
fn the_recipes_update_returns_its_reads_and_messages() {
    use crate::tui::ctx::notify;
    use crate::tui::features::recipes::{LibraryRead, RecipeMsg, RecipeState, update};
    let app = console();
    let mut state = RecipeState::default();
    assert_eq!(update(&mut state, RecipeMsg::Reload, &app.ctx()), vec![Command::LoadRecipes]);
    assert_eq!(state.read, LibraryRead::Reading);
    assert_eq!(
        update(&mut state, RecipeMsg::Edit, &app.ctx()),
        vec![notify(Level::Info, "edit: select a recipe first")]
    );
    assert_eq!(update(&mut state, RecipeMsg::Hardware(None), &app.ctx()), vec![]);
    assert!(state.best.is_empty());
}
