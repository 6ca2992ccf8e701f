//! Frame render time and history memory (issue 9), plain `Instant` loops.
//!
//! - One full frame at 160x48 on ratatui's `TestBackend`, with the largest state each current
//!   view takes: the GPUs view with 64 GPUs (8 nodes' worth: NVLink within each 8, SYS between; parsed by
//!   the production nvidia-smi readers from generated tool output, 2 passes of history), the
//!   recipes view with every built-in recipe, and a table of 2,000 rows (the Endpoints view's
//!   table, which is the widget every list view uses).
//! - The whole-console frame issue 9 names: 500 deployments of 4 replicas in the Endpoints view
//!   (its table, and the detail pane of one deployment), 64 GPUs on 8 NVLink nodes, and one
//!   hour of 1 Hz history for every one of the 2,000 replicas; plus what one replica's poll
//!   costs the UI thread in that state (its history), and the table rebuild (rows, re-sort)
//!   the next clock tick makes of the polls since the last one.
//! - Bytes held by one hour of 1 Hz endpoint history for 100 endpoints
//!   (`monitor::EndpointHistories`), counted by a counting global allocator, and the growth
//!   of the process's resident set while it is built.
//!
//! Run: `cargo bench --bench frame`. Results: `docs/performance.md`, section "Frame".

#[path = "../tests/support/gpu_fleet.rs"]
mod gpu_fleet;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aimdeck::hardware::{merge::merge, nvidia};
use aimdeck::model::{
    Deployment, DeploymentSpec, EndpointSample, EndpointState, EndpointUpdate, EngineKind,
    Percentiles, Replica, ReplicaState,
};
use aimdeck::monitor::EndpointHistories;
use aimdeck::monitor::gpu_history::GpuHistory;
use aimdeck::monitor::gpu_poller::GpuUpdate;
use aimdeck::monitor::timeline::RECENT_POINTS;
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::Event;
use aimdeck::tui::features::deploy::DeployEvent;
use aimdeck::tui::features::endpoints::EndpointEvent;
use aimdeck::tui::joins::deployment_rows::replica_id;
use aimdeck::tui::views::ViewId;
use aimdeck::tui::views::frame::render;
use aimdeck::tui::widgets::{TableCell, TableRow};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Counts live heap bytes so the history figure is what the process really holds.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const GPUS: usize = 64;
const DEPLOYMENTS: usize = 500;
const REPLICAS: u32 = 4;
/// One hour at the default 1 s poll interval.
const HOUR_OF_POLLS: i64 = 3600;

fn base_app() -> App {
    let settings = Settings {
        header: HeaderInfo { backend: "local".into(), host: "benchhost".into() },
        user_themes_dir: "/nonexistent/themes".into(),
        ..Settings::default()
    };
    let mut app = App::new(settings);
    app.on_tick("12:34");
    app
}

fn gpus_app() -> App {
    let mut app = base_app();
    let mut history = GpuHistory::new(120);
    for pass in 1..=2u64 {
        let (csv, topo) = gpu_fleet::nvidia_outputs(GPUS, pass as usize);
        let report = nvidia::assemble(&csv, Some(&topo));
        let snapshot = merge(vec![report], None, Vec::new());
        assert_eq!(
            snapshot.gpus.len(),
            GPUS,
            "the generated tool output must parse to {GPUS} GPUs"
        );
        history.record(&snapshot, pass * 2000);
        let update = GpuUpdate { pass, snapshot, history: history.clone(), took: Duration::ZERO };
        app.update(Event::Gpus(Arc::new(update)));
    }
    app
}

fn key(code: crossterm::event::KeyCode) -> Event {
    Event::Key(crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE))
}

