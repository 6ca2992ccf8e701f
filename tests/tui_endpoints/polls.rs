//! Polls folded into one rebuild per tick, and deployment rows from their replicas' polls.

use super::*;

/// A poll of a ready vLLM endpoint serving `model`, in state for `since_s_ago` seconds.
fn ready_vllm(id: &str, since_s_ago: i64, model: &str, sample: EndpointSample) -> Event {
    update(id, EndpointState::Ready, since_s_ago, Some(EngineKind::Vllm), model, Some(sample), None)
}

#[test]
fn polls_are_shown_on_the_next_tick_and_redraw_only_the_endpoints_view() {
    let mut app = fleet();
    app.update(support::tui::tick());
    app.take_dirty();
    let before = cells(&app, "llama-70b")[9].clone();
    app.update(ready_vllm("llama-70b", 755, "m", sample(0, 0.5)));
    app.update(ready_vllm("llama-70b", 755, "m", sample(0, 0.5)));
    assert!(!app.take_dirty(), "a poll alone draws nothing");
    assert_eq!(
        cells(&app, "llama-70b")[9],
        before,
        "the table is rebuilt once per tick, not per poll"
    );
    app.update(support::tui::tick());
    assert!(app.take_dirty(), "the tick after polls redraws the Endpoints view");
    assert_eq!(cells(&app, "llama-70b")[9], "425", "with the newest numbers");
    let clock = app.clock.clone();
    app.update(support::tui::tick());
    assert_eq!(
        app.take_dirty(),
        app.clock != clock,
        "a tick with no new polls draws nothing (only a new minute would)"
    );

    app.update(key(KeyCode::Char('1')));
    app.take_dirty();
    app.update(ready_vllm("llama-70b", 756, "m", sample(0, 0.6)));
    let clock = app.clock.clone();
    app.update(support::tui::tick());
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
    app.update(ready_vllm("deploy:llama", 30, "meta-llama/Llama-3.1-8B-Instruct", sample(0, 0.5)));
    app.update(support::tui::tick());
    let row = cells(&app, "deploy:llama");
    assert_eq!(
        row[..6],
        ["llama", "vllm", "meta-llama/Llama-3.1-8B-Instruct", "docker", "1/2", "1/2 ready"]
    );
    assert_eq!(row[9], "425");
    app.update(ready_vllm("deploy:llama", 31, "meta-llama/Llama-3.1-8B-Instruct", sample(0, 0.6)));
    app.update(support::tui::tick());
    assert_eq!(cells(&app, "deploy:llama")[9], "510", "and keeps following it");
    // The replicas are not listed as separate watched URLs: three URLs and one deployment.
    assert_eq!(app.view_state(ViewId::Endpoints).table.total(), 4);

    // `:rm` by the deployment's name (or the replica's internal id) is refused with the way
    // to stop it, and nothing stops being watched: the row keeps its numbers.
    for typed in ["rm llama", "rm deploy:llama"] {
        assert!(command_line(&mut app, typed).is_empty(), ":{typed} changes nothing");
        let text = &app.message.as_ref().expect("a message").text;
        assert!(
            text.contains("`llama` is a deployment's endpoint")
                || text.contains("`deploy:llama` is a deployment's endpoint"),
            "{text}"
        );
        assert!(text.contains("delete the deployment"), "{text}");
    }
    assert_eq!(cells(&app, "deploy:llama")[9], "510");
    // An unknown name lists only what `:rm` can stop watching, never the internal ids.
    command_line(&mut app, "rm nope");
    let text = &app.message.as_ref().expect("a message").text;
    assert!(text.contains("no watched endpoint `nope`") && !text.contains("deploy:"), "{text}");
}

#[test]
fn a_dead_replica_shows_dashes_not_its_last_numbers() {
    use aimdeck::model::{Deployment, DeploymentSpec, Replica, ReplicaState};
    use aimdeck::tui::features::deploy::DeployEvent;
    let mut app = fleet();
    let listed = |state| {
        let replica = Replica {
            index: 0,
            name: "aimdeck-solo-0".into(),
            port: 8200,
            gpus: vec![0],
            state,
            detail: None,
            handle: None,
            started_at_unix_ms: None,
        };
        Event::Deploy(DeployEvent::Listed {
            backend: "process".into(),
            result: Ok(vec![Deployment {
                name: "solo".into(),
                backend: "process".into(),
                spec: DeploymentSpec::minimal("solo", "Qwen/Qwen3-8B", EngineKind::Vllm, 1, 8200),
                replicas: vec![replica],
                autoscaler: None,
            }]),
        })
    };
    app.update(listed(ReplicaState::Ready));
    app.update(ready_vllm("deploy:solo", 30, "Qwen/Qwen3-8B", sample(0, 0.5)));
    app.update(support::tui::tick());
    let live = cells(&app, "deploy:solo");
    assert_ne!(live[6..10], ["-", "-", "-", "-"], "a live replica has numbers: {live:?}");

    // The engine exits: the backend lists it so; its last sample is not what it does now.
    app.update(listed(ReplicaState::Exited));
    app.update(support::tui::tick());
    let dead = cells(&app, "deploy:solo");
    assert_eq!(dead[6..10], ["-", "-", "-", "-"], "RUN WAIT KV TOK/S of a dead replica: {dead:?}");
}
