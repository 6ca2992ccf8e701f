//! Deployment rows in the Endpoints view, driven through `App::update` with the events the
//! backends and the monitor send: numbers across all replicas, `2/3 ready`, the replica list
//! of the detail, and a rollout shown live on its row (pulling, creating, starting, ready, or
//! the failure's cause until Esc), with snapshots at 80x24 and 160x48. No process runs here:
//! the commands the app returns are inspected, not run (`tui_deploy_flows.rs` runs them).

mod support;

use std::sync::Arc;

use aimdeck::backend::process::ProcessBackend;
use aimdeck::model::{
    BackendEvent, BackendEventKind, Deployment, DeploymentSpec, EndpointSample, EndpointState,
    EndpointUpdate, EngineKind, Percentiles, Replica, ReplicaState,
};
use aimdeck::tui::app::{App, HeaderInfo, Mode, Settings};
use aimdeck::tui::event::{Command, Event};
use aimdeck::tui::features::deploy::{DeployCommand, DeployEvent};
use aimdeck::tui::features::endpoints::EndpointEvent;
use aimdeck::tui::views::ViewId;
use crossterm::event::KeyCode;
use support::tui::{key, screen, typed};

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
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen(app, width, height));
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

#[test]
fn a_deployment_row_adds_up_its_replicas_and_says_how_many_are_ready() {
    let mut app = busy_deployment();
    let row = cells(&app, "deploy:llama").unwrap();
    // REPL, STATE, then RUN and WAIT summed, KV% and TTFT p95 the worst replica's, tok/s summed.
    assert_eq!(row[4..], ["2/3", "2/3 ready", "7", "3", "70", "750", "420ms"]);

    // All three ready: `ready` for as long as the last one has been.
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready; 3])]));
    poll(
        &mut app,
        polled("deploy:llama/2", EndpointState::Ready, 5, Some(sample(1.0, 0.0, 0.10, 50.0, 90.0))),
    );
    let row = cells(&app, "deploy:llama").unwrap();
    assert_eq!(row[4..], ["3/3", "ready 5s", "8", "3", "70", "800", "420ms"]);

    // A replica that died makes the row say so even while others serve.
    let mut broken =
        deployment("llama", &[ReplicaState::Failed, ReplicaState::Failed, ReplicaState::Failed]);
    broken.replicas[0].detail = Some("exit code 1".into());
    app.update(listed(vec![broken]));
    assert_eq!(state_of(&app, "deploy:llama"), "failed");
}

#[test]
fn snapshot_deployment_rows_and_detail_list_each_replica() {
    let mut app = busy_deployment();
    snapshot("deployment_rows", &app);
    app.update(key(KeyCode::Enter));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("Deployment llama (charts: replica 0)"), "{shown}");
    for line in [":8101 llama-1", "llama-2", "starting", "2,3"] {
        assert!(shown.contains(line), "{line} in\n{shown}");
    }
    snapshot("deployment_detail", &app);
}

#[test]
fn the_scale_form_at_each_size() {
    let mut app = busy_deployment();
    app.update(key(KeyCode::Char('s')));
    assert!(matches!(app.mode, Mode::Form(..)), "{:?}", app.message);
    let shown = screen(&app, 80, 24);
    let row = shown.lines().find(|l| l.contains("Replicas")).unwrap_or_default();
    assert!(row.contains('3'), "the count beside its label: {row}");
    for (width, height) in [(80, 24), (120, 40), (200, 60)] {
        insta::assert_snapshot!(
            format!("form_scale_{width}x{height}"),
            screen(&app, width, height)
        );
    }
}

/// The create form filled in for `name` on the process backend, up to its review.
fn review_create(app: &mut App, name: &str, replicas: &str) {
    app.update(key(KeyCode::Char('c')));
    type_text(app, name);
    app.update(key(KeyCode::Tab));
    type_text(app, "org/tiny-model");
    for _ in 0..4 {
        app.update(key(KeyCode::Tab));
    }
    app.update(key(KeyCode::Backspace));
    type_text(app, replicas);
    // The review is rendered by the backend (a command); its answer opens the pager.
    let backend = ProcessBackend::new("/nonexistent/aimdeck-state", Vec::new());
    for command in app.update(key(KeyCode::Enter)) {
        if let Command::Deploy(DeployCommand::Render { spec, create, header, .. }) = command {
            let rendered = aimdeck::tui::effects::deploy::render(&backend, spec, create, header);
            app.update(Event::Deploy(rendered));
        }
    }
    assert!(
        matches!(&app.mode, Mode::Pager(p) if p.create.is_some()),
        "the review opens: {:?}",
        app.message
    );
}

