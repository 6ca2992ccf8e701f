//! Deployments in the console: the backends it drives, what they run (listed every 2 s), and
//! the actions on them: create (a form, then a review of the rendered config), scale, delete
//! (typed confirmation), restart, logs (follow, search, wrap) and the journal of every change.
//! Backends are the source of truth: the console keeps no state of its own about deployments.
//!
//! Everything that touches a backend runs as a `Command::Deploy` in a task and comes back as
//! `Event::Deploy`, so `App::update` never waits on Docker or a child process.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backend::journal::{self, Journal};
use crate::backend::{Backend, LogOptions};
use crate::model::gpu::GpuClaim;
use crate::model::{BackendEvent, Deployment, DeploymentSpec};

use super::event::{Command, Event};
use super::widgets::LogPane;

/// A list out longer than this marks its backend `slow` in the header.
pub const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// A backend handle that can travel in commands (`dyn Backend` is not `Debug`).
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

impl fmt::Debug for BackendHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Backend({})", self.0.name())
    }
}

#[derive(Debug, Clone)]
pub enum DeployCommand {
    List(BackendHandle),
    Create {
        backend: BackendHandle,
        spec: Box<DeploymentSpec>,
    },
    Scale {
        backend: BackendHandle,
        name: String,
        replicas: u32,
    },
    Delete {
        backend: BackendHandle,
        name: String,
    },
    Restart {
        backend: BackendHandle,
        name: String,
    },
    Logs {
        backend: BackendHandle,
        name: String,
        cancel: CancellationToken,
    },
    ReadJournal,
    StartDemo {
        state_dir: PathBuf,
    },
    /// Whether the engine has the image under review (bounded: 5 s).
    ImagePresence {
        backend: BackendHandle,
        image: String,
    },
}

#[derive(Debug)]
pub enum DeployEvent {
    Listed {
        backend: String,
        result: Result<Vec<Deployment>, String>,
    },
    Progress(BackendEvent),
    /// A create, scale, delete or restart finished. `deployment` names the deployment it was
    /// about (the demo's start is about several).
    Done {
        action: String,
        target: String,
        deployment: Option<String>,
        result: Result<(), String>,
    },
    LogLine {
        name: String,
        text: String,
    },
    LogEnded {
        name: String,
        error: Option<String>,
    },
    Journal(Result<Journal, String>),
    ImagePresence {
        image: String,
        result: Result<crate::backend::ImagePresence, String>,
    },
}

