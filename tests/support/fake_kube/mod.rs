//! An in-process Kubernetes API server on 127.0.0.1 for tests and benchmarks. It speaks the
//! real wire format for what aimdeck uses (see README.md in this folder), and every test talks
//! to it through a real `kube::Client` built from a generated kubeconfig.

#![allow(dead_code)]

pub mod controller;
pub mod lws_controller;
pub mod resources;
pub mod schema;
pub mod server;
pub mod store;
pub mod subresources;
pub mod validate;
pub mod verbs;
pub mod watch;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use resources::Optional;
use store::{Inner, Key, Shared};

#[derive(Debug, Clone)]
pub struct FakeOptions {
    /// Optional APIs (CRDs) this cluster serves.
    pub optional: HashSet<Optional>,
    /// How long a scheduled pod takes to become Running and Ready.
    pub ready_delay: Duration,
    pub bookmark_interval: Duration,
    pub reconcile_every: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            optional: HashSet::new(),
            ready_delay: Duration::from_millis(150),
            bookmark_interval: Duration::from_secs(1),
            reconcile_every: Duration::from_millis(20),
        }
    }
}

pub struct FakeKube {
    pub addr: SocketAddr,
    pub options: FakeOptions,
    pub shared: Arc<Shared>,
    pub dir: tempfile::TempDir,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

#[derive(Clone)]
pub struct FakeState {
    pub fake: Arc<FakeKube>,
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.iter() {
                task.abort();
            }
        }
    }
}

pub const NAMESPACE: &str = "aimdeck-test";

