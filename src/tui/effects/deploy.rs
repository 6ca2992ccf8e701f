//! Deploy effects: every call on a deployment backend (list, create, scale, delete, restart,
//! logs, image presence, render), the journal and the demo. Results come back as
//! `Event::Deploy`.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Effects;
use crate::backend::{AllocatableGpu, Backend, LogOptions};
use crate::model::{BackendEvent, DeploymentSpec};
use crate::tui::event::Event;
use crate::tui::features::deploy::{DeployCommand, DeployEvent};

/// How long the console's `r` waits for the restarted replicas to answer before it says the
/// restart failed.
pub const RESTART_READY_WAIT: std::time::Duration = std::time::Duration::from_secs(900);

impl Effects {
    /// Finds this host's GPUs (`host_gpus::detect`: KFD sysfs, else `nvidia-smi`) on the
    /// blocking pool and hands them to every backend, as `open_backends` did before the first
    /// frame; creates, scales and renders wait for it, so they place exactly as before. Must
    /// run inside a Tokio runtime, before the runner is cloned.
    pub fn with_host_gpus(mut self) -> Effects {
        let (known, host_gpus) = tokio::sync::watch::channel(false);
        self.host_gpus = host_gpus;
        let backends = self.backends.clone();
        tokio::spawn(async move {
            let gpus = tokio::task::spawn_blocking(crate::backend::host_gpus::detect)
                .await
                .unwrap_or_default();
            for backend in backends.read().expect("backends lock").all() {
                backend.place_on(gpus.clone());
            }
            let _ = known.send(true);
        });
        self
    }

    /// Waits until the backends have the host's GPUs (at once without `with_host_gpus`).
    async fn host_gpus_known(&self) {
        let mut known = self.host_gpus.clone();
        // An error means the detection task is gone: place with what the backends have.
        let _ = known.wait_for(|known| *known).await;
    }

    pub(super) fn deploy(&self, command: DeployCommand) {
        let events = self.events.clone();
        if let DeployCommand::Logs { run, .. } = &command {
            let run = *run;
            let cancel = self.start_run(run);
            let ended = self.finisher();
            let DeployCommand::Logs { backend, name, .. } = command else { return };
            let backend = self.backend(&backend).ok_or(backend);
            tokio::spawn(async move {
                follow_logs(backend, name, cancel, events).await;
                ended.ended(run);
            });
            return;
        }
        let runner = self.clone();
        tokio::spawn(async move { runner.deploy_now(command).await });
    }

