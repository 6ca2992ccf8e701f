//! The Cache view through the whole console loop (App, TaskRunner, events) without a
//! terminal: a real scan of a damaged cache, a delete with typed confirmation that frees what
//! it promised, and a pull from a Hub stand-in on 127.0.0.1 with live progress.

#[path = "support/cache_tree.rs"]
mod cache_tree;
#[path = "support/fake_hub.rs"]
mod fake_hub;
#[path = "support/tui.rs"]
#[allow(dead_code)]
mod tui_support;

use std::time::Duration;

use aimdeck::tui::app::{App, Settings};
use aimdeck::tui::effects::Effects;
use aimdeck::tui::event::Event;
use aimdeck::tui::mode::{ConfirmPurpose, Mode};
use aimdeck::tui::views::ViewId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

struct Console {
    app: App,
    events: mpsc::Receiver<Event>,
    runner: Effects,
}

impl Console {
    fn new(cache_root: &std::path::Path) -> Console {
        let (tx, events) = mpsc::channel(256);
        let settings = Settings {
            cache_root: cache_root.to_path_buf(),
            user_themes_dir: "/nonexistent".into(),
            ..Settings::default()
        };
        let runner = Effects::new(tx, Default::default(), "/nonexistent".into(), Vec::new());
        let mut app = App::new(settings);
        for command in app.start() {
            runner.run(command);
        }
        Console { app, events, runner }
    }

    fn key(&mut self, code: KeyCode) {
        for command in self.app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))) {
            self.runner.run(command);
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Feeds events to the app until `done` holds (or fails after 20 s).
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(&self.app) {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("timed out waiting for {what}; message: {:?}", self.app.message)
                })
                .expect("channel open");
            for command in self.app.update(event) {
                self.runner.run(command);
            }
        }
    }
}

#[tokio::test]
async fn scans_shows_damage_and_deletes_with_typed_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    cache_tree::build_demo(dir.path());
    let mut console = Console::new(dir.path());
    console.until("the scan", |app| app.cache.report.is_some()).await;
    console.key(KeyCode::Char('2'));
    let table = &console.app.current().table;
    let ids: Vec<&str> = table.rows().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["model:acme/llama-mini", "dataset:acme/eval-set", "space:acme/demo"],
        "every repo type, damaged repos left out"
    );
    let report = console.app.cache.report.clone().unwrap();
    assert!(!report.warnings.is_empty(), "damage becomes warnings");
    let before = report.size_on_disk;

    // Select the dataset and delete it: the dialog names the bytes the plan frees.
    console.key(KeyCode::Char('/'));
    console.type_text("eval-set");
    console.key(KeyCode::Enter);
    console.key(KeyCode::Char('d'));
    let Mode::Confirm(dialog, ConfirmPurpose::DeleteCache { plan, .. }) = &console.app.mode else {
        panic!("a confirmation, got {:?}", console.app.mode)
    };
    let promised = plan.bytes_freed;
    assert!(promised >= 123_456 + 42, "{promised}");
    assert!(
        dialog
            .message
            .contains(&format!("frees {}", aimdeck::tui::widgets::units::bytes(promised))),
        "{}",
        dialog.message
    );
    console.type_text("acme/eval-se");
    console.key(KeyCode::Enter);
    assert!(matches!(console.app.mode, Mode::Confirm(..)), "a wrong name does not delete");
    console.type_text("t");
    console.key(KeyCode::Enter);
    console
        .until("the delete and rescan", |app| {
            app.cache
                .report
                .as_ref()
                .is_some_and(|r| r.repos.iter().all(|repo| repo.repo_id != "acme/eval-set"))
        })
        .await;
    let after = console.app.cache.report.as_ref().unwrap().size_on_disk;
    assert_eq!(before - after, promised, "freed exactly what the dialog promised");
    assert!(!dir.path().join("datasets--acme--eval-set").exists());
}

#[tokio::test]
async fn readonly_refuses_pull_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    cache_tree::build_demo(dir.path());
    let mut app = App::new(Settings {
        readonly: true,
        cache_root: dir.path().into(),
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    });
    app.view = ViewId::Cache;
    for key in ['P', 'd'] {
        app.update(Event::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE)));
        assert!(matches!(app.mode, Mode::Normal));
        assert!(app.message.as_ref().unwrap().text.contains("read-only"));
    }
}

