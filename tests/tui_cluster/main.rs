//! Kubernetes in the console: `:ctx` and `:ns` switch the cluster the views show, and the GPUs,
//! Endpoints and Cache views show node GPU inventory, operator services and cluster caches.
//! `App` with the real task runner and the Kubernetes backend over the fake API server (a real
//! `kube::Client` from its kubeconfig); screens rendered on a `TestBackend`.

#[path = "../support/fake_kube/mod.rs"]
mod fake_kube;

mod recovery;

use std::sync::Arc;
use std::time::Duration;

use aimdeck::backend::kubernetes::KubeTarget;
use aimdeck::backend::{BackendOptions, open};
use aimdeck::tui::app::{App, HeaderInfo, Settings};
use aimdeck::tui::effects::Effects;
use aimdeck::tui::event::Event;
use aimdeck::tui::mode::Mode;
use aimdeck::tui::views::frame::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fake_kube::{FakeKube, FakeOptions, NAMESPACE, Optional};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

struct Console {
    app: App,
    events: mpsc::Receiver<Event>,
    runner: Effects,
    _state: tempfile::TempDir,
}

impl Console {
    fn start(fake: &FakeKube) -> Console {
        Console::bounded(fake, Duration::from_secs(2))
    }

    /// The console with `timeout` on each Kubernetes call.
    fn bounded(fake: &FakeKube, timeout: Duration) -> Console {
        let state = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(state.path().join("hub")).expect("an empty cache");
        let (tx, events) = mpsc::channel(1024);
        let mut options = BackendOptions::new(state.path());
        options.kubernetes = KubeTarget {
            kubeconfig: Some(fake.kubeconfig_path()),
            timeout: Some(timeout),
            ..Default::default()
        };
        options.kubernetes_watches = true;
        let cluster = aimdeck::backend::registry::open_kubernetes(&options);
        let backends = aimdeck::backend::registry::Registry::new(vec![
            open("process", &options).expect("opens"),
        ])
        .with_cluster(cluster.clone(), cluster);
        let settings = Settings {
            header: HeaderInfo { backend: "k8s".into(), host: "testhost".into() },
            user_themes_dir: "/nonexistent/themes".into(),
            cache_root: state.path().join("hub"),
            backends,
            active_backend: "k8s".into(),
            kubeconfig: Some(fake.kubeconfig_path()),
            ..Settings::default()
        };
        let runner =
            Effects::new(tx, settings.backends.clone(), "/nonexistent/themes".into(), Vec::new());
        let mut app = App::new(settings);
        for command in app.start() {
            runner.run(command);
        }
        Console { app, events, runner, _state: state }
    }

    fn press(&mut self, event: Event) {
        for command in self.app.update(event) {
            self.runner.run(command);
        }
    }

    fn command(&mut self, line: &str) {
        self.press(key(KeyCode::Char(':')));
        for c in line.chars() {
            self.press(key(KeyCode::Char(c)));
        }
        self.press(key(KeyCode::Enter));
    }

    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(&self.app) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.press(event),
                Ok(None) => panic!("event channel closed"),
                Err(_) => panic!("{what}: not within {WAIT:?}; screen:\n{}", self.screen(160, 48)),
            }
        }
    }

    /// As `until`, with a clock tick whenever the console is idle (the listings run on it).
    async fn until_ticking(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(&self.app) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {WAIT:?}; errors {:?}",
                self.app.deploy.errors
            );
            match tokio::time::timeout(Duration::from_millis(200), self.events.recv()).await {
                Ok(Some(event)) => self.press(event),
                Ok(None) => panic!("event channel closed"),
                Err(_) => {
                    self.press(aimdeck::tui::event::Event::Tick(aimdeck::tui::event::Now::read()))
                }
            }
        }
    }

    fn screen(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| render(&self.app, frame)).unwrap();
        terminal.backend().to_string()
    }

    /// The screen with the clock fixed, for snapshots.
    fn snapshot_screen(&mut self, width: u16, height: u16) -> String {
        self.app.on_tick("12:34");
        self.screen(width, height)
    }
}

