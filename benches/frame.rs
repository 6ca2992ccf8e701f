//! Frame render time and history memory (issue 9), plain `Instant` loops.
//!
//! - One full frame at 160x48 on ratatui's `TestBackend`, with the largest state each current
//!   view takes: the GPUs view with 64 GPUs (8 nodes' worth, NVLink between all pairs, parsed by
//!   the production nvidia-smi readers from generated tool output, 2 passes of history), the
//!   recipes view with every built-in recipe, and a table of 2,000 rows (the Endpoints view's
//!   table, which is the widget every list view uses).
//! - Bytes held by one hour of 1 Hz endpoint history for 100 endpoints
//!   (`monitor::EndpointHistories`), counted by a counting global allocator.
//!
//! Run: `cargo bench --bench frame`. Results: `docs/performance.md`, section "Frame".

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimdeck::hardware::{merge::merge, nvidia};
use aimdeck::model::{EndpointSample, EndpointState, EndpointUpdate, EngineKind, Percentiles};
use aimdeck::monitor::gpu_history::GpuHistory;
use aimdeck::monitor::gpu_poller::GpuUpdate;
use aimdeck::monitor::EndpointHistories;
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::event::Event;
use aimdeck::tui::views::frame::render;
use aimdeck::tui::views::ViewId;
use aimdeck::tui::widgets::{TableCell, TableRow};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

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

/// nvidia-smi CSV and `topo -m` for `GPUS` H100s, in the recorded fixtures' exact shape.
fn nvidia_outputs(pass: usize) -> (String, String) {
    let mut csv = String::new();
    for i in 0..GPUS {
        let used = 1000 + (i * 977 + pass * 131) % 80000;
        let util = (i * 13 + pass * 7) % 100;
        csv.push_str(&format!(
            "{i}, GPU-{i:08x}-3f7d-5c8e-9a1b-0c2d3e4f5a60, NVIDIA H100 80GB HBM3, 81559, {used}, {util}, {}, {}.5, 00000000:{:02X}:00.0, 700.00\n",
            30 + i % 40,
            100 + i * 3,
            16 + i
        ));
    }
    let mut topo = String::new();
    for i in 0..GPUS {
        topo.push_str(&format!("\tGPU{i}"));
    }
    topo.push_str("\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n");
    for row in 0..GPUS {
        topo.push_str(&format!("GPU{row}"));
        for col in 0..GPUS {
            let cell = if row == col { " X " } else if row / 8 == col / 8 { "NV18" } else { "SYS" };
            topo.push_str(&format!("\t{cell}"));
        }
        let numa = row / 32;
        topo.push_str(&format!("\t{}\t{numa}\t\tN/A\n", if numa == 0 { "0-47,96-143" } else { "48-95,144-191" }));
    }
    (csv, topo)
}

fn gpus_app() -> App {
    let mut app = base_app();
    let mut history = GpuHistory::new(120);
    for pass in 1..=2u64 {
        let (csv, topo) = nvidia_outputs(pass as usize);
        let report = nvidia::assemble(&csv, Some(&topo));
        let snapshot = merge(vec![report], None, Vec::new());
        assert_eq!(snapshot.gpus.len(), GPUS, "the generated tool output must parse to {GPUS} GPUs");
        history.record(&snapshot, pass * 2000);
        let update = GpuUpdate { pass, snapshot, history: history.clone(), took: Duration::ZERO };
        app.update(Event::Gpus(Arc::new(update)));
    }
    app
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
        requests_per_s_by_reason: [("stop".to_string(), v / 20.0), ("length".to_string(), v / 20.0)].into_iter().collect(),
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

/// Live heap bytes held by one hour (3,600 polls) of history for `endpoints` endpoints.
fn history_bytes(endpoints: usize) -> (usize, Duration) {
    let before = LIVE.load(Ordering::Relaxed);
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
                error: (second % 100 == 0).then(|| format!("GET /metrics: no complete answer within 2s (second {second})")),
                poll_ms: 1.0,
            });
        }
    }
    let took = start.elapsed();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    assert!(book.get("endpoint-099").is_some_and(|h| h.samples.len() == 3600) || endpoints < 100);
    drop(book);
    (held, took)
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(300);
    println!("Frame render at {WIDTH}x{HEIGHT} on TestBackend, {runs} runs each (fresh diff every frame)\n");
    println!("| view and state                               | p50 µs  | p99 µs  | max µs  |");
    println!("|----------------------------------------------|---------|---------|---------|");
    let cases: Vec<(String, App)> = vec![
        (format!("GPUs: {GPUS} GPUs, NVLink islands, 2 passes"), gpus_app()),
        ("GPUs: 64 GPUs, topology pane (t)".to_string(), {
            let mut app = gpus_app();
            app.update(Event::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('t'),
                crossterm::event::KeyModifiers::NONE,
            )));
            app
        }),
        ("Recipes: all built-in recipes".to_string(), recipes_app()),
        ("Table of 2,000 rows (Endpoints view)".to_string(), table_app(2000)),
    ];
    for (name, app) in &cases {
        let (p50, p99, max) = time_frames(app, runs);
        println!("| {name:<44} | {p50:>7.0} | {p99:>7.0} | {max:>7.0} |");
    }
    println!();
    let (bytes, took) = history_bytes(100);
    println!("| history                                      | heap bytes held | per endpoint | build time |");
    println!("|----------------------------------------------|-----------------|--------------|------------|");
    println!(
        "| 100 endpoints x 3,600 samples (1 h at 1 Hz)  | {:>12.1} MB | {:>9.1} KB | {:>7.0} ms |",
        bytes as f64 / 1e6,
        bytes as f64 / 100.0 / 1e3,
        took.as_secs_f64() * 1e3
    );
}
