//! The one effects runner: every `Command` the console's `update` returns is run here, as a
//! tokio task whose result comes back as an `Event`. It owns what commands only name: the
//! backend registry (a backend by its key, the cluster capability beside the Kubernetes one),
//! the cancellation token of each run (`Command::Cancel(RunId)`), the endpoint monitor, and
//! every task. `update` never waits on I/O and never holds a token.

mod cluster;
pub mod deploy;
mod endpoints;
mod library;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::event::{Command, Event, RunId};
use crate::backend::Backend;
use crate::backend::registry::Registry;

/// Runs commands. Cheap to clone: the clones share the registry, the runs and the monitor.
#[derive(Debug, Clone)]
pub struct Effects {
    events: mpsc::Sender<Event>,
    user_themes_dir: PathBuf,
    /// Extra recipe directories (config file, then `--recipes-dir`).
    recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    user_recipes_dir: PathBuf,
    backends: Arc<RwLock<Registry>>,
    /// The token of each run still going, by its id.
    runs: Arc<Mutex<HashMap<RunId, CancellationToken>>>,
    /// Parent of every run's token and of the monitor: `shutdown` cancels them all.
    root: CancellationToken,
    endpoints: Option<endpoints::EndpointTasks>,
    /// `--demo` only: the load its traffic puts on each deployment, which the GPU recording
    /// follows.
    demo_load: Option<crate::backend::demo_traffic::DemoLoad>,
    /// True once the host's GPUs are known to the backends (`with_host_gpus`); placements
    /// (create, scale, render) wait for it. True from the start without that detection.
    host_gpus: tokio::sync::watch::Receiver<bool>,
}

impl Effects {
    /// A runner over `backends`, sending results on `events`.
    pub fn new(
        events: mpsc::Sender<Event>,
        backends: Registry,
        user_themes_dir: PathBuf,
        recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    ) -> Effects {
        Effects {
            events,
            user_themes_dir,
            recipe_dirs,
            user_recipes_dir: crate::paths::user_recipes_dir(),
            backends: Arc::new(RwLock::new(backends)),
            runs: Arc::default(),
            root: CancellationToken::new(),
            endpoints: None,
            demo_load: None,
            host_gpus: tokio::sync::watch::channel(true).1,
        }
    }

    /// The runner of a `--demo` console: the demo's traffic reports its load to `load`.
    pub fn with_demo_load(mut self, load: crate::backend::demo_traffic::DemoLoad) -> Effects {
        self.demo_load = Some(load);
        self
    }

    /// The demo's load, when this is a `--demo` console.
    pub fn demo_load(&self) -> Option<crate::backend::demo_traffic::DemoLoad> {
        self.demo_load.clone()
    }

    /// Starts the endpoint monitor's task (inside a Tokio runtime; the monitor is built by
    /// the first watch); endpoint commands go to it, and without it they are dropped with a
    /// log line. It stops with `shutdown`.
    pub fn with_endpoint_monitor(mut self, poll: crate::monitor::PollConfig) -> Effects {
        self.endpoints =
            Some(endpoints::EndpointTasks::spawn(self.events.clone(), poll, self.root.clone()));
        self
    }

    /// Cancels every run and stops the endpoint monitor.
    pub fn shutdown(&self) {
        self.root.cancel();
    }

    /// A token cancelled by `shutdown`, for tasks started beside the runner (the GPU poller).
    pub fn stopped(&self) -> CancellationToken {
        self.root.child_token()
    }

    /// A guard that shuts the runner down when dropped (for tests).
    pub fn shutdown_guard(&self) -> tokio_util::sync::DropGuard {
        self.root.clone().drop_guard()
    }

    pub fn run(&self, command: Command) {
        match command {
            // The shell carries these out before commands reach the runner.
            Command::Shell(shell) => tracing::warn!("shell command reached the runner: {shell:?}"),
            Command::LoadTheme(name) => self.load_theme(name),
            Command::LoadRecipes => self.load_recipes(),
            Command::SaveRecipe { id, yaml } => self.save_recipe(id, yaml),
            Command::ScanCache { root } => self.scan_cache(root),
            Command::Pull { repo, revision, root, run } => {
                let cancel = self.start_run(run);
                self.pull(repo, revision, root, run, cancel);
            }
            Command::DeleteFromCache { plan, root } => self.delete_from_cache(plan, root),
            Command::Deploy(command) => self.deploy(command),
            Command::Cluster(command) => self.cluster(command),
            Command::Endpoints(command) => match &self.endpoints {
                Some(tasks) => {
                    let cancel = command.run().map(|run| self.start_run(run)).unwrap_or_default();
                    tasks.run(command, cancel, self.finisher());
                }
                None => tracing::warn!("no endpoint monitor: {command:?} dropped"),
            },
            Command::Cancel(run) => {
                if let Some(token) = self.runs.lock().expect("runs lock").remove(&run) {
                    token.cancel();
                }
            }
        }
    }

    /// The token of a new run, kept until the run ends or is cancelled.
    fn start_run(&self, run: RunId) -> CancellationToken {
        let token = self.root.child_token();
        self.runs.lock().expect("runs lock").insert(run, token.clone());
        token
    }

    /// What a finished run calls to forget its token.
    fn finisher(&self) -> RunEnded {
        RunEnded(self.runs.clone())
    }

    /// The backend called `name`, as the registry has it now.
    fn backend(&self, name: &str) -> Option<Arc<dyn Backend>> {
        self.backends.read().expect("backends lock").get(name).cloned()
    }

    /// Sends one event; a closed channel means the console is leaving.
    async fn send(events: &mpsc::Sender<Event>, event: Event) {
        let _ = events.send(event).await;
    }
}

/// Forgets a run's token once the run is over.
#[derive(Debug, Clone)]
pub(crate) struct RunEnded(Arc<Mutex<HashMap<RunId, CancellationToken>>>);

impl RunEnded {
    pub(crate) fn ended(&self, run: RunId) {
        self.0.lock().expect("runs lock").remove(&run);
    }
}