impl FakeKube {
    /// Starts the server and its controller on the current tokio runtime.
    pub async fn start(options: FakeOptions) -> Arc<FakeKube> {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (changes, _) = broadcast::channel(1 << 16);
        let (log_lines, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::new()),
            changes,
            log_lines,
            kill_watches: tokio::sync::Notify::new(),
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = Arc::new(FakeKube { addr, options, shared, dir, tasks: Mutex::new(Vec::new()) });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(FakeState { fake: fake.clone() });
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let weak = Arc::downgrade(&fake);
        let every = fake.options.reconcile_every;
        let control = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(fake) = weak.upgrade() else { return };
                controller::reconcile(&fake);
            }
        });
        fake.tasks.lock().expect("tasks").extend([serve, control]);
        fake.write_kubeconfig();
        fake.seed_namespace(NAMESPACE);
        fake.seed_namespace("other");
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn write_kubeconfig(&self) {
        // Two contexts on one cluster, so context and namespace switching can be tested.
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {NAMESPACE}\n- name: fake-other\n  context:\n    cluster: fake\n    user: fake\n    namespace: other\ncurrent-context: fake\nusers:\n- name: fake\n  user:\n    token: fake-token\n",
            url = self.url()
        );
        std::fs::write(self.kubeconfig_path(), text).expect("write kubeconfig");
    }

    fn seed_namespace(&self, name: &str) {
        let def =
            resources::RESOURCES.iter().find(|r| r.kind == "Namespace").expect("namespace def");
        let mut inner = self.shared.inner.lock().expect("store");
        inner.insert(
            def,
            Key::new(def, "", name),
            json!({"metadata": {"name": name}, "status": {"phase": "Active"}}),
            &self.shared.changes,
        );
    }

    fn def(kind: &str) -> &'static resources::ResourceDef {
        resources::RESOURCES.iter().find(|r| r.kind == kind).expect("known kind")
    }

    /// Stores an object directly (nodes, operator resources, pods made by others).
    pub fn put(&self, kind: &str, namespace: &str, object: Value) {
        let def = Self::def(kind);
        let name = object["metadata"]["name"].as_str().expect("fixture has a name").to_string();
        let key = Key::new(def, namespace, &name);
        let mut inner = self.shared.inner.lock().expect("store");
        if inner.get(&key).is_some() {
            inner.update(&key, object, &self.shared.changes);
        } else {
            inner.insert(def, key.clone(), object, &self.shared.changes);
        }
    }

    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let def = Self::def(kind);
        self.shared.inner.lock().expect("store").get(&Key::new(def, namespace, name)).cloned()
    }

    pub fn list(&self, kind: &str, namespace: &str) -> Vec<Value> {
        let def = Self::def(kind);
        self.shared
            .inner
            .lock()
            .expect("store")
            .list(def, namespace)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// Every object in a namespace as `Kind/name`, sorted (to check what a delete left).
    pub fn inventory(&self, namespace: &str) -> Vec<String> {
        let inner = self.shared.inner.lock().expect("store");
        let mut names: Vec<String> = inner
            .objects
            .iter()
            .filter(|(k, _)| k.namespace == namespace && k.plural != "events")
            .map(|(_, v)| {
                format!(
                    "{}/{}",
                    v["kind"].as_str().unwrap_or("?"),
                    v["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        names.sort();
        names
    }

    /// Refuses `verb` on `resource` (`deployments`, `deployments/scale`, `pods/log`) with a 403.
    pub fn deny(&self, verb: &str, resource: &str) {
        self.shared.inner.lock().expect("store").denies.push((verb.into(), resource.into()));
    }

    /// Requests whose path contains `fragment` never get an answer.
    pub fn hang(&self, fragment: &str) {
        self.shared.inner.lock().expect("store").hangs.push(fragment.into());
    }

    /// Requests whose path contains `fragment` get `500 InternalError`, as an API server whose
    /// etcd is unavailable answers, until [`FakeKube::heal`].
    pub fn fail(&self, fragment: &str) {
        self.shared.inner.lock().expect("store").failures.push(fragment.into());
    }

    /// Ends every `fail` and `hang`: the server answers normally again.
    pub fn heal(&self) {
        let mut inner = self.shared.inner.lock().expect("store");
        inner.failures.clear();
        inner.hangs.clear();
    }

    /// Forgets history: watches from older resourceVersions get `410 Gone`. The version moves
    /// on by one, as unrelated writes in a real cluster do, so every client is behind.
    pub fn compact(&self) {
        let mut inner = self.shared.inner.lock().expect("store");
        inner.rv += 1;
        inner.compacted_below = inner.rv;
        inner.history.clear();
    }

    /// Closes every open watch; clients must re-watch (and re-list after `compact`).
    pub fn kill_watches(&self) {
        self.shared.kill_watches.notify_waiters();
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.inner.lock().expect("store").requests.clone()
    }

    /// Appends a line to a pod's current log (followers see it).
    pub fn append_log(&self, namespace: &str, pod: &str, line: &str) {
        let mut inner = self.shared.inner.lock().expect("store");
        inner.logs.entry((namespace.into(), pod.into())).or_default().current.push(line.into());
        let _ = self.shared.log_lines.send((namespace.into(), pod.into(), line.into()));
    }

    /// Makes a pod's container crash: the previous log holds `previous`, state as the kubelet
    /// reports a CrashLoopBackOff, with `OOMKilled` as the last termination when `oom`.
    pub fn crash_pod(&self, namespace: &str, pod: &str, previous: &[&str], oom: bool) {
        let def = Self::def("Pod");
        let key = Key::new(def, namespace, pod);
        let mut inner = self.shared.inner.lock().expect("store");
        let Some(mut object) = inner.get(&key).cloned() else { panic!("no pod {pod}") };
        let reason = if oom { "OOMKilled" } else { "Error" };
        object["status"]["phase"] = json!("Running");
        object["status"]["conditions"] =
            json!([{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]);
        object["status"]["containerStatuses"] = json!([{
            "name": "engine", "image": object.pointer("/spec/containers/0/image"), "imageID": "", "ready": false,
            "restartCount": 3, "started": false,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 40s restarting failed container=engine pod={pod}")}},
            "lastState": {"terminated": {"exitCode": if oom { 137 } else { 1 }, "reason": reason, "startedAt": store::now(), "finishedAt": store::now()}},
        }]);
        inner.update(&key, object, &self.shared.changes);
        let logs = inner.logs.entry((namespace.into(), pod.into())).or_default();
        logs.previous = Some(previous.iter().map(|s| s.to_string()).collect());
    }

    /// Waits until `check` holds, up to `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&FakeKube) -> bool,
    ) {
        let start = std::time::Instant::now();
        while !check(self) {
            if start.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; objects: {:?}",
                    self.inventory(NAMESPACE)
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A vLLM `/metrics` page in the shape vLLM 0.11 serves (trimmed to the series aimdeck reads).
pub fn metrics_page(pod: &str) -> String {
    let model = "meta-llama/Llama-3.1-8B-Instruct";
    format!(
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{{engine=\"0\",model_name=\"{model}\"}} 3.0\n# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{{engine=\"0\",model_name=\"{model}\"}} 1.0\n# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{{engine=\"0\",model_name=\"{model}\"}} 0.42\n# HELP vllm:generation_tokens_total Number of generation tokens processed.\n# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total{{engine=\"0\",model_name=\"{model}\"}} 12345.0\n# pod {pod}\n"
    )
}