#[test]
fn a_rollout_shows_on_its_row_from_pull_to_ready() {
    let mut app = app();
    review_create(&mut app, "tiny", "2");
    let commands = app.update(key(KeyCode::Char('y')));
    assert!(
        matches!(&commands[..], [Command::Deploy(DeployCommand::Create { spec, .. })] if spec.name == "tiny" && spec.replicas == 2)
    );
    // Before the backend lists it, the row is there with what was asked.
    let row = cells(&app, "deploy:tiny").expect("a row for the new deployment");
    assert_eq!(row[..6], ["tiny", "vllm", "org/tiny-model", "process", "0/2", "creating"]);

    app.update(progress(
        "tiny",
        None,
        BackendEventKind::Pull { current: Some(45), total: Some(100) },
        "Downloading",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "pulling 45%");
    snapshot("rollout_pulling", &app);
    app.update(progress(
        "tiny",
        Some(1),
        BackendEventKind::State { state: ReplicaState::Creating },
        "creating tiny-1",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "creating 2/2");
    app.update(progress(
        "tiny",
        Some(1),
        BackendEventKind::State { state: ReplicaState::Starting },
        "tiny-1 started",
    ));
    assert_eq!(state_of(&app, "deploy:tiny"), "starting 0/2");

    // The backend returned; replicas come up one by one in its listing.
    app.update(done("deploy", "tiny", Ok(())));
    let mut tiny = deployment("tiny", &[ReplicaState::Ready, ReplicaState::Starting]);
    app.update(listed(vec![tiny.clone()]));
    assert_eq!(state_of(&app, "deploy:tiny"), "starting 1/2");
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 160, 48).contains("state starting 1/2"));
    app.update(key(KeyCode::Esc));
    tiny.replicas[1].state = ReplicaState::Ready;
    app.update(listed(vec![tiny]));
    assert_eq!(state_of(&app, "deploy:tiny"), "ready", "the rollout is over");
    assert!(app.deploy.rollouts.is_empty());
}

#[test]
fn a_failed_create_keeps_its_cause_on_the_row_until_esc() {
    let mut app = app();
    review_create(&mut app, "clash", "1");
    app.update(key(KeyCode::Enter));
    app.update(progress(
        "clash",
        Some(0),
        BackendEventKind::State { state: ReplicaState::Creating },
        "creating clash-0",
    ));
    app.update(done("deploy", "clash", Err("port 8000 on 127.0.0.1 is already in use")));
    // Issue 18: the form comes back as it was sent, with the whole cause, to fix and resend.
    assert!(matches!(app.mode, Mode::Form(..)), "the create form reopens");
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("clash") && shown.contains("org/tiny-model"), "{shown}");
    assert!(shown.contains("port 8000 on 127.0.0.1 is already in use"), "{shown}");
    for (width, height) in [(80, 24), (120, 40), (200, 60)] {
        insta::assert_snapshot!(
            format!("create_refused_form_{width}x{height}"),
            screen(&app, width, height)
        );
    }
    app.update(key(KeyCode::Esc));
    // The backend rolled back: it lists nothing, yet the row stays with the cause.
    app.update(listed(Vec::new()));
    assert_eq!(state_of(&app, "deploy:clash"), "failed: port 8000 on 127.0.0.1 is already in use");
    assert_eq!(cells(&app, "deploy:clash").unwrap()[4], "0/1");
    snapshot("rollout_failed", &app);
    // Esc: read, gone.
    app.update(key(KeyCode::Esc));
    assert!(cells(&app, "deploy:clash").is_none());

    // Refused while another screen is open (here the help): that screen stays, and `c` brings
    // the form back with its values and the cause.
    review_create(&mut app, "clash2", "1");
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char('?')));
    app.update(done("deploy", "clash2", Err("port 8000 on 127.0.0.1 is already in use")));
    assert!(matches!(app.mode, Mode::Help { .. }));
    let text = &app.message.as_ref().unwrap().text;
    assert!(text.ends_with("c reopens the create form with its values"), "{text}");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('c')));
    assert!(matches!(app.mode, Mode::Form(..)));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("clash2") && shown.contains("already in use"), "{shown}");
    // Once: the next `c` is a fresh form.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('c')));
    let Mode::Form(form, _) = &app.mode else { panic!("the create form") };
    assert_eq!(form.value("name").as_deref(), Some(""));
}

