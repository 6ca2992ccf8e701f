//! Deployment rows in the Endpoints view, driven through `App::update` with the events the
//! backends and the monitor send: numbers across all replicas, `2/3 ready`, the replica list
//! of the detail, and a rollout shown live on its row (pulling, creating, starting, ready, or
//! the failure's cause until Esc), with snapshots at 80x24 and 160x48. No process runs here:
//! the commands the app returns are inspected, not run (`tui_deploy_flows.rs` runs them).
//! `rows`: the numbers, the detail, ages, the scale form and a deployment's benchmark;
//! `rollouts`: create, scale, restart and delete shown live on the row.

#[path = "../support/mod.rs"]
mod support;

mod rollouts;
mod rows;

use std::sync::Arc;

use aimdeck::backend::process::ProcessBackend;
use aimdeck::model::{
    BackendEvent, BackendEventKind, Deployment, DeploymentSpec, EndpointSample, EndpointState,
    EndpointUpdate, EngineKind, Percentiles, Replica, ReplicaState,
};
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::{Command, Event};
use aimdeck::tui::features::deploy::{DeployCommand, DeployEvent};
use aimdeck::tui::features::endpoints::EndpointEvent;
use aimdeck::tui::mode::Mode;
use aimdeck::tui::views::ViewId;
use crossterm::event::KeyCode;
use support::tui::{assert_screen, key, screen, typed};

/// 2026-11-23 12:00:00 UTC.
const NOW: i64 = 1_795_435_200_000;

fn app() -> App {
    // The process backend is only named here: nothing the app returns is run.
    let backend: Arc<dyn aimdeck::backend::Backend> =
        Arc::new(ProcessBackend::new("/nonexistent/aimdeck-state", Vec::new()));
    let settings = Settings {
        header: HeaderInfo { backend: "process".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        backends: aimdeck::backend::registry::Registry::new(vec![backend]),
        active_backend: "process".into(),
        ..Settings::default()
    };
    let mut app = App::new(settings);
    app.endpoints.fixed_now_unix_ms = Some(NOW);
    app.on_tick("12:34");
    // The recipe library is read on first use (`c` asks for it); answer as a runner would,
    // with an empty library: these tests create without recipes.
    app.update(Event::Recipes(Arc::new(aimdeck::recipes::load::Library::default())));
    app.update(key(KeyCode::Char('4')));
    app
}

fn type_text(app: &mut App, text: &str) {
    for event in typed(text) {
        app.update(event);
    }
}

fn replica(name: &str, index: u32, state: ReplicaState) -> Replica {
    Replica {
        index,
        name: format!("{name}-{index}"),
        port: 8100 + index as u16,
        gpus: vec![2 * index, 2 * index + 1],
        state,
        detail: None,
        handle: Some(aimdeck::model::ReplicaHandle::Pid { pid: 4100 + index, log: "".into() }),
        started_at_unix_ms: None,
    }
}

fn deployment(name: &str, states: &[ReplicaState]) -> Deployment {
    let replicas: Vec<Replica> =
        states.iter().enumerate().map(|(i, &s)| replica(name, i as u32, s)).collect();
    let spec = DeploymentSpec::minimal(
        name,
        "meta-llama/Llama-3.1-8B-Instruct",
        EngineKind::Vllm,
        replicas.len() as u32,
        8100,
    );
    Deployment { name: name.into(), backend: "process".into(), spec, replicas, autoscaler: None }
}

fn listed(deployments: Vec<Deployment>) -> Event {
    Event::Deploy(DeployEvent::Listed { backend: "process".into(), result: Ok(deployments) })
}

fn sample(running: f64, waiting: f64, kv: f64, tokens: f64, ttft_p95_ms: f64) -> EndpointSample {
    EndpointSample {
        at_unix_ms: NOW,
        requests_running: Some(running),
        requests_waiting: Some(waiting),
        kv_cache_usage: Some(kv),
        generation_tokens_per_s: Some(tokens),
        prompt_tokens_per_s: Some(tokens * 2.0),
        ttft: Percentiles {
            p50: Some(ttft_p95_ms / 2000.0),
            p95: Some(ttft_p95_ms / 1000.0),
            p99: Some(ttft_p95_ms / 800.0),
        },
        ..Default::default()
    }
}

fn polled(
    id: &str,
    state: EndpointState,
    since_s_ago: i64,
    sample: Option<EndpointSample>,
) -> Event {
    Event::Endpoints(EndpointEvent::Update(EndpointUpdate {
        id: id.into(),
        state,
        state_since_unix_ms: NOW - since_s_ago * 1000,
        engine: Some(EngineKind::Vllm),
        models: vec!["meta-llama/Llama-3.1-8B-Instruct".into()],
        sample,
        error: None,
        poll_ms: 2.0,
    }))
}

/// A replica's poll as the console shows it: its numbers reach the table at the next clock
/// tick, which rebuilds the rows once from the polls since the last one.
fn poll(app: &mut App, update: Event) {
    app.update(update);
    aimdeck::tui::joins::flush(app);
}

fn progress(name: &str, replica: Option<u32>, kind: BackendEventKind, message: &str) -> Event {
    Event::Deploy(DeployEvent::Progress(BackendEvent {
        when: "2026-11-23T12:00:00Z".into(),
        backend: "process".into(),
        deployment: name.into(),
        replica,
        kind,
        message: message.into(),
    }))
}

fn done(action: &str, name: &str, result: Result<(), &str>) -> Event {
    Event::Deploy(DeployEvent::Done {
        action: action.into(),
        target: name.into(),
        deployment: Some(name.into()),
        result: result.map_err(str::to_string),
    })
}

fn cells(app: &App, id: &str) -> Option<Vec<String>> {
    let table = &app.view_state(ViewId::Endpoints).table;
    let row = table.rows().iter().find(|r| r.id == id)?;
    Some(
        row.cells
            .iter()
            .map(|c| c.content.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect(),
    )
}

fn state_of(app: &App, id: &str) -> String {
    cells(app, id).unwrap_or_else(|| panic!("no row {id}"))[5].clone()
}

fn snapshot(name: &str, app: &App) {
    for (width, height) in [(80, 24), (120, 40), (160, 48), (200, 60)] {
        assert_screen(format!("{name}_{width}x{height}"), screen(app, width, height));
    }
}

/// Three replicas: two ready and busy, one still starting.
fn busy_deployment() -> App {
    let mut app = app();
    app.update(listed(vec![deployment(
        "llama",
        &[ReplicaState::Ready, ReplicaState::Ready, ReplicaState::Starting],
    )]));
    poll(
        &mut app,
        polled(
            "deploy:llama",
            EndpointState::Ready,
            300,
            Some(sample(4.0, 1.0, 0.25, 400.0, 180.0)),
        ),
    );
    poll(
        &mut app,
        polled(
            "deploy:llama/1",
            EndpointState::Ready,
            40,
            Some(sample(3.0, 2.0, 0.70, 350.0, 420.0)),
        ),
    );
    poll(&mut app, polled("deploy:llama/2", EndpointState::Starting, 12, None));
    app
}
