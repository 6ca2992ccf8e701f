//! `?` per view, like k9s: the view's own keys first, then the global ones and the `:`
//! commands, all generated from the keymap and the command table.

use aimdeck::tui::keymap::{Action, Scope};
use aimdeck::tui::views::help::sections;
use aimdeck::tui::views::resources::offered;

use super::*;

#[test]
fn help_lists_the_current_views_keys_first_then_the_global_ones() {
    let mut app = app();
    for view in ViewId::TABS {
        app.view = view;
        let sections = sections(&app);
        let titles: Vec<&str> = sections.iter().map(|(title, _)| title.as_str()).collect();
        assert_eq!(titles[0], format!("{} view", view.title()), "{titles:?}");
        assert_eq!(&titles[titles.len() - 2..], ["Global", "Commands"]);
        let own: Vec<&str> = sections[0].1.iter().map(|(_, what)| what.as_str()).collect();
        for action in offered(view) {
            assert!(own.contains(&action.help()), "{view}: {action:?} in {own:?}");
        }
        // Row actions of other views are not offered here.
        for action in Action::ALL.iter().filter(|a| a.scope() == Scope::Resource) {
            if !offered(view).contains(action) {
                assert!(!own.contains(&action.help()), "{view} does not offer {action:?}");
            }
        }
        let commands: Vec<&str> =
            sections.last().unwrap().1.iter().map(|(word, _)| word.as_str()).collect();
        for word in [":add", ":rm", ":journal", ":messages"] {
            assert!(commands.contains(&word), "{word} in {commands:?}");
        }
    }
}

#[test]
fn every_action_shows_in_the_help_of_some_view() {
    let mut app = app();
    let mut shown = Vec::new();
    for view in ViewId::TABS {
        app.view = view;
        for (_, rows) in sections(&app) {
            shown.extend(rows.into_iter().map(|(_, what)| what));
        }
    }
    for action in Action::ALL {
        assert!(shown.iter().any(|w| w == action.help()), "{action:?} missing from every help");
    }
}

#[test]
fn the_endpoints_help_has_the_logs_keys() {
    let mut app = app();
    app.view = ViewId::Endpoints;
    let sections = sections(&app);
    let (_, logs) = sections.iter().find(|(t, _)| t.starts_with("Logs pane")).expect("logs keys");
    let keys: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
    for key in ["/", "n", "N", "w", "G"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

#[test]
fn snapshot_help_in_each_view() {
    let mut app = app();
    for view in ViewId::TABS {
        app.view = view;
        app.update(ch('?'));
        for (width, height) in [(80, 24), (200, 60)] {
            let name = format!("help_{}_{width}x{height}", view.command());
            assert_screen(name, screen(&app, width, height));
        }
        app.update(key(KeyCode::Esc));
    }
}

#[test]
fn sorting_names_its_column_and_direction_in_the_title() {
    let mut app = app();
    app.view_state_mut(ViewId::Endpoints).table.set_rows(endpoint_rows());
    app.update(ch('4'));
    app.update(ch('o'));
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("sort: NAME ▲"), "{shown}");
    assert!(shown.contains("NAME ▲"), "and on the header:\n{shown}");
    app.update(ch('O'));
    assert!(screen(&app, 80, 24).contains("sort: NAME ▼"));
}