fn replica_update(id: &str, second: i64, load: usize) -> EndpointUpdate {
    EndpointUpdate {
        id: id.to_string(),
        state: EndpointState::Ready,
        state_since_unix_ms: 1000,
        engine: Some(if load.is_multiple_of(2) { EngineKind::Vllm } else { EngineKind::Sglang }),
        models: vec![format!("org/model-{}", load % 50)],
        sample: Some(sample(second * 1000, load + second as usize)),
        error: None,
        poll_ms: 1.0,
    }
}

/// 500 deployments of 4 replicas (the first 16 deployments hold the 64 GPUs, one per
/// replica), every replica with an hour of history, on top of the 64-GPU state.
fn fleet_app() -> App {
    let mut app = gpus_app();
    let deployments: Vec<Deployment> = (0..DEPLOYMENTS)
        .map(|d| {
            let name = format!("deploy-{d:03}");
            let engine = if d % 2 == 0 { EngineKind::Vllm } else { EngineKind::Sglang };
            let spec = DeploymentSpec::minimal(
                &name,
                &format!("org/model-{}", d % 50),
                engine,
                REPLICAS,
                20_000,
            );
            let replicas = (0..REPLICAS)
                .map(|r| {
                    let slot = d * REPLICAS as usize + r as usize;
                    Replica {
                        index: r,
                        name: format!("aimdeck-{name}-{r}"),
                        port: 20_000 + slot as u16,
                        gpus: if slot < GPUS { vec![slot as u32] } else { Vec::new() },
                        state: if slot.is_multiple_of(97) {
                            ReplicaState::Starting
                        } else {
                            ReplicaState::Ready
                        },
                        detail: None,
                        handle: Some(aimdeck::model::ReplicaHandle::Container {
                            id: format!("{slot:012x}"),
                        }),
                        started_at_unix_ms: None,
                    }
                })
                .collect();
            Deployment { name, backend: "docker".into(), spec, replicas, autoscaler: None }
        })
        .collect();
    // The history straight into the monitor's store, then the Listed event builds the rows
    // from it in one pass (7.2 million poll events through `App::update` would only add time).
    for d in 0..DEPLOYMENTS {
        for r in 0..REPLICAS {
            let id = replica_id(&format!("deploy-{d:03}"), r);
            for second in 0..HOUR_OF_POLLS {
                app.endpoints.histories.apply(replica_update(&id, second, d));
            }
        }
    }
    app.endpoints.now_unix_ms = (HOUR_OF_POLLS - 1) * 1000;
    app.update(Event::Deploy(DeployEvent::Listed {
        backend: "docker".into(),
        result: Ok(deployments),
    }));
    app.view = ViewId::Endpoints;
    assert_eq!(
        app.view_state(ViewId::Endpoints).table.total(),
        DEPLOYMENTS,
        "one row per deployment"
    );
    app
}

/// (median, max) in microseconds of one replica's poll reaching the console in `app`, and of
/// the table rebuild the next clock tick makes of the polls since the last one.
fn time_updates(app: &mut App, runs: usize) -> ((f64, f64), (f64, f64)) {
    let mut polls = Vec::with_capacity(runs);
    let mut rebuilds = Vec::with_capacity(runs);
    for run in 0..runs {
        let id = replica_id(&format!("deploy-{:03}", run % DEPLOYMENTS), 0);
        let update = replica_update(&id, HOUR_OF_POLLS + run as i64, run);
        let start = Instant::now();
        app.update(Event::Endpoints(EndpointEvent::Update(update)));
        polls.push(start.elapsed().as_secs_f64() * 1e6);
        let start = Instant::now();
        aimdeck::tui::joins::flush(app);
        rebuilds.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let p50_max = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], times[times.len() - 1])
    };
    (p50_max(polls), p50_max(rebuilds))
}

fn recipes_app() -> App {
    let mut app = base_app();
    let library = aimdeck::recipes::load::load_builtin();
    app.update(Event::Recipes(Arc::new(library)));
    app.view = ViewId::Recipes;
    app
}

