//! Polls folded into one rebuild per tick, and deployment rows from their replicas' polls.

use super::*;

#[test]
fn polls_are_shown_on_the_next_tick_and_redraw_only_the_endpoints_view() {
    let mut app = fleet();
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    app.take_dirty();
    let before = cells(&app, "llama-70b")[9].clone();
    app.update(update(
        "llama-70b",
        EndpointState::Ready,
        755,
        Some(EngineKind::Vllm),
        "m",
        Some(sample(0, 0.5)),
        None,
    ));
    app.update(update(
        "llama-70b",
        EndpointState::Ready,
        755,
        Some(EngineKind::Vllm),
        "m",
        Some(sample(0, 0.5)),
        None,
    ));
    assert!(!app.take_dirty(), "a poll alone draws nothing");
    assert_eq!(
        cells(&app, "llama-70b")[9],
        before,
        "the table is rebuilt once per tick, not per poll"
    );
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    assert!(app.take_dirty(), "the tick after polls redraws the Endpoints view");
    assert_eq!(cells(&app, "llama-70b")[9], "425", "with the newest numbers");
    let clock = app.clock.clone();
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    assert_eq!(
        app.take_dirty(),
        app.clock != clock,
        "a tick with no new polls draws nothing (only a new minute would)"
    );

    app.update(key(KeyCode::Char('1')));
    app.take_dirty();
    app.update(update(
        "llama-70b",
        EndpointState::Ready,
        756,
        Some(EngineKind::Vllm),
        "m",
        Some(sample(0, 0.6)),
        None,
    ));
    let clock = app.clock.clone();
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    assert_eq!(
        app.take_dirty(),
        app.clock != clock,
        "the GPUs view has nothing new to draw (only a new minute would)"
    );
    assert_eq!(cells(&app, "llama-70b")[9], "510", "the table still follows the data");
}

#[test]
fn deployment_rows_follow_their_replicas_polls() {
    use aimdeck::model::{Deployment, DeploymentSpec, Replica, ReplicaState};
    use aimdeck::tui::features::deploy::DeployEvent;
    let mut app = fleet();
    let replica = |index: u32, state| Replica {
        index,
        name: format!("aimdeck-llama-{index}"),
        port: 8100 + index as u16,
        gpus: vec![index],
        state,
        detail: None,
        handle: None,
        started_at_unix_ms: None,
    };
    let deployment = Deployment {
        name: "llama".into(),
        backend: "docker".into(),
        spec: DeploymentSpec::minimal(
            "llama",
            "meta-llama/Llama-3.1-8B-Instruct",
            EngineKind::Vllm,
            2,
            8100,
        ),
        replicas: vec![replica(0, ReplicaState::Ready), replica(1, ReplicaState::Starting)],
        autoscaler: None,
    };
    let commands = app.update(Event::Deploy(DeployEvent::Listed {
        backend: "docker".into(),
        result: Ok(vec![deployment]),
    }));
    // Each replica's server is polled under its own id.
    assert_eq!(
        watched(&commands),
        [
            ("deploy:llama".to_string(), "http://127.0.0.1:8100".to_string()),
            ("deploy:llama/1".to_string(), "http://127.0.0.1:8101".to_string())
        ]
    );
    assert_eq!(
        cells(&app, "deploy:llama")[..6],
        ["llama", "vllm", "meta-llama/Llama-3.1-8B-Instruct", "docker", "1/2", "1/2 ready"]
    );
    assert_eq!(cells(&app, "deploy:llama")[9], "-", "no poll yet");

    // A poll of replica 0 reaches the deployment's row at the tick, with no new listing.
    app.update(update(
        "deploy:llama",
        EndpointState::Ready,
        30,
        Some(EngineKind::Vllm),
        "meta-llama/Llama-3.1-8B-Instruct",
        Some(sample(0, 0.5)),
        None,
    ));
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    let row = cells(&app, "deploy:llama");
    assert_eq!(
        row[..6],
        ["llama", "vllm", "meta-llama/Llama-3.1-8B-Instruct", "docker", "1/2", "1/2 ready"]
    );
    assert_eq!(row[9], "425");
    app.update(update(
        "deploy:llama",
        EndpointState::Ready,
        31,
        Some(EngineKind::Vllm),
        "meta-llama/Llama-3.1-8B-Instruct",
        Some(sample(0, 0.6)),
        None,
    ));
    app.update(Event::Tick(aimdeck::tui::event::Now::read()));
    assert_eq!(cells(&app, "deploy:llama")[9], "510", "and keeps following it");
    // The replicas are not listed as separate watched URLs: three URLs and one deployment.
    assert_eq!(app.view_state(ViewId::Endpoints).table.total(), 4);
}
