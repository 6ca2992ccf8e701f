//! The Endpoints view driven through `App::update` with monitor updates as the poller sends
//! them: watching from the config and `:add`/`:rm`, the table's numbers, the detail, the prompt
//! playground and the smoke benchmark, with snapshots at 80x24 and 160x48.

#[path = "../support/mod.rs"]
mod support;

mod panes;
mod polls;

use aimdeck::config::WatchedEndpoint;
use aimdeck::engine::bench::{BenchProgress, BenchReport, LatencyStats};
use aimdeck::engine::openai::{StreamEvent, StreamSummary};
use aimdeck::model::{EndpointSample, EndpointState, EndpointUpdate, EngineKind, Percentiles};
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::{Command, Event, RunId};
use aimdeck::tui::features::endpoints::playground::Status;
use aimdeck::tui::features::endpoints::view::{EndpointSettings, Pane};
use aimdeck::tui::features::endpoints::{EndpointCommand, EndpointEvent};
use aimdeck::tui::messages::Level;
use aimdeck::tui::views::ViewId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::tui::{assert_screen, screen};

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
    for (width, height) in [(80, 24), (120, 40), (160, 48), (200, 60)] {
        assert_screen(
            format!("{name}_{width}x{height}"),
            mask_clock_times(&screen(app, width, height)),
        );
    }
}

/// The forms at the three sizes an operator uses (issue 18).
fn form_snapshot(name: &str, app: &App) {
    for (width, height) in [(80, 24), (120, 40), (200, 60)] {
        assert_screen(
            format!("{name}_{width}x{height}"),
            mask_clock_times(&screen(app, width, height)),
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
    aimdeck::tui::joins::flush(&mut app);
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

#[test]
fn the_table_keeps_names_whole_and_model_ids_tell_apart_at_every_width() {
    let app = fleet();
    let narrow = screen(&app, 80, 24);
    // The name whole; the model without its organisation, with the part that differs.
    assert!(narrow.contains("llama-70b "), "{narrow}");
    assert!(narrow.contains("…/Llama-3.1-70"), "{narrow}");
    assert!(narrow.contains("…/Mistral-7B-I"), "{narrow}");
    assert!(!narrow.contains("meta-lla "), "{narrow}");
    let wide = screen(&app, 200, 60);
    assert!(wide.contains("meta-llama/Llama-3.1-70B-Instruct"), "{wide}");
    assert!(wide.contains("mistralai/Mistral-7B-Instruct-v0.3"), "{wide}");
    // No column is padded out: NAME is as wide as its longest name (and its sort arrow).
    let header = wide.lines().find(|l| l.contains("NAME")).unwrap_or_default();
    assert!(header.contains("NAME      ENGINE"), "{header}");
}