    async fn deploy_now(&self, command: DeployCommand) {
        let events = &self.events;
        let send = |event: DeployEvent| Effects::send(events, Event::Deploy(event));
        let open =
            |name: &str| self.backend(name).ok_or_else(|| format!("backend {name} is not open"));
        match command {
            DeployCommand::List { backend } => {
                let result = match open(&backend) {
                    Ok(handle) => handle.list().await.map_err(|e| e.to_string()),
                    Err(err) => Err(err),
                };
                send(DeployEvent::Listed { backend, result }).await;
            }
            DeployCommand::Create { backend, spec, place_on } => {
                let target = format!("{} ({} replicas)", spec.name, spec.replicas);
                let result = match open(&backend) {
                    Ok(handle) => {
                        self.host_gpus_known().await;
                        place(&*handle, place_on);
                        let (tx, forward) = progress_forwarder(events.clone());
                        let result = handle.create(&spec, tx).await.map(|_| ());
                        let _ = forward.await;
                        result.map_err(|e| e.to_string())
                    }
                    Err(err) => Err(err),
                };
                self.finish(&backend, "deploy", &spec.name, target, result).await;
            }
            DeployCommand::Scale { backend, name, replicas, place_on } => {
                let result = match open(&backend) {
                    Ok(handle) => {
                        self.host_gpus_known().await;
                        place(&*handle, place_on);
                        let (tx, forward) = progress_forwarder(events.clone());
                        let result = handle.scale(&name, replicas, tx).await.map(|_| ());
                        let _ = forward.await;
                        result.map_err(|e| e.to_string())
                    }
                    Err(err) => Err(err),
                };
                let target = format!("{name} -> {replicas} replicas");
                self.finish(&backend, "scale", &name, target, result).await;
            }
            DeployCommand::Delete { backend, name } => {
                let result = match open(&backend) {
                    Ok(handle) => handle.delete(&name).await.map_err(|e| e.to_string()),
                    Err(err) => Err(err),
                };
                self.finish(&backend, "rm", &name, name.clone(), result).await;
            }
            DeployCommand::Restart { backend, name } => {
                // Done only once every replica answers again, not when the restart was sent.
                let result = match open(&backend) {
                    Ok(handle) => {
                        let (tx, forward) = progress_forwarder(events.clone());
                        let result = async {
                            handle.restart(&name).await?;
                            crate::backend::rollout::wait_ready(
                                handle.as_ref(),
                                &name,
                                RESTART_READY_WAIT,
                                tx,
                            )
                            .await
                            .map(|_| ())
                        }
                        .await;
                        let _ = forward.await;
                        result.map_err(|e| e.to_string())
                    }
                    Err(err) => Err(err),
                };
                self.finish(&backend, "restart", &name, name.clone(), result).await;
            }
            // Started by `deploy` with its run's token.
            DeployCommand::Logs { .. } => {}
            DeployCommand::ReadJournal => {
                let dir = crate::paths::state_dir();
                let result = tokio::task::spawn_blocking(move || {
                    crate::backend::journal::read(&dir).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
                send(DeployEvent::Journal(result)).await;
            }
            DeployCommand::ImagePresence { backend, image } => {
                let result = match open(&backend) {
                    Ok(handle) => match tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        handle.image_presence(&image),
                    )
                    .await
                    {
                        Ok(result) => result.map_err(|e| e.to_string()),
                        Err(_) => Err("the engine did not answer within 5 s".to_string()),
                    },
                    Err(err) => Err(err),
                };
                send(DeployEvent::ImagePresence { image, result }).await;
            }
            DeployCommand::Render { backend, spec, create, header } => {
                let handle = open(&backend);
                self.host_gpus_known().await;
                // `render` reads the state dir, /proc and token files: off the async workers.
                let event = tokio::task::spawn_blocking(move || match handle {
                    Ok(handle) => render(handle.as_ref(), spec, create, header),
                    Err(err) => {
                        DeployEvent::Rendered { backend, spec, create, header, result: Err(err) }
                    }
                })
                .await;
                if let Ok(event) = event {
                    send(event).await;
                }
            }
            DeployCommand::StartDemo { state_dir, base_port } => {
                use crate::backend::{demo, demo_traffic};
                let backend = demo::demo_backend(&state_dir);
                let sim = demo::sim_program();
                let started = match demo::choose_base_port(base_port) {
                    Ok(ports) => demo::start_demo(&backend, &sim, ports.base)
                        .await
                        .map(|deployments| (deployments, ports)),
                    Err(err) => Err(err),
                };
                let result = started.map(|(deployments, ports)| {
                    // Synthetic traffic so every chart moves, until the console stops; the
                    // base's claim is held as long (another demo keeps off these ports).
                    let targets = demo::traffic_targets(&deployments);
                    let load = self.demo_load().unwrap_or_default();
                    load.set_holders(&deployments);
                    let traffic =
                        demo_traffic::drive(reqwest::Client::new(), targets, load, self.stopped());
                    tokio::spawn(async move {
                        let _claim = ports;
                        traffic.await
                    });
                });
                let result = result.map_err(|e| e.to_string());
                send(DeployEvent::Done {
                    action: "demo".into(),
                    target: "demo deployments".into(),
                    deployment: None,
                    result,
                })
                .await;
            }
        }
    }

    /// Reports a finished action (the backend journaled it: `ops::journaled`), then lists the
    /// backend: whatever happened, the console shows the backend's truth right away.
    async fn finish(
        &self,
        backend: &str,
        action: &str,
        deployment: &str,
        target: String,
        result: Result<(), String>,
    ) {
        let done = DeployEvent::Done {
            action: action.to_string(),
            target,
            deployment: Some(deployment.to_string()),
            result,
        };
        Effects::send(&self.events, Event::Deploy(done)).await;
        if let Some(handle) = self.backend(backend) {
            let result = handle.list().await.map_err(|e| e.to_string());
            let listed = DeployEvent::Listed { backend: backend.to_string(), result };
            Effects::send(&self.events, Event::Deploy(listed)).await;
        }
    }
}

/// What `backend` would create for `spec`, secrets redacted, as the lines of the review. Sync
/// and blocking (the backend reads its state): the runner calls it on the blocking pool, and
/// tests that drive `App` without a runtime call it directly.
pub fn render(
    backend: &dyn Backend,
    spec: Box<DeploymentSpec>,
    create: bool,
    header: Vec<String>,
) -> DeployEvent {
    let result = backend
        .render(&spec)
        .map(|rendered| {
            serde_json::to_string_pretty(&rendered)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        })
        .map_err(|err| err.to_string());
    DeployEvent::Rendered { backend: backend.name().to_string(), spec, create, header, result }
}

/// Hands the backend the GPUs the console saw, so it places where `aimdeck deploy` would.
fn place(backend: &dyn Backend, gpus: Option<Vec<AllocatableGpu>>) {
    if let Some(gpus) = gpus {
        backend.place_on(gpus);
    }
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

/// Follows a deployment's logs until the stream ends or the run is cancelled.
async fn follow_logs(
    backend: Result<Arc<dyn Backend>, String>,
    name: String,
    cancel: CancellationToken,
    events: mpsc::Sender<Event>,
) {
    let ended = |name: String, error: Option<String>| {
        let events = events.clone();
        async move {
            let _ = events.send(Event::Deploy(DeployEvent::LogEnded { name, error })).await;
        }
    };
    let backend = match backend {
        Ok(backend) => backend,
        Err(missing) => return ended(name, Some(format!("backend {missing} is not open"))).await,
    };
    let options = LogOptions { replica: None, follow: true, tail: Some(500) };
    let stream = match backend.logs(&name, options).await {
        Ok(stream) => stream,
        Err(err) => return ended(name, Some(err.to_string())).await,
    };
    tokio::pin!(stream);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            line = stream.next() => match line {
                Some(Ok(line)) => {
                    let text = format!("[{}] {}", line.replica, line.text);
                    let event = Event::Deploy(DeployEvent::LogLine { name: name.clone(), text });
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
                Some(Err(err)) => return ended(name, Some(err.to_string())).await,
                None => return ended(name, None).await,
            }
        }
    }
}
