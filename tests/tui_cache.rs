//! The Cache view through the whole console loop (App, TaskRunner, events) without a
//! terminal: a real scan of a damaged cache, a delete with typed confirmation that frees what
//! it promised, and a pull from a Hub stand-in on 127.0.0.1 with live progress.

#[path = "support/cache_tree.rs"]
mod cache_tree;
#[path = "support/fake_hub.rs"]
mod fake_hub;

use std::time::Duration;

use aimdeck::tui::app::{App, ConfirmPurpose, Mode, Settings};
use aimdeck::tui::event::Event;
use aimdeck::tui::runner::TaskRunner;
use aimdeck::tui::views::ViewId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

struct Console {
    app: App,
    events: mpsc::Receiver<Event>,
    runner: TaskRunner,
}

impl Console {
    fn new(cache_root: &std::path::Path) -> Console {
        let (tx, events) = mpsc::channel(256);
        let settings = Settings {
            cache_root: cache_root.to_path_buf(),
            user_themes_dir: "/nonexistent".into(),
            ..Settings::default()
        };
        let runner = TaskRunner::new(tx, "/nonexistent".into(), Vec::new());
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
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; message: {:?}", self.app.message))
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
    assert_eq!(ids, ["model:acme/llama-mini", "dataset:acme/eval-set", "space:acme/demo"], "every repo type, damaged repos left out");
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
    assert!(dialog.message.contains(&format!("frees {}", aimdeck::cache::format_size(promised))), "{}", dialog.message);
    console.type_text("acme/eval-se");
    console.key(KeyCode::Enter);
    assert!(matches!(console.app.mode, Mode::Confirm(..)), "a wrong name does not delete");
    console.type_text("t");
    console.key(KeyCode::Enter);
    console.until("the delete and rescan", |app| {
        app.cache.report.as_ref().is_some_and(|r| r.repos.iter().all(|repo| repo.repo_id != "acme/eval-set"))
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
    let mut app = App::new(Settings { readonly: true, cache_root: dir.path().into(), user_themes_dir: "/nonexistent".into(), ..Settings::default() });
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
        files: vec![FakeFile::new("config.json", b"{}".to_vec(), false), FakeFile::new("model.safetensors", weights, true)],
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
            app.cache.report.as_ref().is_some_and(|r| r.repos.iter().any(|repo| repo.repo_id == "acme/tiny-model"))
        })
        .await;
    let progress = console.app.cache.pull.clone().unwrap();
    assert_eq!(progress.total_bytes, 2_000_002);
    assert_eq!(progress.done_bytes, progress.total_bytes);
    assert!(console.app.message.as_ref().is_some_and(|m| m.text.contains("pulled acme/tiny-model")) || !console.app.cache.pulling());
}
