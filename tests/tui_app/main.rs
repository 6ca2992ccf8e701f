//! The console's state machine and rendering, on ratatui's `TestBackend`: key handling through
//! `App::update`, and snapshots of every view and overlay at 80x24, 120x40, 160x48 and 200x60.

mod forms;
mod gpus;
mod help;
mod messages;
mod readonly;
mod recipes;

use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::{Command, Event};
use aimdeck::tui::messages::Level;
use aimdeck::tui::mode::{ConfirmPurpose, FormPurpose, Mode};
use aimdeck::tui::views::ViewId;
use aimdeck::tui::views::frame::render;
use aimdeck::tui::widgets::form::FormField;
use aimdeck::tui::widgets::{ConfirmDialog, Form, TableCell, TableRow};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App {
    let settings = Settings {
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        ..Settings::default()
    };
    let mut app = App::new(settings);
    app.on_tick("12:34");
    app
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| app.update(ch(c))).collect()
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal.backend().to_string()
}

/// Rows for rendering tests only; the product never shows made-up rows.
fn endpoint_rows() -> Vec<TableRow> {
    [
        ("llama-70b", "vllm", "Ready", 12.0),
        ("qwen-7b", "sglang", "Starting", 0.0),
        ("mistral", "vllm", "Down", 3.0),
    ]
    .into_iter()
    .map(|(name, engine, state, running)| TableRow {
        id: name.into(),
        cells: vec![
            TableCell::text(name),
            TableCell::text(engine),
            TableCell::text("org/model"),
            TableCell::text("watched"),
            TableCell::text("1/1"),
            TableCell::text(state),
            TableCell::number(Some(running), format!("{running}")),
        ],
    })
    .collect()
}

#[test]
fn tab_and_backtab_cycle_the_four_views() {
    let mut app = app();
    assert_eq!(app.view, ViewId::Gpus);
    let mut seen = vec![app.view];
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
        seen.push(app.view);
    }
    assert_eq!(
        seen,
        [ViewId::Gpus, ViewId::Cache, ViewId::Recipes, ViewId::Endpoints, ViewId::Gpus]
    );
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.view, ViewId::Endpoints);
    app.update(ch('2'));
    assert_eq!(app.view, ViewId::Cache);
}

#[test]
fn command_mode_switches_views_and_reports_unknown_commands() {
    let mut app = app();
    app.update(ch(':'));
    type_text(&mut app, "recipes");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.view, ViewId::Recipes);
    assert!(matches!(app.mode, Mode::Normal));

    app.update(ch(':'));
    type_text(&mut app, "ep");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.view, ViewId::Endpoints);

    app.update(ch(':'));
    type_text(&mut app, "nonsense");
    app.update(key(KeyCode::Enter));
    let message = app.message.clone().expect("an error message");
    assert_eq!(message.level, Level::Error);
    assert!(message.text.contains("unknown command `nonsense`"));
}

#[test]
fn tab_completes_in_command_mode() {
    let mut app = app();
    app.update(ch(':'));
    type_text(&mut app, "gp");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.view, ViewId::Gpus);
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn theme_command_asks_the_runner_and_applies_the_result() {
    let mut app = app();
    app.update(ch(':'));
    let mut commands = type_text(&mut app, "theme light");
    commands.extend(app.update(key(KeyCode::Enter)));
    assert!(
        matches!(commands.as_slice(), [Command::LoadTheme(name)] if name == "light"),
        "{commands:?}"
    );
    let light = aimdeck::tui::theme::Theme::builtin("light").unwrap();
    app.update(Event::ThemeLoaded { name: "light".into(), result: Ok(light) });
    assert_eq!(app.theme.name, "light");
    app.update(Event::ThemeLoaded { name: "x".into(), result: Err("unknown theme `x`".into()) });
    assert_eq!(app.theme.name, "light", "a failed load keeps the current theme");
    assert_eq!(app.message.as_ref().map(|m| m.level), Some(Level::Error));
}

#[test]
fn help_opens_and_closes_and_quit_works_from_everywhere() {
    let mut app = app();
    app.update(ch('?'));
    assert!(matches!(app.mode, Mode::Help { .. }));
    app.update(ch('j'));
    assert!(matches!(app.mode, Mode::Help { scroll: 1 }));
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Normal));
    assert!(!app.should_quit);

    app.update(ch(':'));
    app.update(Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert!(app.should_quit, "ctrl-c quits even in command mode");

    let mut app = self::app();
    app.update(ch('q'));
    assert!(app.should_quit);
}

#[test]
fn filter_narrows_the_table_live_and_escape_clears_it() {
    let mut app = app();
    app.view_state_mut(ViewId::Endpoints).table.set_rows(endpoint_rows());
    app.update(ch('4'));
    app.update(ch('/'));
    type_text(&mut app, "qwen");
    assert_eq!(app.current().table.visible_len(), 1);
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.current().table.filter(), "qwen");
    app.update(key(KeyCode::Esc));
    assert_eq!(app.current().table.visible_len(), 3);
}

