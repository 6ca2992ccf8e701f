//! The console's deployment flows end to end, without a terminal: `App` driven by key events
//! with the real task runner and the real process backend running `aimdeck-sim` engines on
//! 127.0.0.1, state and journal in a temp XDG state dir. Each step asserts what a user sees
//! (the rendered screen) and what exists (the backend's own list, the processes).

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aimdeck::backend::Backend;
use aimdeck::backend::process::ProcessBackend;
use aimdeck::model::Deployment;
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::effects::Effects;
use aimdeck::tui::event::Event;
use aimdeck::tui::mode::Mode;
use aimdeck::tui::views::ViewId;
use crossterm::event::KeyCode;
use support::tui::{key, screen, typed};
use support::{SIM, free_ports, http_get, pid_alive, unique_name};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(20);

/// One XDG state dir for this test binary: the journal is written under it. Set before any
/// console starts, and never changed (tests share the process environment).
fn xdg_state() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set once, before any test reads it, and to the same value for all of them.
        unsafe { std::env::set_var("XDG_STATE_HOME", dir.path()) };
        dir
    })
    .path()
}

struct Console {
    app: App,
    backend: Arc<ProcessBackend>,
    events: mpsc::Receiver<Event>,
    runner: Effects,
    _state: tempfile::TempDir,
    _cancel: tokio_util::sync::DropGuard,
}

impl Console {
    fn start(readonly: bool) -> Console {
        xdg_state();
        let state = tempfile::tempdir().unwrap();
        let backend = Arc::new(
            ProcessBackend::new(state.path(), Vec::new()).with_grace(Duration::from_secs(2)),
        );
        let settings = Settings {
            header: HeaderInfo { backend: "process".into(), host: "testhost".into() },
            user_themes_dir: "/nonexistent/themes".into(),
            // Journaled as the console opens its backends (ops::BackendConfig).
            backends: aimdeck::backend::registry::Registry::new(vec![
                aimdeck::ops::journaled::Journaled::wrap(
                    backend.clone(),
                    &aimdeck::paths::state_dir(),
                ),
            ]),
            active_backend: "process".into(),
            readonly,
            cache_root: state.path().join("hf"),
            ..Settings::default()
        };
        let (runner, events, stop_monitor) = support::tui::live_runner(settings.backends.clone());
        let mut app = App::new(settings);
        for command in app.start() {
            runner.run(command);
        }
        app.update(key(KeyCode::Char('4')));
        Console { app, backend, events, runner, _state: state, _cancel: stop_monitor }
    }

    fn press(&mut self, event: Event) {
        for command in self.app.update(event) {
            self.runner.run(command);
        }
    }

    fn keys(&mut self, text: &str) {
        typed(text).for_each(|event| self.press(event));
    }

    fn times(&mut self, code: KeyCode, n: usize) {
        for _ in 0..n {
            self.press(key(code));
        }
    }