#[test]
fn scale_restart_and_delete_show_on_the_row_and_a_replica_dying_fails_the_rollout() {
    let mut app = app();
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready])]));
    app.update(key(KeyCode::Char('+')));
    assert_eq!(state_of(&app, "deploy:llama"), "scaling to 2");
    app.update(done("scale", "llama", Ok(())));
    let mut two = deployment("llama", &[ReplicaState::Ready, ReplicaState::Starting]);
    app.update(listed(vec![two.clone()]));
    assert_eq!(state_of(&app, "deploy:llama"), "starting 1/2");
    two.replicas[1].state = ReplicaState::Exited;
    two.replicas[1].detail = Some("exit code 2".into());
    app.update(listed(vec![two.clone()]));
    assert_eq!(state_of(&app, "deploy:llama"), "failed: replica 1 exited (exit code 2)");

    // The next action replaces the failure.
    app.update(key(KeyCode::Char('r')));
    assert_eq!(state_of(&app, "deploy:llama"), "restarting");
    app.update(progress(
        "llama",
        Some(0),
        BackendEventKind::State { state: ReplicaState::Stopping },
        "stopping llama-0",
    ));
    assert_eq!(state_of(&app, "deploy:llama"), "stopping");
    app.update(done("restart", "llama", Ok(())));
    app.update(listed(vec![deployment("llama", &[ReplicaState::Ready, ReplicaState::Ready])]));
    assert_eq!(state_of(&app, "deploy:llama"), "ready");

    app.update(key(KeyCode::Char('d')));
    type_text(&mut app, "llama");
    app.update(key(KeyCode::Enter));
    assert_eq!(state_of(&app, "deploy:llama"), "deleting");
    app.update(done("rm", "llama", Ok(())));
    app.update(listed(Vec::new()));
    assert!(cells(&app, "deploy:llama").is_none());
}

#[test]
fn ages_come_from_the_backends_start_time_and_restart_with_the_replica() {
    let mut app = app();
    let started = |d: &mut Deployment, index: usize, s_ago: i64| {
        d.replicas[index].started_at_unix_ms = Some(NOW - s_ago * 1000)
    };
    let mut llama = deployment("llama", &[ReplicaState::Ready; 2]);
    started(&mut llama, 0, 600);
    started(&mut llama, 1, 240);
    app.update(listed(vec![llama.clone()]));
    // The console has only just seen them ready (it was started 10 s ago): the age is the
    // backend's, the younger replica's 4 minutes, not the console's 10 s.
    poll(
        &mut app,
        polled("deploy:llama", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    poll(
        &mut app,
        polled("deploy:llama/1", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    assert_eq!(state_of(&app, "deploy:llama"), "ready 4m");

    // A restart the monitor never saw go down (it still says ready for 10 s): the new start
    // time makes the age start again.
    started(&mut llama, 0, 3);
    started(&mut llama, 1, 2);
    app.update(listed(vec![llama]));
    poll(
        &mut app,
        polled("deploy:llama", EndpointState::Ready, 10, Some(sample(1.0, 0.0, 0.1, 50.0, 90.0))),
    );
    assert_eq!(state_of(&app, "deploy:llama"), "ready 2s");

    // And the detail's `ready for` is replica 0's own age from its start.
    app.update(key(KeyCode::Enter));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("ready for 3s"), "{shown}");
}

/// Issue 18: `b` on a deployment's row benchmarks the deployment, not its replica 0: the
/// requests go round its ready replicas (a starting one gets none), and the message names
/// them. With no replica ready, nothing starts and the line says why.
#[test]
fn a_deployments_benchmark_spreads_over_its_ready_replicas() {
    use aimdeck::tui::features::endpoints::EndpointCommand;
    let mut busy = busy_deployment();
    busy.update(key(KeyCode::Char('b')));
    let commands = busy.update(key(KeyCode::Enter));
    match &commands[..] {
        [Command::Endpoints(EndpointCommand::Bench { urls, model, .. })] => {
            assert_eq!(urls, &["http://127.0.0.1:8100", "http://127.0.0.1:8101"]);
            assert_eq!(model.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
        }
        other => panic!("expected a bench command, got {other:?}"),
    }
    let text = &busy.message.as_ref().unwrap().text;
    assert!(text.contains("20 requests over 2 ready replicas"), "{text}");

    let mut starting = app();
    starting.update(listed(vec![deployment("llama", &[ReplicaState::Starting; 2])]));
    aimdeck::tui::joins::flush(&mut starting);
    starting.update(key(KeyCode::Char('b')));
    assert!(starting.endpoints.bench_job.is_none());
    assert!(!starting.endpoints.pane_open(), "no form opens");
    let text = &starting.message.as_ref().unwrap().text;
    assert!(text.contains("llama has no ready replica (0 of 2 ready)"), "{text}");
}