#[test]
fn vim_keys_and_arrows_move_the_selection_and_sorting_reorders() {
    let mut app = app();
    app.view_state_mut(ViewId::Endpoints).table.set_rows(endpoint_rows());
    app.update(ch('4'));
    app.update(ch('j'));
    app.update(key(KeyCode::Down));
    assert_eq!(app.current().table.selected().map(|r| r.id.as_str()), Some("mistral"));
    app.update(ch('k'));
    assert_eq!(app.current().table.selected().map(|r| r.id.as_str()), Some("qwen-7b"));
    app.update(ch('g'));
    assert_eq!(app.current().table.selected_index(), 0);
    app.update(ch('G'));
    assert_eq!(app.current().table.selected_index(), 2);
    app.update(ch('o'));
    assert_eq!(app.current().table.sort(), Some((0, true)));
    app.update(ch('O'));
    assert_eq!(app.current().table.sort(), Some((0, false)));
}

#[test]
fn readonly_refuses_mutating_actions() {
    let mut app = App::new(Settings {
        readonly: true,
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    });
    app.update(ch('d'));
    let message = app.message.clone().unwrap();
    assert!(message.text.contains("read-only"), "{}", message.text);
    app.update(ch('c'));
    assert!(app.message.unwrap().text.contains("Create (c): refused"));
}

#[test]
fn an_idle_console_does_not_redraw() {
    let mut app = app();
    app.take_dirty();
    for _ in 0..3 {
        app.on_tick("12:34");
        assert!(!app.take_dirty(), "same minute, nothing to draw");
    }
    app.on_tick("12:35");
    assert!(app.take_dirty(), "the clock changed");
}

#[test]
fn messages_expire_after_their_time() {
    let mut app = app();
    app.notify(Level::Info, "saved");
    for _ in 0..5 {
        app.on_tick("12:34");
    }
    assert!(app.message.is_none());
}

#[test]
fn key_override_warnings_reach_the_message_line() {
    let settings = Settings {
        key_overrides: [("launch_rockets".to_string(), vec!["x".to_string()])].into(),
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    };
    let app = App::new(settings);
    let message = app.message.clone().unwrap();
    assert_eq!(message.level, Level::Warning);
    assert!(message.text.contains("unknown action `launch_rockets`"));
}

// ---- snapshots -------------------------------------------------------------------------

/// Snapshots stay where they were before this file became a folder: `tests/snapshots/`,
/// named `tui_app__NAME`.
fn assert_screen(name: impl Into<String>, shown: impl AsRef<str>) {
    let name: String = name.into();
    let shown = shown.as_ref().to_string();
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!(name, shown);
    });
}

/// The sizes every view and overlay is drawn at: the smallest terminal, two common ones and a
/// wide one (where the tables must use the width).
const SIZES: [(u16, u16); 4] = [(80, 24), (120, 40), (160, 48), (200, 60)];

fn snapshot(name: &str, app: &App) {
    for (width, height) in SIZES {
        assert_screen(format!("{name}_{width}x{height}"), screen(app, width, height));
    }
}

#[test]
fn snapshot_each_view_empty() {
    let mut app = app();
    for view in ViewId::TABS {
        app.view = view;
        snapshot(&format!("view_{}", view.command()), &app);
    }
}

#[test]
fn snapshot_table_with_rows_sorted_and_filtered() {
    let mut app = app();
    app.view = ViewId::Endpoints;
    app.view_state_mut(ViewId::Endpoints).table.set_rows(endpoint_rows());
    app.update(ch('j'));
    snapshot("table_rows", &app);
    app.update(ch('/'));
    type_text(&mut app, "vllm");
    snapshot("table_filtering", &app);
}

#[test]
fn snapshot_command_mode_with_candidates() {
    let mut app = app();
    app.update(ch(':'));
    app.update(ch('e'));
    app.update(key(KeyCode::Tab));
    snapshot("overlay_command", &app);
}

#[test]
fn snapshot_confirm_dialog() {
    let mut app = app();
    app.mode = Mode::Confirm(
        ConfirmDialog::new(
            "Delete deployment",
            "Delete llama-70b: its 4 replicas stop and their containers are removed.",
            "llama-70b",
        ),
        ConfirmPurpose::DeleteDeployment { backend: "docker".into(), name: "llama-70b".into() },
    );
    type_text(&mut app, "llama");
    snapshot("overlay_confirm", &app);
}

#[test]
fn snapshot_messages_and_too_small() {
    let mut app = app();
    app.notify(Level::Error, "docker: cannot connect to /var/run/docker.sock");
    snapshot("message_error", &app);
    assert_screen("too_small_60x20", screen(&app, 60, 20));
}

#[test]
fn snapshot_monochrome_has_no_colours() {
    let app = App::new(Settings {
        no_color: true,
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    });
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

// ---- GPUs view from recorded tool output -----------------------------------------------
