//! The Endpoints view driven through `App::update` with monitor updates as the poller sends
//! them: watching from the config and `:add`/`:rm`, the table's numbers, the detail, the prompt
//! playground and the smoke benchmark, with snapshots at 80x24 and 160x48.

mod support;

use aimdeck::config::WatchedEndpoint;
use aimdeck::engine::bench::{BenchProgress, BenchReport, LatencyStats};
use aimdeck::engine::openai::{StreamEvent, StreamSummary};
use aimdeck::model::{EndpointSample, EndpointState, EndpointUpdate, EngineKind, Percentiles};
use aimdeck::tui::app::{App, HeaderInfo, Level, Settings};
use aimdeck::tui::endpoint_flow::{EndpointCommand, EndpointEvent};
use aimdeck::tui::event::{Command, Event, RunId};
use aimdeck::tui::views::ViewId;
use aimdeck::tui::views::endpoints::{EndpointSettings, Pane};
use aimdeck::tui::views::playground::Status;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::tui::screen;

/// 2026-11-23 12:00:00 UTC.
const NOW: i64 = 1_795_435_200_000;

fn settings(watched: &[(&str, &str)]) -> Settings {
    Settings {
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        endpoints: EndpointSettings {
            watched: watched
                .iter()
                .map(|(name, url)| WatchedEndpoint { name: name.to_string(), url: url.to_string() })
                .collect(),
            config_file: "/home/op/.config/aimdeck/config.yaml".into(),
        },
        ..Settings::default()
    }
}

fn app_with(watched: &[(&str, &str)]) -> (App, Vec<Command>) {
    let mut app = App::new(settings(watched));
    app.endpoints.fixed_now_unix_ms = Some(NOW);
    app.on_tick("12:34");
    let commands = app.start();
    app.update(key(KeyCode::Char('4')));
    (app, commands)
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| app.update(key(KeyCode::Char(c)))).collect()
}

fn command_line(app: &mut App, line: &str) -> Vec<Command> {
    app.update(key(KeyCode::Char(':')));
    let mut commands = type_text(app, line);
    commands.extend(app.update(key(KeyCode::Enter)));
    commands
}

fn snapshot(name: &str, app: &App) {
    for (width, height) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            mask_clock_times(&screen(app, width, height))
        );
    }
}

