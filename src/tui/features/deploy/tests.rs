//! The deploy domain's `update`, driven without a runtime: the commands it returns are compared
//! with `==`.

use std::sync::Arc;

use crossterm::event::KeyCode;

use crate::backend::Backend;
use crate::backend::process::ProcessBackend;
use crate::backend::registry::Registry;
use crate::model::{Deployment, DeploymentSpec, EngineKind};
use crate::tui::app::testing::{command_line, key};
use crate::tui::app::{App, Settings};
use crate::tui::event::{Command, Event, RunId};
use crate::tui::features::deploy::{DeployCommand, DeployEvent};
use crate::tui::mode::Mode;

/// A console over one process backend (named only: nothing it returns is run).
fn console() -> App {
    let backend: Arc<dyn Backend> = Arc::new(ProcessBackend::new("/nonexistent/state", Vec::new()));
    App::new(Settings {
        user_themes_dir: "/nonexistent/themes".into(),
        backends: Registry::new(vec![backend]),
        active_backend: "process".into(),
        ..Settings::default()
    })
}

fn listed(app: &mut App, name: &str) -> Vec<Command> {
    let spec = DeploymentSpec::minimal(name, "org/model", EngineKind::Vllm, 1, 18_000);
    let deployment = Deployment {
        name: name.into(),
        backend: "process".into(),
        spec,
        replicas: Vec::new(),
        autoscaler: None,
    };
    app.update(Event::Deploy(DeployEvent::Listed {
        backend: "process".into(),
        result: Ok(vec![deployment]),
    }))
}

#[test]
fn the_start_and_every_other_tick_list_each_backend_once() {
    let mut app = console();
    let list = Command::Deploy(DeployCommand::List { backend: "process".into() });
    assert!(app.start().contains(&list));
    // The list is still out: the ticks ask for nothing more.
    let now = app.now;
    assert_eq!(app.update(Event::Tick(now)), vec![]);
    assert_eq!(app.update(Event::Tick(now)), vec![]);
    listed(&mut app, "llama");
    app.update(Event::Tick(now));
    assert_eq!(app.update(Event::Tick(now)), vec![list]);
}

#[test]
fn logs_are_a_run_and_esc_cancels_it_through_the_runner() {
    let mut app = console();
    listed(&mut app, "llama");
    app.update(key(KeyCode::Char('4')));
    let commands = app.update(key(KeyCode::Char('l')));
    let run = RunId(1);
    assert_eq!(
        commands,
        vec![Command::Deploy(DeployCommand::Logs {
            backend: "process".into(),
            name: "llama".into(),
            run
        })]
    );
    assert!(matches!(app.mode, Mode::Logs));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(run)]);
    assert!(app.deploy.logs.is_none());
}

#[test]
fn the_journal_and_the_rendered_config_are_commands() {
    let mut app = console();
    listed(&mut app, "llama");
    assert_eq!(
        command_line(&mut app, "journal"),
        vec![Command::Deploy(DeployCommand::ReadJournal)]
    );
    app.update(key(KeyCode::Char('4')));
    let spec = app.deploy.find("llama").unwrap().spec.clone();
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Command::Deploy(DeployCommand::Render {
            backend: "process".into(),
            spec: Box::new(spec),
            create: false,
            header: Vec::new(),
        })]
    );
}

/// The deploy domain's `update` on its own: a listing that changes what runs stores it and
/// tells the shell (the joins follow through the notice), nothing else.
#[test]
fn a_changed_listing_is_stored_and_announced() {
    use crate::tui::ctx::{Notice, ShellCommand};
    use crate::tui::features::deploy::{DeployMsg, DeployState, update};
    let app = console();
    let mut state = DeployState { backends: vec!["process".into()], ..Default::default() };
    let spec = DeploymentSpec::minimal("llama", "org/model", EngineKind::Vllm, 1, 18_000);
    let deployment = Deployment {
        name: "llama".into(),
        backend: "process".into(),
        spec,
        replicas: Vec::new(),
        autoscaler: None,
    };
    let listed = DeployEvent::Listed { backend: "process".into(), result: Ok(vec![deployment]) };
    assert_eq!(
        update(&mut state, DeployMsg::Event(listed), &app.ctx()),
        vec![Command::Shell(ShellCommand::Announce(Notice::DeploymentsChanged))]
    );
    assert!(state.find("llama").is_some());
}

/// `+` while a scale of the same deployment is under way queues the new target (no command),
/// and a confirmed delete is a message, the row's rollout, and one Delete for the runner.
#[test]
fn a_scale_behind_a_scale_queues_and_a_delete_is_one_command() {
    use crate::tui::ctx::{invalidate, notify};
    use crate::tui::features::deploy::{DeployMsg, update};
    use crate::tui::joins::Stale;
    use crate::tui::keymap::Action;
    use crate::tui::messages::Level;
    let mut app = console();
    app.view = crate::tui::views::ViewId::Endpoints;
    listed(&mut app, "llama");
    let mut state = app.deploy.clone();
    state.in_flight.insert("llama".into(), "scaling");
    assert_eq!(
        update(&mut state, DeployMsg::RowAction(Action::ScaleUp), &app.ctx()),
        vec![notify(Level::Info, "scale llama to 1: queued behind the scale under way")]
    );
    assert_eq!(state.queued_scale.get("llama"), Some(&1));
    let mut state = app.deploy.clone();
    let delete = DeployMsg::DeleteConfirmed { backend: "process".into(), name: "llama".into() };
    assert_eq!(
        update(&mut state, delete, &app.ctx()),
        vec![
            notify(Level::Info, "deleting llama…"),
            invalidate(Stale::Endpoints),
            Command::Deploy(DeployCommand::Delete {
                backend: "process".into(),
                name: "llama".into()
            }),
        ]
    );
    assert_eq!(state.in_flight.get("llama"), Some(&"deleting"));
}
