//! The console: Elm-shaped. Terminal input, a clock tick, signals and task results all become
//! `Event`s on one bounded channel; `App::update` turns each into new state and `Command`s; the
//! effects runner (`effects::Effects`) runs commands in tasks whose results come back as events; `views::frame::render`
//! draws the state. The loop is generic over ratatui's `Backend`, so tests drive the whole
//! console on a `TestBackend`.

pub mod app;
pub mod ctx;
pub mod effects;
pub mod event;
pub mod fault;
pub mod features;
pub mod joins;
pub mod keymap;
pub mod local_zone;
pub mod messages;
pub mod mode;
pub mod placement_toggle;
pub mod shell;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;

mod sources;
mod startup;

use std::process::ExitCode;

use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

pub use app::App;
pub use event::{Command, Event};

/// Capacity of the event channel. Bounded so a flood (a pasted novel, a storm of task results)
/// slows its producers instead of growing memory.
pub const EVENT_CAPACITY: usize = 1024;

/// The console's bound on each Kubernetes call, `ls`'s: a wedged API server shows as
/// unreachable within 10 s of the listing that found it so.
pub const CONSOLE_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the console is started with: plain data the front end fills from its flags, so the
/// console depends on no command-line type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsoleOptions {
    pub config: Option<std::path::PathBuf>,
    pub theme: Option<String>,
    pub readonly: bool,
    pub log_level: Option<String>,
    pub backend: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub kubeconfig: Option<std::path::PathBuf>,
    pub docker_host: Option<String>,
    /// Extra recipe directories, after the user's and the config's.
    pub recipes_dirs: Vec<std::path::PathBuf>,
    /// Hugging Face cache root, over the config's `cache_dir`.
    pub cache_dir: Option<std::path::PathBuf>,
    pub demo: bool,
    /// `--demo-port`: where the demo's engines listen (a free base when `None`).
    pub demo_port: Option<u16>,
}

/// Runs the console until the user quits or a signal arrives. Returns the exit code.
pub fn run(options: ConsoleOptions) -> ExitCode {
    let _ = color_eyre::install();
    fault::init_from_env();
    let mut log = crate::logging::init(options.log_level.as_deref());
    let settings = startup::settings(&options);
    let demo = settings.demo;
    let runtime =
        // One worker: the UI loop runs on this thread (`block_on`), blocking work on the
        // blocking pool, so the worker only drives the pollers' and backends' I/O. Each worker
        // is a thread made before the first frame (0.5-1 ms apiece on a small VM).
        match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                eprintln!("aimdeck: cannot start the async runtime: {err}");
                return ExitCode::FAILURE;
            }
        };
    let result = runtime.block_on(async {
        let mut guard = terminal::TerminalGuard::enter()?;
        let (tx, mut rx) = mpsc::channel(EVENT_CAPACITY);
        // One runner for every command; one token (its root) for every task it starts, the
        // endpoint pollers and the GPU poller included, cancelled once the loop ends.
        let effects = effects::Effects::new(
            tx.clone(),
            settings.backends.clone(),
            settings.user_themes_dir.clone(),
            settings.recipe_dirs.clone(),
        )
        .with_endpoint_monitor(Default::default());
        // The demo's traffic (written by the runner) and its GPU recording (read by the GPU
        // poller) share one load.
        let effects =
            if settings.demo { effects.with_demo_load(Default::default()) } else { effects };
        // The host's GPUs for placement, found on the blocking pool rather than before the
        // first frame (spawning `nvidia-smi` takes milliseconds, more when it is present).
        let effects = if demo { effects } else { effects.with_host_gpus() };
        sources::spawn_terminal_input(tx.clone());
        sources::spawn_tick(tx.clone());
        sources::spawn_signals(tx.clone());
        let demo_load = effects.demo_load();
        sources::spawn_gpu_poller(tx, settings.gpu_poll_interval, demo_load, effects.stopped());
        let mut app = App::new(settings);
        if let Some(log) = &log {
            tracing::info!("log file: {}", log.path.display());
        }
        // The log file's writer thread starts once the first frame is out.
        let start_log_writer = || {
            if let Some(log) = log.as_mut() {
                log.start_writer();
            }
        };
        let result =
            run_loop(guard.terminal(), &mut app, &mut rx, &effects, start_log_writer).await;
        effects.shutdown();
        result
    });
    // The terminal is restored by now: the demo's engines are stopped in plain sight.
    if demo {
        stop_demo_engines(&runtime);
    }
    // Tasks (pollers, streams) are dropped with the runtime; none of them owns the terminal.
    runtime.shutdown_background();
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tell(format_args!("aimdeck: terminal error: {err}"));
            ExitCode::FAILURE
        }
    }
}

/// `--demo` is a tour, not a deployment: its sim engines go when the console does, so quitting
/// leaves no processes and no ports taken. (A real process deployment stays; a restarted
/// console adopts it.)
fn stop_demo_engines(runtime: &tokio::runtime::Runtime) {
    tell(format_args!("aimdeck: stopping the demo's engines…"));
    let backend = crate::backend::demo::demo_backend(&crate::paths::state_dir().join("demo"))
        .with_grace(std::time::Duration::from_secs(3));
    // The timer must be made inside the runtime.
    let stopped = runtime.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            crate::backend::demo::stop_demo(&backend),
        )
        .await
    });
    match stopped {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tell(format_args!("aimdeck: stopping the demo: {err}")),
        Err(_) => tell(format_args!(
            "aimdeck: the demo's engines did not stop within 20 s; `aimdeck --demo` adopts them next time"
        )),
    }
}

/// A line on stderr that a terminal gone away (a dropped SSH link, a killed tmux) cannot turn
/// into a panic: `eprintln!` panics when the write fails, and a console that panics there
/// leaves the demo's engines running.
fn tell(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The event loop: draw, then for each event update and run commands, redrawing only when the
/// state changed. Bursts of events are folded into one redraw.
pub async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &mut mpsc::Receiver<Event>,
    runner: &effects::Effects,
    after_first_frame: impl FnOnce(),
) -> Result<(), B::Error> {
    for command in app.start() {
        runner.run(command);
    }
    terminal.draw(|frame| views::frame::render(app, frame))?;
    fault::after_first_frame();
    after_first_frame();
    app.take_dirty();
    while let Some(event) = events.recv().await {
        let mut pending = Some(event);
        while let Some(event) = pending.take() {
            for command in app.update(event) {
                runner.run(command);
            }
            if app.should_quit {
                return Ok(());
            }
            pending = events.try_recv().ok();
        }
        if app.take_dirty() {
            terminal.draw(|frame| views::frame::render(app, frame))?;
        }
    }
    Ok(())
}