/// Errors are stamped with the wall clock when they arrive: `HH:MM:SS` becomes `hh:mm:ss`.
fn mask_clock_times(screen: &str) -> String {
    let chars: Vec<char> = screen.chars().collect();
    let mut out = String::with_capacity(screen.len());
    let mut i = 0;
    while i < chars.len() {
        let window = &chars[i..(i + 8).min(chars.len())];
        let is_time = window.len() == 8
            && window
                .iter()
                .enumerate()
                .all(|(k, c)| if k == 2 || k == 5 { *c == ':' } else { c.is_ascii_digit() });
        if is_time {
            out.push_str("hh:mm:ss");
            i += 8;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn ms(p50: f64, p95: f64, p99: f64) -> Percentiles {
    Percentiles { p50: Some(p50 / 1000.0), p95: Some(p95 / 1000.0), p99: Some(p99 / 1000.0) }
}

/// A serving endpoint's sample `seconds_ago` before NOW under a load that ramps up.
fn sample(seconds_ago: i64, load: f64) -> EndpointSample {
    EndpointSample {
        at_unix_ms: NOW - seconds_ago * 1000,
        requests_running: Some((8.0 * load).round()),
        requests_waiting: Some((3.0 * load).round()),
        kv_cache_usage: Some(0.6 * load),
        prompt_tokens_per_s: Some(2000.0 * load),
        generation_tokens_per_s: Some(850.0 * load),
        requests_per_s: Some(4.0 * load),
        ttft: ms(120.0, 180.0 + 100.0 * load, 300.0 + 100.0 * load),
        itl: ms(14.0, 22.0, 30.0),
        e2e: ms(2100.0, 3800.0, 4500.0),
        prefix_cache_hit_rate: Some(0.42),
        preemptions_per_s: Some(0.0),
        ..Default::default()
    }
}

fn update(
    id: &str,
    state: EndpointState,
    since_s_ago: i64,
    engine: Option<EngineKind>,
    model: &str,
    sample: Option<EndpointSample>,
    error: Option<&str>,
) -> Event {
    Event::Endpoints(EndpointEvent::Update(EndpointUpdate {
        id: id.into(),
        state,
        state_since_unix_ms: NOW - since_s_ago * 1000,
        engine,
        models: if model.is_empty() { vec![] } else { vec![model.into()] },
        sample,
        error: error.map(str::to_string),
        poll_ms: 3.0,
    }))
}

/// Two minutes of a busy vLLM endpoint, a starting SGLang one and a vLLM one that went down.
fn fleet() -> App {
    let (mut app, _) = app_with(&[
        ("llama-70b", "http://10.0.0.5:8000"),
        ("qwen-7b", "http://10.0.0.6:30000"),
        ("mistral", "http://10.0.0.7:8000/v1"),
    ]);
    for ago in (0..=120).rev() {
        let load = (120 - ago) as f64 / 120.0;
        app.update(update(
            "llama-70b",
            EndpointState::Ready,
            754,
            Some(EngineKind::Vllm),
            "meta-llama/Llama-3.1-70B-Instruct",
            Some(sample(ago, load)),
            None,
        ));
    }
    app.update(update(
        "qwen-7b",
        EndpointState::Starting,
        42,
        None,
        "",
        None,
        Some("GET /health: connection refused"),
    ));
    app.update(update(
        "mistral",
        EndpointState::Ready,
        4000,
        Some(EngineKind::Vllm),
        "mistralai/Mistral-7B-Instruct-v0.3",
        Some(sample(30, 0.1)),
        None,
    ));
    app.update(update(
        "mistral",
        EndpointState::Down,
        20,
        Some(EngineKind::Vllm),
        "",
        None,
        Some("GET /health: connection refused"),
    ));
    // What the clock tick does with the polls since the last one (a real `Event::Tick` would
    // also move the clock these screens fix at 12:34).
    aimdeck::tui::endpoint_flow::flush(&mut app);
    app
}

fn cells(app: &App, id: &str) -> Vec<String> {
    let table = &app.view_state(ViewId::Endpoints).table;
    let row = table.rows().iter().find(|r| r.id == id).unwrap_or_else(|| panic!("row {id}"));
    row.cells.iter().map(|c| c.content.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
}

/// (id, base URL) of every endpoint `commands` start watching.
fn watched(commands: &[Command]) -> Vec<(String, String)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Endpoints(EndpointCommand::Watch(target)) => {
                Some((target.id.clone(), target.base_url.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn config_endpoints_are_watched_from_the_start_and_bad_urls_are_reported() {
    let (app, commands) =
        app_with(&[("lab", "http://127.0.0.1:8000/v1/"), ("broken", "127.0.0.1:9000")]);
    assert_eq!(watched(&commands), [("lab".to_string(), "http://127.0.0.1:8000".to_string())]);
    let warning = app.history.iter().find(|m| m.level == Level::Warning).expect("a warning");
    assert!(
        warning.text.contains("config.yaml: endpoint `broken` not watched"),
        "{}",
        warning.text
    );
    // Watched but not polled yet: a row, honestly starting, with no numbers.
    assert_eq!(cells(&app, "lab")[..6], ["lab", "?", "-", "watched", "0/1", "starting"]);
}

#[test]
fn add_and_rm_watch_and_unwatch_with_clear_errors() {
    let (mut app, _) = app_with(&[]);
    app.update(key(KeyCode::Char('1')));
    let commands = command_line(&mut app, "add http://127.0.0.1:8001/");
    assert_eq!(app.view, ViewId::Endpoints, ":add shows the Endpoints view");
    assert!(
        matches!(&commands[..], [Command::Endpoints(EndpointCommand::Watch(t))] if t.id == "http://127.0.0.1:8001" && t.base_url == "http://127.0.0.1:8001")
    );
    let commands = command_line(&mut app, "add lab http://127.0.0.1:8002");
    assert!(
        matches!(&commands[..], [Command::Endpoints(EndpointCommand::Watch(t))] if t.id == "lab")
    );
    assert_eq!(app.view_state(ViewId::Endpoints).table.total(), 2);

    assert!(command_line(&mut app, "add lab http://127.0.0.1:8003").is_empty());
    assert!(app.message.as_ref().unwrap().text.contains("`lab` is already watched"));
    assert!(command_line(&mut app, "add 127.0.0.1:8003").is_empty());
    assert!(app.message.as_ref().unwrap().text.contains(":add:"), "{:?}", app.message);
    assert!(command_line(&mut app, "add").is_empty());
    assert!(app.message.as_ref().unwrap().text.contains(":add takes a URL"));

    // Tab completes the watched names after :rm.
    app.update(key(KeyCode::Char(':')));
    type_text(&mut app, "rm l");
    app.update(key(KeyCode::Tab));
    let commands = app.update(key(KeyCode::Enter));
    assert!(
        matches!(commands.as_slice(), [Command::Endpoints(EndpointCommand::Unwatch(id))] if id == "lab"),
        "{commands:?}"
    );
    assert_eq!(app.view_state(ViewId::Endpoints).table.total(), 1);
    assert!(command_line(&mut app, "unwatch nope").is_empty());
    assert!(app.message.as_ref().unwrap().text.contains("no watched endpoint `nope`"));
    // A late update of an endpoint no longer watched does not bring it back.
    app.update(update("lab", EndpointState::Ready, 1, None, "m", Some(sample(0, 1.0)), None));
    assert_eq!(app.view_state(ViewId::Endpoints).table.total(), 1);
}

#[test]
fn table_shows_the_latest_numbers_and_sorts_and_filters() {
    let mut app = fleet();
    assert_eq!(
        cells(&app, "llama-70b"),
        [
            "llama-70b",
            "vllm",
            "meta-llama/Llama-3.1-70B-Instruct",
            "watched",
            "1/1",
            "ready 12m",
            "8",
            "3",
            "60",
            "850",
            "280ms"
        ]
    );
    assert_eq!(
        cells(&app, "qwen-7b")[..6],
        ["qwen-7b", "?", "-", "watched", "0/1", "starting 42s"]
    );
    // Down keeps what it knew (engine, model) but shows no fresh queue.
    assert_eq!(
        cells(&app, "mistral")[..6],
        ["mistral", "vllm", "mistralai/Mistral-7B-Instruct-v0.3", "watched", "0/1", "down 20s"]
    );
    // By TOK/S, most first; an endpoint with no figure stays last either way.
    let table = &mut app.view_state_mut(ViewId::Endpoints).table;
    table.sort_by(9, false);
    let order: Vec<String> = (0..3)
        .map(|i| {
            table.select_first();
            table.move_by(i);
            table.selected().unwrap().id.clone()
        })
        .collect();
    assert_eq!(order, ["llama-70b", "mistral", "qwen-7b"]);
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "sglang");
    assert_eq!(app.view_state(ViewId::Endpoints).table.visible_len(), 0);
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "down");
    assert_eq!(app.view_state(ViewId::Endpoints).table.visible_len(), 1);
}

#[test]
fn snapshot_endpoints_table_and_empty_state() {
    let (empty, _) = app_with(&[]);
    snapshot("endpoints_empty", &empty);
    snapshot("endpoints_table", &fleet());
}

#[test]
fn detail_opens_with_enter_follows_j_k_and_esc_goes_back() {
    let mut app = fleet();
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.endpoints.pane, Pane::Detail));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("Endpoint llama-70b"), "{shown}");
    assert!(shown.contains("TTFT p50/95/99 120ms/280ms/400ms"), "{shown}");
    assert!(
        shown.contains("tokens/s") && shown.contains("KV cache") && shown.contains("ITL"),
        "{shown}"
    );
    snapshot("endpoint_detail", &app);
    app.update(key(KeyCode::Char('j')));
    assert!(screen(&app, 160, 48).contains("Endpoint mistral"), "j shows the next endpoint");
    app.update(key(KeyCode::Char('j')));
    let starting = screen(&app, 160, 48);
    assert!(starting.contains("Endpoint qwen-7b"), "{starting}");
    assert!(starting.contains("waiting for /health to answer, 42s"), "{starting}");
    assert!(starting.contains("GET /health: connection refused"), "{starting}");
    snapshot("endpoint_detail_starting", &app);
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.endpoints.pane, Pane::Table));
}