    /// Feeds task results (and the clock tick, which relists the backends) to the app until
    /// `done` holds; panics with the screen after `LIMIT`.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        let mut next_tick = tokio::time::Instant::now() + Duration::from_millis(200);
        while !done(&self.app) {
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{what}: not within {LIMIT:?}; message {:?}\n{}",
                    self.app.message,
                    self.screen()
                );
            }
            match tokio::time::timeout_at(next_tick, self.events.recv()).await {
                Ok(Some(event)) => self.press(event),
                Ok(None) => panic!("event channel closed"),
                Err(_) => {
                    self.press(support::tui::tick());
                    next_tick = tokio::time::Instant::now() + Duration::from_millis(200);
                }
            }
        }
    }

    /// Waits until the screen shows `text`.
    async fn until_shown(&mut self, text: &str) {
        let text = text.to_string();
        self.until(&format!("{text:?} on screen"), move |app| screen_of(app).contains(&text)).await;
    }

    fn screen(&self) -> String {
        screen_of(&self.app)
    }

    /// The deployment's row: REPL and STATE cells.
    fn row(app: &App, name: &str) -> Option<(String, String)> {
        let id = format!("deploy:{name}");
        let row = app.view_state(ViewId::Endpoints).table.rows().iter().find(|r| r.id == id)?;
        let text = |i: usize| {
            row.cells[i].content.spans.iter().map(|s| s.content.as_ref()).collect::<String>()
        };
        Some((text(4), text(5)))
    }

    async fn until_row(&mut self, name: &str, repl: &str, state_prefix: &str) {
        let (name, repl, state) = (name.to_string(), repl.to_string(), state_prefix.to_string());
        self.until(&format!("row {name} {repl} {state}"), move |app| {
            Console::row(app, &name).is_some_and(|(r, s)| r == repl && s.starts_with(&state))
        })
        .await;
    }

    async fn listed(&self) -> Vec<Deployment> {
        self.backend.list().await.unwrap()
    }

    /// The create form filled in, up to the review of the rendered command.
    async fn fill_create_form(&mut self, name: &str, replicas: u32, port: u16, program: &str) {
        self.press(key(KeyCode::Char('c')));
        assert!(matches!(self.app.mode, Mode::Form(..)), "c opens the create form");
        self.keys(name);
        self.press(key(KeyCode::Tab));
        self.keys("Qwen/Qwen2.5-0.5B-Instruct");
        // recipe (empty), engine (vllm), backend (process): as they are.
        self.times(KeyCode::Tab, 4);
        self.press(key(KeyCode::Backspace));
        self.keys(&replicas.to_string());
        self.press(key(KeyCode::Tab));
        self.times(KeyCode::Backspace, 4);
        self.keys(&port.to_string());
        self.press(key(KeyCode::Tab));
        self.keys(program);
        self.press(key(KeyCode::Enter));
        // The backend renders the review (a command); its answer opens the pager.
        self.until(
            "the review opens",
            |app| matches!(&app.mode, Mode::Pager(pager) if pager.create.is_some()),
        )
        .await;
    }
}

/// A test that fails half-way must not leave engines running: whatever replicas the backend's
/// state dir still records are killed when the console goes.
impl Drop for Console {
    fn drop(&mut self) {
        let dir = self.backend.state_dir().to_path_buf();
        for name in aimdeck::backend::process::state::deployment_names(&dir).unwrap_or_default() {
            for record in
                aimdeck::backend::process::state::read_deployment(&dir, &name).unwrap_or_default()
            {
                if pid_alive(record.pid) {
                    // SAFETY: a plain kill(2) of a replica this test started.
                    unsafe { libc::kill(record.pid as i32, libc::SIGKILL) };
                }
            }
        }
    }
}

fn screen_of(app: &App) -> String {
    screen(app, 120, 40)
}

