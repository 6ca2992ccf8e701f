//! `--readonly` for every console action, from the keymap's own list: each action that changes
//! something is refused with a message naming it as the help does, each that only looks is
//! let through. An action added to the keymap without a row here fails the test.

use aimdeck::tui::keymap::{Action, Keymap};
use aimdeck::tui::views::resources::offered;
use crossterm::event::KeyEvent;

use super::*;

/// What `--readonly` must refuse: deployments, the cache, recipe files, load on a server.
const CHANGES: &[&str] =
    &["create", "scale", "scale_up", "scale_down", "delete", "restart", "pull", "edit", "bench"];

/// What it must allow: moving, looking, the console's own settings.
const LOOKS: &[&str] = &[
    "quit",
    "help",
    "back",
    "command",
    "next_view",
    "prev_view",
    "view_gpus",
    "view_cache",
    "view_recipes",
    "view_endpoints",
    "refresh",
    "allow_degraded",
    "partitions",
    "filter",
    "up",
    "down",
    "page_up",
    "page_down",
    "top",
    "bottom",
    "sort",
    "sort_reverse",
    "open",
    "logs",
    "prompt",
    "show_config",
    "topology",
    "cancel",
    "recipes_for",
];

fn readonly_app() -> App {
    let mut app = App::new(Settings {
        readonly: true,
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    });
    app.on_tick("12:34");
    // The library, as read on first use: reading it changes nothing, so it is not what a
    // refusal is about.
    app.update(Event::Recipes(std::sync::Arc::new(aimdeck::recipes::load::Library::default())));
    app
}

/// The first key bound to `action`, as a key event.
fn press_for(keymap: &Keymap, action: Action) -> Event {
    let bound = keymap.keys_for(action)[0];
    let mut modifiers = KeyModifiers::NONE;
    if bound.ctrl {
        modifiers |= KeyModifiers::CONTROL;
    }
    Event::Key(KeyEvent::new(bound.code, modifiers))
}

#[test]
fn every_keymap_action_is_classified_and_readonly_refuses_exactly_the_changes() {
    for &action in Action::ALL {
        let name = action.name();
        let changes = match (CHANGES.contains(&name), LOOKS.contains(&name)) {
            (true, false) => true,
            (false, true) => false,
            _ => panic!("`{name}` is new or listed twice: classify it in CHANGES or LOOKS"),
        };
        assert_eq!(action.changes_something(), changes, "{name}");

        let mut app = readonly_app();
        // Where the action is offered, so a refusal cannot be mistaken for "not here".
        if let Some(&view) = ViewId::TABS.iter().find(|&&v| offered(v).contains(&action)) {
            app.view = view;
        }
        app.message = None;
        let commands = app.update(press_for(&app.keymap.clone(), action));
        let message = app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
        if changes {
            let expected = format!(
                "{}: refused, aimdeck is read-only (--readonly)",
                app.keymap.describe(action)
            );
            assert_eq!(message, expected, "{name}");
            assert!(commands.is_empty(), "{name} returned {commands:?}");
            assert!(matches!(app.mode, Mode::Normal), "{name} opened nothing");
            if name.contains('_') {
                assert!(!message.contains(name), "no internal name: {message}");
            }
        } else {
            assert!(!message.contains("read-only"), "{name} is allowed, got: {message}");
        }
    }
}

#[test]
fn the_refusal_names_the_action_as_the_help_lists_it() {
    let app = readonly_app();
    assert_eq!(
        app.keymap.refusal(Action::ScaleUp),
        "Add one replica (+): refused, aimdeck is read-only (--readonly)"
    );
    let mut app = readonly_app();
    app.update(ch('4'));
    app.update(ch('?'));
    let help = screen(&app, 200, 60);
    assert!(help.contains("(refused: read-only)"), "the help marks what is refused:\n{help}");
}

#[test]
fn recipes_for_a_cached_model_is_allowed_under_readonly() {
    let mut app = readonly_app();
    app.update(ch('2'));
    app.update(ch('R'));
    let message = app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
    assert!(!message.contains("refused"), "{message}");
}