fn table_app(rows: usize) -> App {
    let mut app = base_app();
    let rows = (0..rows)
        .map(|i| {
            let running = (i % 37) as f64;
            TableRow {
                id: format!("deploy-{i:04}"),
                cells: vec![
                    TableCell::text(format!("deploy-{i:04}")),
                    TableCell::text(if i % 2 == 0 { "vllm" } else { "sglang" }),
                    TableCell::text(format!("org/model-{}", i % 50)),
                    TableCell::text(["Ready", "Starting", "Unhealthy", "Down"][i % 4]),
                    TableCell::number(Some(running), format!("{running}")),
                ],
            }
        })
        .collect();
    app.view_state_mut(ViewId::Endpoints).table.set_rows(rows);
    app.view = ViewId::Endpoints;
    app
}

/// (median, p99, max) in microseconds of drawing one full frame; a fresh backend each time so
/// every cell is diffed against an empty buffer, as on the first frame after a view switch.
fn time_frames(app: &App, runs: usize) -> (f64, f64, f64) {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend");
    for _ in 0..20 {
        terminal.draw(|frame| render(app, frame)).expect("draw");
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        terminal.clear().expect("clear");
        let start = Instant::now();
        terminal.draw(|frame| render(app, frame)).expect("draw");
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), times[times.len() - 1])
}

fn sample(at_unix_ms: i64, i: usize) -> EndpointSample {
    let v = (i % 100) as f64;
    let p = Percentiles { p50: Some(0.05 + v / 1e3), p95: Some(0.2), p99: Some(0.4) };
    EndpointSample {
        at_unix_ms,
        requests_running: Some(v),
        requests_waiting: Some(v / 2.0),
        kv_cache_usage: Some(v / 100.0),
        prompt_tokens_per_s: Some(v * 100.0),
        generation_tokens_per_s: Some(v * 40.0),
        requests_per_s: Some(v / 10.0),
        requests_per_s_by_reason: [
            ("stop".to_string(), v / 20.0),
            ("length".to_string(), v / 20.0),
        ]
        .into_iter()
        .collect(),
        ttft: p,
        itl: p,
        e2e: p,
        prefix_cache_hit_rate: Some(0.5),
        preemptions_per_s: Some(0.0),
        prompt_tokens_total: Some(v * 1e6),
        generation_tokens_total: Some(v * 4e5),
        requests_total: Some(v * 1e3),
        preemptions_total: Some(0.0),
    }
}