fn pids(deployment: &Deployment) -> Vec<u32> {
    deployment.replicas.iter().filter_map(|r| r.pid()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_scale_logs_restart_and_delete_from_the_keyboard() {
    let mut console = Console::start(false);
    let name = unique_name("flow");
    let port = free_ports(3);

    // Create: the form, then the review of the command the process backend would run.
    console.fill_create_form(&name, 1, port, SIM).await;
    let review = console.screen();
    assert!(review.contains(&format!("Review: {name} on process")), "{review}");
    assert!(
        review.contains(SIM) && review.contains(&port.to_string()),
        "the rendered command names the program and port:\n{review}"
    );
    assert!(console.listed().await.is_empty(), "nothing exists before y");
    console.press(key(KeyCode::Char('y')));
    console.until_row(&name, "1/1", "ready").await;
    let listed = console.listed().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].ready_summary(), "1/1");
    assert_eq!(http_get(port, "/health").await.map(|(status, _)| status), Some(200));
    assert!(console.screen().contains(&name));

    // Scale with `s` to 2, then `+` to 3 and `-` back to 2.
    console.press(key(KeyCode::Char('s')));
    console.press(key(KeyCode::Backspace));
    console.keys("2");
    console.press(key(KeyCode::Enter));
    console.until_row(&name, "2/2", "ready").await;
    assert_eq!(console.listed().await[0].replicas.len(), 2);
    console.press(key(KeyCode::Char('+')));
    console.until_row(&name, "3/3", "ready").await;
    let three = console.listed().await;
    assert_eq!(
        three[0].replicas.iter().map(|r| r.port).collect::<Vec<_>>(),
        [port, port + 1, port + 2]
    );
    console.press(key(KeyCode::Char('-')));
    console.until_row(&name, "2/2", "ready").await;
    let two = console.listed().await;
    assert_eq!(two[0].replicas.len(), 2);
    assert!(!pid_alive(three[0].replicas[2].pid().unwrap()), "the highest replica stopped");

    // Logs: follow, pause, search, wrap.
    console.press(key(KeyCode::Char('l')));
    console.until_shown("Uvicorn running on").await;
    let logs = console.screen();
    assert!(logs.contains(&format!("Logs: {name}")) && logs.contains("following"), "{logs}");
    // A few lines fit the pane, so scrolling has nowhere to go; `g` (top) pauses following.
    console.press(key(KeyCode::Char('g')));
    assert!(console.screen().contains("paused (G follows)"));
    console.press(key(KeyCode::Char('G')));
    assert!(console.screen().contains("following"));
    console.press(key(KeyCode::Char('/')));
    console.keys("Uvicorn");
    assert!(console.screen().contains("/Uvicorn"), "the query is shown while typed");
    console.press(key(KeyCode::Enter));
    assert!(console.screen().contains("search: Uvicorn"));
    let wrapped = console.app.deploy.logs.as_ref().unwrap().pane.wrap;
    console.press(key(KeyCode::Char('w')));
    assert_ne!(console.app.deploy.logs.as_ref().unwrap().pane.wrap, wrapped, "w toggles wrapping");
    console.press(key(KeyCode::Esc));
    assert!(matches!(console.app.mode, Mode::Normal) && console.app.deploy.logs.is_none());

    // Restart: new processes, ready again.
    let before = pids(&two[0]);
    console.press(key(KeyCode::Char('r')));
    console
        .until(&format!("restart {name}: done"), |app| {
            app.history.iter().any(|m| m.text.contains(": done") && m.text.starts_with("restart"))
        })
        .await;
    console.until_row(&name, "2/2", "ready").await;
    let after = pids(&console.listed().await[0]);
    assert!(after.iter().all(|p| !before.contains(p)), "restarted: {before:?} -> {after:?}");
    assert!(before.iter().all(|&p| !pid_alive(p)));

    // Delete: a wrong name refuses, the right one removes every replica.
    console.press(key(KeyCode::Char('d')));
    console.keys("not-it");
    console.press(key(KeyCode::Enter));
    assert!(matches!(console.app.mode, Mode::Confirm(..)), "a wrong name does not delete");
    console.press(key(KeyCode::Esc));
    assert!(console.app.message.as_ref().is_some_and(|m| m.text.contains("nothing was changed")));
    assert_eq!(console.listed().await.len(), 1);
    console.press(key(KeyCode::Char('d')));
    console.keys(&name);
    console.press(key(KeyCode::Enter));
    let deleted = name.clone();
    console.until("the row goes", move |app| Console::row(app, &deleted).is_none()).await;
    assert!(console.listed().await.is_empty());
    assert!(after.iter().all(|&p| !pid_alive(p)), "no replica left running");

    // Every change is in the journal.
    let journal =
        std::fs::read_to_string(xdg_state().join("aimdeck/journal.jsonl")).unwrap_or_default();
    for action in ["\"deploy\"", "\"scale\"", "\"restart\"", "\"rm\""] {
        assert!(
            journal.lines().any(|l| l.contains(&name) && l.contains(action)),
            "{action} journaled:\n{journal}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_refuses_every_change_with_a_clear_message() {
    let mut console = Console::start(true);
    let name = unique_name("ro");
    let port = free_ports(1);
    let spec = support::sim_spec(&name, SIM, port, 1);
    console.backend.create(&spec, None).await.unwrap();
    console.until_row(&name, "1/1", "ready").await;
    for (key_char, action) in [
        ('c', "Create (c)"),
        ('s', "Scale to a number of replicas (s)"),
        ('+', "Add one replica (+)"),
        ('-', "Remove one replica (-)"),
        ('d', "Delete (d)"),
        ('r', "Restart (r)"),
    ] {
        console.press(key(KeyCode::Char(key_char)));
        let message = console.app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
        assert_eq!(message, format!("{action}: refused, aimdeck is read-only (--readonly)"));
        assert!(matches!(console.app.mode, Mode::Normal), "{action} opened nothing");
        assert!(console.screen().contains("refused, aimdeck is read-only"));
    }
    let listed = console.listed().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].replicas.len(), 1, "still one replica");
    // Reading is allowed: the logs open.
    console.press(key(KeyCode::Char('l')));
    assert!(matches!(console.app.mode, Mode::Logs));
    console.press(key(KeyCode::Esc));
    console.backend.delete(&name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_create_shows_its_cause_and_leaves_nothing_behind() {
    let mut console = Console::start(false);

    // A port already taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let name = unique_name("taken");
    console.fill_create_form(&name, 2, port, SIM).await;
    console.press(key(KeyCode::Char('y')));
    let failed = name.clone();
    console
        .until("the failure on the row", move |app| {
            Console::row(app, &failed).is_some_and(|(_, s)| s.starts_with("failed: "))
        })
        .await;
    let shown = console.screen();
    assert!(shown.contains(&format!("port {port} on 127.0.0.1 is already taken")), "{shown}");
    assert!(console.listed().await.is_empty(), "no replica behind");
    // The form is back as it was sent, with the cause, to fix and send again.
    let Mode::Form(form, _) = &console.app.mode else { panic!("the create form reopens") };
    assert_eq!(form.value("name").as_deref(), Some(name.as_str()));
    assert_eq!(form.value("port"), Some(port.to_string()));
    // Esc closes the form; Esc again dismisses the failure on the row.
    console.press(key(KeyCode::Esc));
    assert!(Console::row(&console.app, &name).is_some());
    console.press(key(KeyCode::Esc));
    assert!(Console::row(&console.app, &name).is_none());
    drop(taken);

    // A command that cannot start.
    let name = unique_name("badcmd");
    console.fill_create_form(&name, 2, free_ports(2), "/nonexistent/engine-binary").await;
    console.press(key(KeyCode::Enter));
    let failed = name.clone();
    console
        .until("the failure on the row", move |app| {
            Console::row(app, &failed).is_some_and(|(_, s)| s.starts_with("failed: "))
                && app.message.as_ref().is_some_and(|m| m.text.contains("deploy "))
        })
        .await;
    let message = console.app.message.clone().unwrap().text;
    assert!(
        message.contains("/nonexistent/engine-binary"),
        "the cause names the program: {message}"
    );
    assert!(console.listed().await.is_empty(), "no replica behind");
}

/// Quick `+`/`-` presses count from the last count asked for and coalesce (one scale runs, the
/// latest target waits behind it); `-` on a 1-replica row asks like `d`, and the deployment is
/// kept at 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_presses_coalesce_and_scaling_to_zero_asks_first() {
    let mut console = Console::start(false);
    let name = unique_name("press");
    let port = free_ports(4);
    console.backend.create(&support::sim_spec(&name, SIM, port, 1), None).await.unwrap();
    console.until_row(&name, "1/1", "ready").await;

    // Three quick `+` from 1: the target is 4, reached without a replica lost on the way.
    console.times(KeyCode::Char('+'), 3);
    assert_eq!(console.app.deploy.requested.get(&name), Some(&4), "counted from the last request");
    console.until_row(&name, "4/4", "ready").await;
    assert_eq!(console.listed().await[0].replicas.len(), 4);

    // `- - -` from 4 ends at 1 (not at 3).
    console.times(KeyCode::Char('-'), 3);
    console
        .until(&format!("{name} back to 1"), |app| {
            app.deploy.in_flight.is_empty() && app.deploy.queued_scale.is_empty()
        })
        .await;
    console.until_row(&name, "1/1", "ready").await;
    let one = console.listed().await;
    assert_eq!(one[0].replicas.len(), 1);

    // `-` on a 1-replica row asks first; esc leaves it running.
    console.press(key(KeyCode::Char('-')));
    assert!(
        matches!(console.app.mode, Mode::Confirm(..)),
        "scaling to 0 asks like d:\n{}",
        console.screen()
    );
    console.press(key(KeyCode::Esc));
    assert_eq!(console.listed().await[0].replicas.len(), 1, "nothing changed");
    console.press(key(KeyCode::Char('-')));
    console.keys(&name);
    console.press(key(KeyCode::Enter));
    let pid = one[0].replicas[0].pid().unwrap();
    console.until(&format!("{name} at 0"), move |_| !pid_alive(pid)).await;
    console.until(&format!("{name} scale done"), |app| app.deploy.in_flight.is_empty()).await;
    let zero = console.listed().await;
    assert_eq!(zero.len(), 1, "the deployment is kept at 0");
    assert!(zero[0].replicas.is_empty());
    console.backend.delete(&name).await.unwrap();
}