/// The logs pane of one deployment.
#[derive(Debug, Clone)]
pub struct LogsView {
    pub deployment: String,
    pub pane: LogPane,
    pub cancel: CancellationToken,
    /// Typing a search (`/` inside the logs).
    pub searching: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeployState {
    pub backends: Vec<BackendHandle>,
    /// The backend new deployments go to.
    pub active: String,
    /// Deployments by backend, as last listed.
    pub deployments: BTreeMap<String, Vec<Deployment>>,
    /// Backends whose last list failed, and why.
    pub errors: BTreeMap<String, String>,
    pub logs: Option<LogsView>,
    pub journal: Option<Journal>,
    /// Rollouts the console follows, by deployment name: shown on the rows until ready, or
    /// with the failure's cause until dismissed.
    pub rollouts: BTreeMap<String, super::rollout::Rollout>,
    pub state_dir: PathBuf,
    /// Backends with a list request in flight.
    pub listing: std::collections::BTreeSet<String>,
    /// When each in-flight list was sent: one out longer than [`SLOW_AFTER`] is `slow`.
    pub listing_since: BTreeMap<String, std::time::Instant>,
    /// Backends whose lists fail, since when (`HH:MM:SS`): their last rows stay, stale.
    pub unreachable_since: BTreeMap<String, String>,
    /// Deployments with a create, scale, delete or restart under way, and which: one at a time
    /// per deployment from this console (the backends' locks hold other processes off).
    pub in_flight: BTreeMap<String, &'static str>,
    /// The replica count last asked for, by deployment: `+`/`-` count from here, not from the
    /// listing, so `- -` from 3 ends at 1. Cleared by the first listing once nothing is queued.
    pub requested: BTreeMap<String, u32>,
    /// A scale asked for while another was under way: only the latest target is kept, and it
    /// runs when the current one finishes (three quick `+` make two scales, not three).
    pub queued_scale: BTreeMap<String, u32>,
    /// The create form's values while its recipe picker is open.
    pub draft: Option<super::create_form::FormValues>,
    /// The resolution shown in the create review, until it is created or left.
    pub review: Option<crate::ops::Resolution>,
}

impl DeployState {
    pub fn backend(&self, name: &str) -> Option<&BackendHandle> {
        self.backends.iter().find(|b| b.0.name() == name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.values().flatten()
    }

    pub fn find(&self, name: &str) -> Option<&Deployment> {
        self.all().find(|d| d.name == name)
    }

    /// What each replica holds, for the GPUs view's HELD BY column.
    pub fn gpu_claims(&self) -> Vec<GpuClaim> {
        self.all()
            .flat_map(|d| {
                d.replicas.iter().map(|r| GpuClaim {
                    deployment: d.name.clone(),
                    replica: r.index,
                    gpus: r.gpus.clone(),
                })
            })
            .filter(|claim| !claim.gpus.is_empty())
            .collect()
    }

    /// Models served by running deployments, for the cache view and its delete guard.
    pub fn model_holds(&self) -> Vec<crate::cache::ModelHold> {
        self.all()
            .map(|d| crate::cache::ModelHold {
                model: d.spec.model.clone(),
                deployment: d.name.clone(),
            })
            .collect()
    }

    /// `slow` or `unreachable since HH:MM:SS` for each backend not answering well, for the
    /// header; backends that answer are not named.
    pub fn backend_states(&self) -> Vec<(String, String)> {
        let mut states = Vec::new();
        for backend in &self.backends {
            let name = backend.0.name();
            if let Some(since) = self.unreachable_since.get(name) {
                states.push((name.to_string(), format!("unreachable since {since}")));
            } else if self.listing_since.get(name).is_some_and(|sent| sent.elapsed() >= SLOW_AFTER)
            {
                states.push((name.to_string(), "slow".to_string()));
            }
        }
        states
    }

    /// Commands that refresh the deployment lists, skipping backends whose last list has not
    /// answered yet, so a slow cluster never piles up requests.
    pub fn list_all(&mut self) -> Vec<Command> {
        let mut commands = Vec::new();
        for backend in &self.backends {
            if self.listing.insert(backend.0.name().to_string()) {
                self.listing_since.insert(backend.0.name().to_string(), std::time::Instant::now());
                commands.push(Command::Deploy(DeployCommand::List(backend.clone())));
            }
        }
        commands
    }
}

/// Runs one deploy command; results come back on `events`.
pub fn run(command: DeployCommand, events: mpsc::Sender<Event>) {
    let send = |events: mpsc::Sender<Event>, event: DeployEvent| async move {
        let _ = events.send(Event::Deploy(event)).await;
    };
    tokio::spawn(async move {
        match command {
            DeployCommand::List(backend) => {
                let result = backend.0.list().await.map_err(|e| e.to_string());
                send(events, DeployEvent::Listed { backend: backend.0.name().to_string(), result })
                    .await;
            }
            DeployCommand::Create { backend, spec } => {
                let (tx, forward) = progress_forwarder(events.clone());
                let result = backend.0.create(&spec, tx).await.map(|_| ());
                let _ = forward.await;
                finish(
                    &events,
                    &backend,
                    "deploy",
                    &spec.name,
                    format!("{} ({} replicas)", spec.name, spec.replicas),
                    result,
                )
                .await;
            }
            DeployCommand::Scale { backend, name, replicas } => {
                let (tx, forward) = progress_forwarder(events.clone());
                let result = backend.0.scale(&name, replicas, tx).await.map(|_| ());
                let _ = forward.await;
                finish(
                    &events,
                    &backend,
                    "scale",
                    &name,
                    format!("{name} -> {replicas} replicas"),
                    result,
                )
                .await;
            }
            DeployCommand::Delete { backend, name } => {
                let result = backend.0.delete(&name).await;
                finish(&events, &backend, "rm", &name, name.clone(), result).await;
            }
            DeployCommand::Restart { backend, name } => {
                // Done only once every replica answers again, not when the restart was sent.
                let (tx, forward) = progress_forwarder(events.clone());
                let result = async {
                    backend.0.restart(&name).await?;
                    crate::backend::rollout::wait_ready(
                        backend.0.as_ref(),
                        &name,
                        RESTART_READY_WAIT,
                        tx,
                    )
                    .await
                    .map(|_| ())
                }
                .await;
                let _ = forward.await;
                finish(&events, &backend, "restart", &name, name.clone(), result).await;
            }
            DeployCommand::Logs { backend, name, cancel } => {
                follow_logs(backend, name, cancel, events).await
            }
            DeployCommand::ReadJournal => {
                let dir = crate::paths::state_dir();
                let result = tokio::task::spawn_blocking(move || {
                    journal::read(&dir).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
                send(events, DeployEvent::Journal(result)).await;
            }
            DeployCommand::ImagePresence { backend, image } => {
                let result = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    backend.0.image_presence(&image),
                )
                .await
                {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(_) => Err("the engine did not answer within 5 s".to_string()),
                };
                send(events, DeployEvent::ImagePresence { image, result }).await;
            }
            DeployCommand::StartDemo { state_dir } => {
                let backend = crate::backend::demo::demo_backend(&state_dir);
                let sim = crate::backend::demo::sim_program();
                let result = crate::backend::demo::start_demo(&backend, &sim, 18_000)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                let event = DeployEvent::Done {
                    action: "demo".into(),
                    target: "demo deployments".into(),
                    deployment: None,
                    result,
                };
                send(events, event).await;
            }
        }
    });
}

/// Forwards a backend's rollout progress as events until the operation drops its sender.
fn progress_forwarder(
    events: mpsc::Sender<Event>,
) -> (crate::backend::ProgressTx, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<BackendEvent>();
    let task = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if events.send(Event::Deploy(DeployEvent::Progress(event))).await.is_err() {
                break;
            }
        }
    });
    (Some(tx), task)
}