/// The process's resident set in bytes (`VmRSS`), where /proc has it.
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Live heap bytes held by one hour (3,600 polls) of history for `endpoints` endpoints, and
/// how much the resident set grew while building it.
fn history_bytes(endpoints: usize) -> (usize, Option<usize>, Duration) {
    let before = LIVE.load(Ordering::Relaxed);
    let resident_before = resident_bytes();
    let start = Instant::now();
    let mut book = EndpointHistories::default();
    for second in 0..3600i64 {
        for e in 0..endpoints {
            book.apply(EndpointUpdate {
                id: format!("endpoint-{e:03}"),
                state: EndpointState::Ready,
                state_since_unix_ms: 0,
                engine: Some(if e % 2 == 0 { EngineKind::Vllm } else { EngineKind::Sglang }),
                models: vec![format!("org/model-{e}")],
                sample: Some(sample(second * 1000, e + second as usize)),
                // One poll in 100 failed: errors are kept too.
                error: (second % 100 == 0).then(|| {
                    format!("GET /metrics: no complete answer within 2s (second {second})")
                }),
                poll_ms: 1.0,
            });
        }
    }
    let took = start.elapsed();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let grown =
        resident_before.zip(resident_bytes()).map(|(before, after)| after.saturating_sub(before));
    let last =
        book.get(&format!("endpoint-{:03}", endpoints - 1)).expect("the last endpoint's history");
    assert_eq!(last.timeline.recent().count(), RECENT_POINTS);
    let oldest = last.timeline.points().next().expect("points").at_unix_ms;
    assert!(
        oldest < 60_000,
        "the timeline still reaches back an hour (oldest point at {oldest} ms)"
    );
    drop(book);
    (held, grown, took)
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(300);
    println!(
        "Frame render at {WIDTH}x{HEIGHT} on TestBackend, {runs} runs each (fresh diff every frame)\n"
    );
    println!("| view and state                               | p50 µs  | p99 µs  | max µs  |");
    println!("|----------------------------------------------|---------|---------|---------|");
    // Measured first, before the fleet's 2,000 histories are in the heap.
    let (bytes, grown, took) = history_bytes(100);
    let cases: Vec<(String, App)> = vec![
        (format!("GPUs: {GPUS} GPUs, NVLink islands, 2 passes"), gpus_app()),
        ("GPUs: 64 GPUs, topology pane (t)".to_string(), {
            let mut app = gpus_app();
            app.update(key(crossterm::event::KeyCode::Char('t')));
            app
        }),
        ("Recipes: all built-in recipes".to_string(), recipes_app()),
        ("Table of 2,000 rows (Endpoints view)".to_string(), table_app(2000)),
    ];
    for (name, app) in &cases {
        let (p50, p99, max) = time_frames(app, runs);
        println!("| {name:<44} | {p50:>7.0} | {p99:>7.0} | {max:>7.0} |");
    }
    drop(cases);
    let start = Instant::now();
    let heap_before = LIVE.load(Ordering::Relaxed);
    let mut fleet = fleet_app();
    let fleet_heap = LIVE.load(Ordering::Relaxed).saturating_sub(heap_before);
    let built = start.elapsed();
    let (p50, p99, max) = time_frames(&fleet, runs);
    println!(
        "| {:<44} | {p50:>7.0} | {p99:>7.0} | {max:>7.0} |",
        "Fleet: 500 x 4 replicas, 1 h history, table"
    );
    fleet.update(key(crossterm::event::KeyCode::Enter));
    let (p50, p99, max) = time_frames(&fleet, runs);
    println!(
        "| {:<44} | {p50:>7.0} | {p99:>7.0} | {max:>7.0} |",
        "Fleet: detail pane of one deployment (charts)"
    );
    fleet.update(key(crossterm::event::KeyCode::Esc));
    fleet.view = ViewId::Gpus;
    let (p50, p99, max) = time_frames(&fleet, runs);
    println!(
        "| {:<44} | {p50:>7.0} | {p99:>7.0} | {max:>7.0} |",
        "Fleet: GPUs view, 64 GPUs held by replicas"
    );
    fleet.view = ViewId::Endpoints;
    let ((update_p50, update_max), (rebuild_p50, rebuild_max)) = time_updates(&mut fleet, runs);
    println!(
        "\nFleet state built in {:.1} s; it holds {:.1} MB of heap (2,000 replicas' histories, 64 GPUs, rows).",
        built.as_secs_f64(),
        fleet_heap as f64 / 1e6
    );
    println!("One replica's poll reaching the console (its history; the table marked stale):");
    println!("p50 {update_p50:.1} µs, max {update_max:.0} µs over {runs} polls");
    println!("The table rebuilt from the polls at the next clock tick (500 rows, re-sort):");
    println!("p50 {rebuild_p50:.0} µs, max {rebuild_max:.0} µs over {runs} ticks\n");
    println!(
        "| history                                      | heap bytes held | per endpoint | resident growth | build time |"
    );
    println!(
        "|----------------------------------------------|-----------------|--------------|-----------------|------------|"
    );
    println!(
        "| 100 endpoints x 3,600 samples (1 h at 1 Hz)  | {:>12.1} MB | {:>9.1} KB | {:>12} | {:>7.0} ms |",
        bytes as f64 / 1e6,
        bytes as f64 / 100.0 / 1e3,
        grown.map(|g| format!("{:.1} MB", g as f64 / 1e6)).unwrap_or_else(|| "n/a".into()),
        took.as_secs_f64() * 1e3
    );
}
