//! The endpoints domain's `update`, driven without a runtime: the commands it returns are
//! compared with `==`.

use crate::monitor::EndpointTarget;
use crate::tui::app::testing::command_line;
use crate::tui::app::{App, Settings};
use crate::tui::event::Command;
use crate::tui::features::endpoints::EndpointCommand;

fn console() -> App {
    App::new(Settings { user_themes_dir: "/nonexistent/themes".into(), ..Settings::default() })
}

#[test]
fn add_watches_and_rm_unwatches() {
    let mut app = console();
    let target = EndpointTarget {
        id: "llama".into(),
        ..EndpointTarget::parse("http://127.0.0.1:8000").unwrap()
    };
    assert_eq!(
        command_line(&mut app, "add llama http://127.0.0.1:8000"),
        vec![Command::Endpoints(EndpointCommand::Watch(target))]
    );
    assert_eq!(
        command_line(&mut app, "rm llama"),
        vec![Command::Endpoints(EndpointCommand::Unwatch("llama".into()))]
    );
    // Unknown now: an error, and nothing to run.
    assert_eq!(command_line(&mut app, "rm llama"), vec![]);
}

/// The endpoints domain's `update` on its own: `:add` is a Watch, a message, the Endpoints
/// view and its rows rebuilt; a table key in the detail pane is left to the shell; a
/// benchmark in read-only mode is refused with the keymap's words.
#[test]
fn the_endpoints_update_returns_its_watches_and_asks_of_the_shell() {
    use crate::tui::ctx::{ShellCommand, invalidate, notify};
    use crate::tui::features::endpoints::Typed;
    use crate::tui::features::endpoints::view::{EndpointsState, Pane};
    use crate::tui::features::endpoints::{EndpointMsg, update};
    use crate::tui::joins::Stale;
    use crate::tui::keymap::Action;
    use crate::tui::messages::Level;
    use crate::tui::views::ViewId;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let app = console();
    let mut state = EndpointsState::default();
    let typed = Typed::Add { name: Some("llama".into()), url: "http://127.0.0.1:8000".into() };
    let target = EndpointTarget {
        id: "llama".into(),
        ..EndpointTarget::parse("http://127.0.0.1:8000").unwrap()
    };
    assert_eq!(
        update(&mut state, EndpointMsg::Typed(typed), &app.ctx()),
        vec![
            notify(Level::Info, "watching llama (http://127.0.0.1:8000)"),
            Command::Shell(ShellCommand::Show(ViewId::Endpoints)),
            invalidate(Stale::Endpoints),
            Command::Endpoints(EndpointCommand::Watch(target)),
        ]
    );
    state.pane = Pane::Detail;
    let down = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(
        update(&mut state, EndpointMsg::Key(down), &app.ctx()),
        vec![Command::Shell(ShellCommand::Perform(Action::Down))]
    );
    assert!(matches!(state.pane, Pane::Detail), "the pane stays open");

    let mut readonly = App::new(Settings {
        readonly: true,
        user_themes_dir: "/nonexistent/themes".into(),
        ..Settings::default()
    });
    let mut state = EndpointsState::default();
    assert_eq!(
        update(&mut state, EndpointMsg::RowAction(Action::Bench), &readonly.ctx()),
        vec![notify(Level::Info, "bench: select an endpoint first")]
    );
    command_line(&mut readonly, "add llama http://127.0.0.1:8000");
    let mut state = std::mem::take(&mut readonly.endpoints);
    let refusal = readonly.keymap.refusal(Action::Bench);
    assert_eq!(
        update(&mut state, EndpointMsg::RowAction(Action::Bench), &readonly.ctx()),
        vec![notify(Level::Warning, refusal)]
    );
}