/// Reports a finished action (the backend journaled it: `ops::journaled`).
async fn finish<E: fmt::Display>(
    events: &mpsc::Sender<Event>,
    backend: &BackendHandle,
    action: &str,
    deployment: &str,
    target: String,
    result: Result<(), E>,
) {
    let result = result.map_err(|e| e.to_string());
    let _ = events
        .send(Event::Deploy(DeployEvent::Done {
            action: action.to_string(),
            target,
            deployment: Some(deployment.to_string()),
            result,
        }))
        .await;
    // Whatever happened, show the backend's truth right away.
    let listed = backend.0.list().await.map_err(|e| e.to_string());
    let _ = events
        .send(Event::Deploy(DeployEvent::Listed {
            backend: backend.0.name().to_string(),
            result: listed,
        }))
        .await;
}

async fn follow_logs(
    backend: BackendHandle,
    name: String,
    cancel: CancellationToken,
    events: mpsc::Sender<Event>,
) {
    let options = LogOptions { replica: None, follow: true, tail: Some(500) };
    let stream = match backend.0.logs(&name, options).await {
        Ok(stream) => stream,
        Err(err) => {
            let _ = events
                .send(Event::Deploy(DeployEvent::LogEnded { name, error: Some(err.to_string()) }))
                .await;
            return;
        }
    };
    tokio::pin!(stream);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            line = stream.next() => match line {
                Some(Ok(line)) => {
                    let text = format!("[{}] {}", line.replica, line.text);
                    if events.send(Event::Deploy(DeployEvent::LogLine { name: name.clone(), text })).await.is_err() {
                        return;
                    }
                }
                Some(Err(err)) => {
                    let _ = events.send(Event::Deploy(DeployEvent::LogEnded { name, error: Some(err.to_string()) })).await;
                    return;
                }
                None => {
                    let _ = events.send(Event::Deploy(DeployEvent::LogEnded { name, error: None })).await;
                    return;
                }
            }
        }
    }
}

/// The console's bound on each Kubernetes call, `ls`'s: a wedged API server shows as
/// unreachable within 10 s of the listing that found it so.
pub const CONSOLE_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long the console's `r` waits for the restarted replicas to answer before it says the
/// restart failed.
pub const RESTART_READY_WAIT: std::time::Duration = std::time::Duration::from_secs(900);

/// The backends the console drives: the demo's process backend in `--demo`, otherwise Docker,
/// the process backend on this host's GPUs, and Kubernetes where a kubeconfig exists. Opened
/// from one `ops::BackendConfig` as the CLI opens them, each journaling its own changes.
pub fn open_backends(
    demo: bool,
    global: &super::ConsoleOptions,
    state_dir: &std::path::Path,
) -> (Vec<BackendHandle>, Vec<String>) {
    if demo {
        let backend: Arc<dyn Backend> =
            Arc::new(crate::backend::demo::demo_backend(&state_dir.join("demo")));
        let backend = crate::ops::journaled::Journaled::wrap(backend, state_dir);
        return (vec![BackendHandle(backend)], Vec::new());
    }
    let mut config = crate::ops::BackendConfig::new(state_dir);
    config.docker_host = global.docker_host.clone();
    // The console lists every 2 s: from watches, so a large namespace costs one stream.
    config.kube_watches = true;
    config.kubeconfig = global.kubeconfig.clone();
    config.context = global.context.clone();
    config.namespace = global.namespace.clone();
    config.kube_timeout = Some(CONSOLE_CALL_TIMEOUT);
    config.gpus = crate::backend::host_gpus::detect();
    let wants_kubernetes =
        crate::backend::registry::kubernetes_configured(global.kubeconfig.as_deref())
            || global.backend.as_deref() == Some("k8s");
    let (backends, warnings) = config.open_all(wants_kubernetes);
    (backends.into_iter().map(BackendHandle).collect(), warnings)
}