#[test]
fn detail_shows_the_gpus_a_deployment_says_the_endpoint_holds() {
    let mut app = fleet();
    app.update(key(KeyCode::Enter));
    assert!(screen(&app, 160, 48).contains("not known"));
    app.endpoints.set_gpu_indices("llama-70b", vec![0, 1]);
    assert!(screen(&app, 160, 48).contains("waiting for GPU telemetry"));
}

fn prompt_command(commands: &[Command]) -> (RunId, String, String) {
    match commands {
        [Command::Endpoints(EndpointCommand::Prompt { run, base_url, model, prompt })] => {
            assert_eq!(base_url, "http://10.0.0.5:8000");
            (*run, model.clone(), prompt.clone())
        }
        other => panic!("expected one prompt command, got {other:?}"),
    }
}

#[test]
fn playground_streams_tokens_with_ttft_and_speed_and_esc_cancels() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('p')));
    assert!(matches!(app.endpoints.pane, Pane::Playground(_)));
    type_text(&mut app, "Why is the sky blue?");
    app.update(key(KeyCode::Enter));
    type_text(&mut app, "Answer briefly.");
    let (run, model, prompt) = prompt_command(&app.update(ctrl('s')));
    assert_eq!(model, "meta-llama/Llama-3.1-70B-Instruct");
    assert_eq!(prompt, "Why is the sky blue?\nAnswer briefly.");
    // Keys typed while streaming do not edit the prompt.
    type_text(&mut app, "xyz");
    for (i, word) in
        ["Rayleigh", " scattering", " favours", " short", " wavelengths."].iter().enumerate()
    {
        let event =
            StreamEvent::Token { text: word.to_string(), elapsed_s: 0.25 + 0.02 * i as f64 };
        app.update(Event::Endpoints(EndpointEvent::Stream { run, event }));
    }
    let Pane::Playground(pane) = &app.endpoints.pane else { panic!("playground") };
    assert_eq!(pane.output, "Rayleigh scattering favours short wavelengths.");
    assert_eq!(pane.prompt_text(), "Why is the sky blue?\nAnswer briefly.");
    assert_eq!((pane.tokens, pane.ttft_s), (5, Some(0.25)));
    assert!((pane.tokens_per_s().unwrap() - 50.0).abs() < 1e-6);
    snapshot("endpoint_playground_streaming", &app);
    let summary = StreamSummary {
        text: "Rayleigh scattering favours short wavelengths.".into(),
        chunks: 5,
        completion_tokens: 5,
        ttft_s: Some(0.25),
        e2e_s: 0.4,
        tokens_per_s: Some(50.0),
        finish_reason: Some("stop".into()),
        ..Default::default()
    };
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Finished(summary),
    }));
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("done (stop)")
            && shown.contains("TTFT 250ms")
            && shown.contains("tok/s 50.0"),
        "{shown}"
    );

    // A second prompt, cancelled with esc: its token is cancelled and the pane says so.
    let (run2, _, _) = prompt_command(&app.update(ctrl('s')));
    assert!(run2 > run);
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run: run2,
        event: StreamEvent::Token { text: "Light".into(), elapsed_s: 0.2 },
    }));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(run2)]);
    let Pane::Playground(pane) = &app.endpoints.pane else {
        panic!("esc while streaming keeps the pane")
    };
    assert_eq!(pane.status, Status::Cancelled);
    // Events of the older stream are ignored.
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Failed("late".into()),
    }));
    let Pane::Playground(pane) = &app.endpoints.pane else { panic!("playground") };
    assert_eq!(pane.status, Status::Cancelled);
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.endpoints.pane, Pane::Table));
}