#[tokio::test]
async fn pulls_with_progress_and_the_new_repo_appears() {
    use fake_hub::{FakeFile, FakeHub, FakeRepo};
    let weights: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let hub = FakeHub::start(vec![FakeRepo {
        repo_id: "acme/tiny-model".into(),
        kind: "models",
        commit: "c".repeat(40),
        branches: vec!["main".into()],
        files: vec![
            FakeFile::new("config.json", b"{}".to_vec(), false),
            FakeFile::new("model.safetensors", weights, true),
        ],
        gated: false,
    }])
    .await;
    // SAFETY: this test binary's only test that reads HF_ENDPOINT; set before the pull starts.
    unsafe { std::env::set_var("HF_ENDPOINT", &hub.endpoint) };
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::new(dir.path());
    console.until("the first scan", |app| app.cache.report.is_some()).await;
    console.key(KeyCode::Char('2'));
    console.key(KeyCode::Char('P'));
    assert!(matches!(console.app.mode, Mode::Form(..)));
    console.type_text("acme/tiny-model");
    console.key(KeyCode::Enter);
    console.until("progress", |app| app.cache.pull.is_some()).await;
    console
        .until("the pulled repo in the table", |app| {
            app.cache
                .report
                .as_ref()
                .is_some_and(|r| r.repos.iter().any(|repo| repo.repo_id == "acme/tiny-model"))
        })
        .await;
    let progress = console.app.cache.pull.clone().unwrap();
    assert_eq!(progress.total_bytes, 2_000_002);
    assert_eq!(progress.done_bytes, progress.total_bytes);
    assert!(
        console.app.message.as_ref().is_some_and(|m| m.text.contains("pulled acme/tiny-model"))
            || !console.app.cache.pulling()
    );
}

// ------------------------------------------------------------ rendering, 80x24 and 160x48

use aimdeck::cache::ModelHold;
use aimdeck::tui::app::HeaderInfo;
use aimdeck::tui::mode::FormPurpose;
use tui_support::screen;

/// The demo cache (shared blobs, `refs/pr/1`, an interrupted download, a broken symlink, a
/// ref to a missing snapshot) scanned for real, with `acme/llama-mini` served by the
/// deployment `llama`. Root and times are fixed so the snapshots do not depend on where or
/// when they run.
fn rendered_demo() -> App {
    let dir = tempfile::tempdir().unwrap();
    cache_tree::build_demo(dir.path());
    let mut report = aimdeck::cache::scan_cache_dir(dir.path()).unwrap();
    let real_root = report.root.display().to_string();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    report.root = "/cache".into();
    for (n, repo) in report.repos.iter_mut().enumerate() {
        repo.last_accessed = now - (n as f64 + 2.0) * 86_400.0;
    }
    for warning in &mut report.warnings {
        *warning = warning.replace(&real_root, "/cache");
    }
    let settings = Settings {
        cache_root: "/cache".into(),
        header: HeaderInfo { backend: "local".into(), host: "testhost".into() },
        user_themes_dir: "/nonexistent".into(),
        ..Settings::default()
    };
    let mut app = App::new(settings);
    app.on_tick("12:34");
    app.cache.holds =
        vec![ModelHold { model: "acme/llama-mini".into(), deployment: "llama".into() }];
    app.update(Event::CacheScanned(Ok(std::sync::Arc::new(report))));
    app.view = ViewId::Cache;
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn snapshot(name: &str, app: &App) {
    for (width, height) in [(80, 24), (120, 40), (160, 48), (200, 60)] {
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen(app, width, height));
    }
}

#[test]
fn the_view_shows_repos_holders_detail_and_damage() {
    let app = rendered_demo();
    let wide = screen(&app, 160, 48);
    for seen in [
        "acme/llama-mini",
        "dataset",
        "HELD BY",
        "llama",
        "refs/pr/1",
        "main",
        "Largest files",
        "Interrupted downloads: 1 file, 1.2 kB",
    ] {
        assert!(wide.contains(seen), "{seen} missing:\n{wide}");
    }
    // Every damaged entry is on screen, not only the last message.
    let report = app.cache.report.clone().unwrap();
    assert_eq!(report.warnings.len(), 6, "{:?}", report.warnings);
    for warning in &report.warnings {
        let start: String = warning.chars().take(60).collect();
        assert!(wide.contains(&start), "warning not shown: {warning}\n{wide}");
    }
    assert!(wide.contains("Damaged, not listed (6)"));
    let small = screen(&app, 80, 24);
    assert!(
        small.contains("Damaged, not listed (6)")
            && small.contains("more: `aimdeck cache ls` lists them all"),
        "{small}"
    );
    snapshot("cache_view", &app);
}

#[test]
fn deleting_a_served_model_asks_a_second_time() {
    let mut app = rendered_demo();
    press(&mut app, KeyCode::Char('d'));
    for c in "acme/llama-mini".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let Mode::Confirm(dialog, ConfirmPurpose::DeleteCache { in_use_checked: true, .. }) = &app.mode
    else {
        panic!("the second confirmation, got {:?}", app.mode)
    };
    assert!(dialog.message.contains("served by llama"), "{}", dialog.message);
    snapshot("cache_delete_in_use", &app);
}

#[test]
fn pull_offers_to_resume_a_model_with_partial_files() {
    let mut app = rendered_demo();
    press(&mut app, KeyCode::Char('P'));
    let Mode::Form(form, FormPurpose::Pull) = &app.mode else {
        panic!("the pull form, got {:?}", app.mode)
    };
    assert_eq!(
        form.value("repo").as_deref(),
        Some("acme/llama-mini"),
        "the selected model's id, to resume it"
    );
    assert_eq!(form.value("revision").as_deref(), Some("main"));
    snapshot("cache_pull_resume", &app);

    // A repo without partial files (or not a model) starts an empty form.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('P'));
    let Mode::Form(form, FormPurpose::Pull) = &app.mode else {
        panic!("the pull form, got {:?}", app.mode)
    };
    assert_eq!(form.value("repo").as_deref(), Some(""));
}
