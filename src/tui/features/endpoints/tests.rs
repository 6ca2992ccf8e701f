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