#[test]
fn playground_needs_a_known_model_and_reports_failures() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('G')));
    app.update(key(KeyCode::Char('p')));
    assert!(matches!(app.endpoints.pane, Pane::Table));
    assert!(app.message.as_ref().unwrap().text.contains("qwen-7b has not told its model yet"));
    app.update(key(KeyCode::Char('g')));
    app.update(key(KeyCode::Char('p')));
    assert!(app.update(ctrl('s')).is_empty(), "an empty prompt is not sent");
    type_text(&mut app, "hi");
    let (run, ..) = prompt_command(&app.update(ctrl('s')));
    let failure = "POST http://10.0.0.5:8000/v1/chat/completions: answered 404: The model `x` does not exist.";
    app.update(Event::Endpoints(EndpointEvent::Stream {
        run,
        event: StreamEvent::Failed(failure.into()),
    }));
    assert!(
        screen(&app, 160, 48)
            .contains("failed: POST http://10.0.0.5:8000/v1/chat/completions: answered 404")
    );
}

fn report() -> BenchReport {
    let stats = |base: f64| LatencyStats {
        mean: Some(base * 1.1),
        p50: Some(base),
        p90: Some(base * 1.5),
        p95: Some(base * 1.8),
        p99: Some(base * 2.5),
        max: Some(base * 3.0),
    };
    BenchReport {
        url: "http://10.0.0.5:8000".into(),
        model: "meta-llama/Llama-3.1-70B-Instruct".into(),
        requests: 20,
        concurrency: 4,
        input_tokens: 128,
        output_tokens: 64,
        succeeded: 20,
        failed: 0,
        duration_s: 6.4,
        requests_per_s: 3.125,
        output_tokens_per_s: 200.0,
        total_tokens_per_s: 600.0,
        prompt_tokens_sent: 2560,
        completion_tokens_received: 1280,
        ttft_s: stats(0.120),
        itl_s: stats(0.015),
        e2e_s: stats(1.1),
        errors: vec![],
        ..BenchReport::default()
    }
}

