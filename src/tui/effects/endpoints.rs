//! Endpoint effects: one task owns the `EndpointMonitor` (watch and unwatch arrive on a
//! channel, its updates leave as `Event::Endpoints`), and each playground stream and benchmark
//! runs on its own task, cancelled through its run's token.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::RunEnded;
use crate::engine::bench::{self, BenchConfig, BenchProgress};
use crate::engine::openai::{self, Api, PromptRequest, StreamEvent};
use crate::monitor::{EndpointMonitor, EndpointTarget, PollConfig};
use crate::tui::event::Event;
use crate::tui::features::endpoints::{EndpointCommand, EndpointEvent};

enum Control {
    Watch(EndpointTarget),
    Unwatch(String),
}

/// The monitor, built by the first watch; `Failed` after a build that failed (said once in
/// the log, as the console said it at start before; later watches are dropped).
enum Lazy {
    Unbuilt(mpsc::Sender<crate::model::EndpointUpdate>, PollConfig),
    Built(EndpointMonitor),
    Failed,
}

impl Lazy {
    async fn get(&mut self) -> Option<&mut EndpointMonitor> {
        if let Lazy::Unbuilt(updates, poll) = self {
            let (updates, poll) = (updates.clone(), poll.clone());
            let built = tokio::task::spawn_blocking(move || EndpointMonitor::new(updates, poll))
                .await
                .map_err(|err| err.to_string())
                .and_then(|built| built.map_err(|err| err.to_string()));
            *self = match built {
                Ok(monitor) => Lazy::Built(monitor),
                Err(err) => {
                    tracing::warn!("cannot start the endpoint monitor: {err}");
                    Lazy::Failed
                }
            };
        }
        match self {
            Lazy::Built(monitor) => Some(monitor),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct EndpointTasks {
    events: mpsc::Sender<Event>,
    control: mpsc::UnboundedSender<Control>,
    /// For playground streams and benchmarks: no overall timeout (an answer may take minutes;
    /// the stream reader has its own idle limit). Built by the first of them, on a worker:
    /// loading the system's TLS roots takes about 10 ms and 66 KB that a console which never
    /// opens the playground should not pay before its first frame.
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Watch(target) => write!(f, "Watch({})", target.id),
            Control::Unwatch(id) => write!(f, "Unwatch({id})"),
        }
    }
}

impl EndpointTasks {
    /// Starts the monitor task. Must run inside a Tokio runtime; stops when `cancel` fires.
    /// The monitor itself is built by the first watch, on the blocking pool: its client loads
    /// the system's TLS roots (about 10 ms here), which the first frame should not wait for
    /// and a console that watches nothing should not pay. Watches sent meanwhile queue.
    pub(super) fn spawn(
        events: mpsc::Sender<Event>,
        poll: PollConfig,
        cancel: CancellationToken,
    ) -> EndpointTasks {
        let (updates_tx, mut updates) = mpsc::channel(256);
        let (control, mut control_rx) = mpsc::unbounded_channel();
        let forward = events.clone();
        tokio::spawn(async move {
            let mut monitor = Lazy::Unbuilt(updates_tx, poll);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    message = control_rx.recv() => match message {
                        Some(Control::Watch(target)) => {
                            if let Some(monitor) = monitor.get().await {
                                monitor.watch(target);
                            }
                        }
                        Some(Control::Unwatch(id)) => {
                            if let Lazy::Built(monitor) = &mut monitor {
                                monitor.unwatch(&id);
                            }
                        }
                        None => break,
                    },
                    update = updates.recv() => match update {
                        Some(update) => {
                            let event = Event::Endpoints(EndpointEvent::Update(update));
                            if forward.send(event).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                }
            }
            // Dropping the monitor stops every poller.
            drop(monitor);
        });
        EndpointTasks { events, control, client: Arc::default() }
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|err| format!("cannot build the HTTP client: {err}"))
            })
            .clone()
    }

    /// Runs `command`; a prompt or benchmark stops when `cancel` fires and calls `ended`.
    pub(super) fn run(&self, command: EndpointCommand, cancel: CancellationToken, ended: RunEnded) {
        match command {
            EndpointCommand::Watch(target) => {
                let _ = self.control.send(Control::Watch(target));
            }
            EndpointCommand::Unwatch(id) => {
                let _ = self.control.send(Control::Unwatch(id));
            }
            EndpointCommand::Prompt { run, base_url, model, prompt } => {
                let request = PromptRequest {
                    base_url,
                    model,
                    prompt,
                    api: Api::Chat,
                    max_tokens: Some(512),
                    temperature: None,
                    ignore_eos: false,
                };
                let tasks = self.clone();
                tokio::spawn(async move {
                    let (tx, mut rx) = mpsc::channel::<StreamEvent>(256);
                    match tasks.client() {
                        Ok(client) => {
                            openai::spawn_stream(client, request, cancel, tx);
                        }
                        Err(err) => {
                            let _ = tx.send(StreamEvent::Failed(err)).await;
                            drop(tx);
                        }
                    }
                    while let Some(event) = rx.recv().await {
                        let event = Event::Endpoints(EndpointEvent::Stream { run, event });
                        if tasks.events.send(event).await.is_err() {
                            break;
                        }
                    }
                    ended.ended(run);
                });
            }
            EndpointCommand::Bench { run, mut urls, model, ask } => {
                // The state never sends an empty list; were it to, the run fails by name.
                let base_url = if urls.is_empty() { String::new() } else { urls.remove(0) };
                let config = BenchConfig {
                    base_url,
                    spread_over: urls,
                    model,
                    requests: ask.requests,
                    concurrency: ask.concurrency,
                    input_tokens: ask.input_tokens,
                    output_tokens: ask.output_tokens,
                    request_timeout: Duration::from_secs(120),
                    api: Api::Completions,
                    slos: Default::default(),
                };
                let tasks = self.clone();
                tokio::spawn(async move {
                    let result = tasks.bench(run, config, cancel).await;
                    ended.ended(run);
                    let event = Event::Endpoints(EndpointEvent::BenchDone { run, result });
                    let _ = tasks.events.send(event).await;
                });
            }
        }
    }

    /// One smoke benchmark, its progress relayed as events.
    async fn bench(
        &self,
        run: crate::tui::event::RunId,
        config: BenchConfig,
        cancel: CancellationToken,
    ) -> Result<crate::engine::bench::BenchReport, String> {
        let client = self.client()?;
        let (progress_tx, mut progress_rx) =
            watch::channel(BenchProgress { total: config.requests, ..BenchProgress::default() });
        let events = self.events.clone();
        // Only the latest progress matters: a watch channel folds bursts into one event.
        let relay = tokio::spawn(async move {
            while progress_rx.changed().await.is_ok() {
                let progress = *progress_rx.borrow_and_update();
                let event = Event::Endpoints(EndpointEvent::BenchProgress { run, progress });
                if events.send(event).await.is_err() {
                    break;
                }
            }
        });
        let result = bench::run(&client, &config, Some(progress_tx), cancel)
            .await
            .map_err(|err| err.to_string());
        let _ = relay.await;
        result
    }
}