/// Snapshots stay where they were before this file became a folder: `tests/snapshots/`,
/// named `tui_cluster__NAME`.
fn assert_screen(name: impl Into<String>, shown: impl AsRef<str>) {
    let name: String = name.into();
    let shown = shown.as_ref().to_string();
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!(name, shown);
    });
}

fn scope(app: &App) -> Option<String> {
    app.cluster.inventory.as_ref().map(|i| i.scope.clone())
}

async fn cluster() -> Arc<FakeKube> {
    let fake = FakeKube::start(FakeOptions {
        optional: [Optional::NimOperator].into_iter().collect(),
        ..Default::default()
    })
    .await;
    // A GPU node labelled by NVIDIA GPU feature discovery, with a training pod holding 2 GPUs.
    fake.put("Node", "", json!({
        "metadata": {"name": "h100-a", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "81559"}},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
        "status": {"capacity": {"nvidia.com/gpu": "8"}, "allocatable": {"nvidia.com/gpu": "8"}, "conditions": [{"type": "Ready", "status": "True"}]}
    }));
    fake.put("Pod", "other", json!({"metadata": {"name": "train"}, "spec": {"nodeName": "h100-a", "containers": [{"name": "t", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}, "status": {"phase": "Running"}}));
    fake.put("NIMService", NAMESPACE, json!({
        "metadata": {"name": "llama3-8b-nim"},
        "spec": {"image": {"repository": "nvcr.io/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.3"}},
        "status": {"state": "Ready", "conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]}
    }));
    fake.put("NIMCache", NAMESPACE, json!({
        "metadata": {"name": "llama3-8b-cache"},
        "spec": {"source": {"ngc": {"modelPuller": "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"}}},
        "status": {"state": "InProgress", "conditions": [{"type": "NIM_CACHE_JOB_CREATED", "status": "True", "reason": "JobCreated"}]}
    }));
    fake.put("PersistentVolumeClaim", NAMESPACE, json!({
        "metadata": {"name": "models", "labels": {"aimdeck.io/cache": "huggingface"}, "annotations": {"aimdeck.io/models": "Qwen/Qwen3-8B"}},
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "fast", "resources": {"requests": {"storage": "500Gi"}}},
        "status": {"phase": "Bound", "capacity": {"storage": "500Gi"}}
    }));
    fake.put("NIMService", "other", json!({
        "metadata": {"name": "mistral-nim"},
        "spec": {"image": {"repository": "nvcr.io/nim/mistralai/mistral-7b-instruct-v03", "tag": "1.2.2"}},
        "status": {"state": "Pending", "conditions": [{"type": "Ready", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available"}]}
    }));
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_show_the_cluster_and_ctx_and_ns_switch_it() {
    let fake = cluster().await;
    let mut console = Console::start(&fake);
    console
        .until("the cluster inventory", |app| {
            app.cluster.inventory.as_ref().is_some_and(|i| i.nodes.is_ok())
        })
        .await;

    let gpus = console.snapshot_screen(160, 48);
    assert!(
        gpus.contains("Cluster nodes") && gpus.contains(&format!("fake/{NAMESPACE}")),
        "{gpus}"
    );
    let node = gpus
        .lines()
        .find(|l| l.contains("h100-a"))
        .unwrap_or_else(|| panic!("a row for the node:\n{gpus}"));
    for expected in [
        "nvidia.com/gpu",
        "2/8",
        "NVIDIA-H100-80GB-HBM3",
        "81559 MiB",
        "Ready",
        "nvidia.com/gpu=present:NoSchedule",
    ] {
        assert!(node.contains(expected), "{expected} in {node}");
    }
    assert_screen("gpus_with_cluster_nodes_160x48", gpus);
    assert_screen("gpus_with_cluster_nodes_80x24", console.snapshot_screen(80, 24));

    console.press(key(KeyCode::Char('4')));
    let endpoints = console.screen(160, 48);
    assert!(endpoints.contains("Operator services (read-only)"), "{endpoints}");
    let nim = endpoints
        .lines()
        .find(|l| l.contains("llama3-8b-nim"))
        .unwrap_or_else(|| panic!("{endpoints}"));
    assert!(
        nim.contains("NIMService")
            && nim.contains("Ready")
            && nim.contains("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"),
        "{nim}"
    );
    assert!(!endpoints.contains("llama3-8b-cache"), "caches belong to the Cache view");

    console.press(key(KeyCode::Char('2')));
    let cache = console.screen(160, 48);
    assert!(cache.contains("Cluster caches"), "{cache}");
    let pvc = cache
        .lines()
        .find(|l| l.contains("models") && l.contains("PVC"))
        .unwrap_or_else(|| panic!("{cache}"));
    assert!(
        pvc.contains("Bound") && pvc.contains("500Gi fast") && pvc.contains("Qwen/Qwen3-8B"),
        "{pvc}"
    );
    assert!(cache.lines().any(|l| l.contains("NIMCache") && l.contains("InProgress")), "{cache}");

    // :ctx lists the local backends and every kubeconfig context, the one in use marked.
    console.press(key(KeyCode::Char('1')));
    console.command("ctx");
    console.until("the contexts picker", |app| matches!(app.mode, Mode::Pick(..))).await;
    let picker = console.snapshot_screen(160, 48);
    for expected in ["Contexts", "process", "k8s/fake ", "k8s/fake-other", "namespace other"] {
        assert!(picker.contains(expected), "{expected} in\n{picker}");
    }
    assert!(
        picker.lines().any(|l| l.contains("* k8s/fake ")),
        "the context in use is marked:\n{picker}"
    );
    assert_screen("ctx_picker_160x48", picker);
    assert_screen("ctx_picker_80x24", console.snapshot_screen(80, 24));
    for c in "other".chars() {
        console.press(key(KeyCode::Char(c)));
    }
    console.press(key(KeyCode::Enter));
    console
        .until("the switch, once the kubeconfig confirms the context", |app| {
            app.header.backend == "k8s/fake-other/other"
        })
        .await;
    assert_eq!(console.app.deploy.active, "k8s");
    console
        .until("the other context's inventory", |app| {
            scope(app).as_deref() == Some("fake-other/other")
        })
        .await;
    console.press(key(KeyCode::Char('4')));
    let other = console.screen(160, 48);
    assert!(other.contains("mistral-nim") && other.contains("Unschedulable"), "{other}");
    assert!(!other.contains("llama3-8b-nim"), "the first namespace's services are gone:\n{other}");

    // :ns picks among the cluster's namespaces.
    console.command("ns");
    console.until("the namespaces picker", |app| matches!(app.mode, Mode::Pick(..))).await;
    let namespaces = console.screen(120, 40);
    assert!(namespaces.contains(NAMESPACE) && namespaces.contains("* other"), "{namespaces}");
    for c in NAMESPACE.chars() {
        console.press(key(KeyCode::Char(c)));
    }
    console.press(key(KeyCode::Enter));
    assert_eq!(console.app.header.backend, format!("k8s/fake-other/{NAMESPACE}"));
    console
        .until("back in the first namespace", |app| {
            scope(app) == Some(format!("fake-other/{NAMESPACE}"))
        })
        .await;
    assert!(console.screen(160, 48).contains("llama3-8b-nim"));

    // Local backends and bad names.
    console.command("ctx process");
    assert_eq!(
        (console.app.deploy.active.as_str(), console.app.header.backend.as_str()),
        ("process", "process")
    );
    console.command("ctx nope");
    console
        .until("the refusal", |app| {
            app.message
                .as_ref()
                .is_some_and(|m| m.text.contains("no backend or context named `nope`"))
        })
        .await;
    assert_eq!(console.app.deploy.active, "process", "a bad name changes nothing");
    assert!(
        console.app.message.as_ref().unwrap().text.contains("fake-other"),
        "the refusal lists what exists"
    );
}