#[test]
fn bench_form_progress_and_report() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('b')));
    snapshot("endpoint_bench_form", &app);
    // Replace the request count: 0 is refused, 40 accepted.
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "0");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(screen(&app, 80, 24).contains("must be at least 1"));
    app.update(key(KeyCode::Backspace));
    type_text(&mut app, "40");
    let commands = app.update(key(KeyCode::Enter));
    let run = match &commands[..] {
        [Command::Endpoints(EndpointCommand::Bench { run, base_url, model, ask })] => {
            assert_eq!(base_url, "http://10.0.0.5:8000");
            assert_eq!(model.as_deref(), Some("meta-llama/Llama-3.1-70B-Instruct"));
            assert_eq!(
                (ask.requests, ask.concurrency, ask.input_tokens, ask.output_tokens),
                (40, 4, 128, 64)
            );
            *run
        }
        other => panic!("expected a bench command, got {other:?}"),
    };
    app.update(Event::Endpoints(EndpointEvent::BenchProgress {
        run,
        progress: BenchProgress { done: 14, failed: 1, total: 40 },
    }));
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("14/40 done, 1 failed"), "{shown}");
    snapshot("endpoint_bench_running", &app);
    app.update(Event::Endpoints(EndpointEvent::BenchDone { run, result: Ok(report()) }));
    let shown = screen(&app, 160, 48);
    assert!(shown.contains("3.12 req/s") && shown.contains("200.0 output tok/s"), "{shown}");
    assert!(
        shown.contains("TTFT") && shown.contains("120ms") && shown.contains("300ms"),
        "p50 and p99 of TTFT:\n{shown}"
    );
    snapshot("endpoint_bench_report", &app);
    // Esc on the finished report closes the pane and cancels nothing.
    assert_eq!(app.update(key(KeyCode::Esc)), vec![]);
    assert!(matches!(app.endpoints.pane, Pane::Table));
}

#[test]
fn bench_esc_stops_the_run_and_read_only_refuses_it() {
    let mut app = fleet();
    app.update(key(KeyCode::Char('b')));
    let commands = app.update(key(KeyCode::Enter));
    let Some(Command::Endpoints(EndpointCommand::Bench { run, .. })) = commands.first() else {
        panic!("bench command")
    };
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(*run)]);
    assert!(screen(&app, 80, 24).contains("stopping"));

    let mut settings = settings(&[("llama", "http://10.0.0.5:8000")]);
    settings.readonly = true;
    let mut app = App::new(settings);
    app.start();
    app.update(key(KeyCode::Char('4')));
    app.update(key(KeyCode::Char('b')));
    assert!(matches!(app.endpoints.pane, Pane::Table));
    assert!(app.message.as_ref().unwrap().text.contains("read-only"));
}

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
    use aimdeck::tui::deploy_flow::DeployEvent;
    let mut app = fleet();
    let replica = |index: u32, state| Replica {
        index,
        name: format!("aimdeck-llama-{index}"),
        port: 8100 + index as u16,
        gpus: vec![index],
        state,
        detail: None,
        pid: None,
        container_id: None,
        log_path: None,
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
