//! The Endpoints view's side of the task runner: one task owns the `EndpointMonitor` (watch and
//! unwatch arrive on a channel, its updates leave as `Event::Endpoints`), and each playground
//! stream and benchmark runs on its own task whose results come back as events.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::endpoint_flow::{EndpointCommand, EndpointEvent};
use super::event::Event;
use crate::engine::bench::{self, BenchConfig, BenchProgress};
use crate::engine::openai::{self, Api, PromptRequest, StreamEvent};
use crate::monitor::{EndpointMonitor, EndpointTarget, PollConfig};

enum Control {
    Watch(EndpointTarget),
    Unwatch(String),
}

#[derive(Debug, Clone)]
pub struct EndpointTasks {
    events: mpsc::Sender<Event>,
    control: mpsc::UnboundedSender<Control>,
    /// For playground streams and benchmarks: no overall timeout (an answer may take minutes;
    /// the stream reader has its own idle limit). Built by the first of them, on a worker:
    /// loading the system's TLS roots takes about 10 ms and 66 KB that a console which never
    /// opens the playground should not pay before its first frame.
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl EndpointTasks {
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
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Watch(target) => write!(f, "Watch({})", target.id),
            Control::Unwatch(id) => write!(f, "Unwatch({id})"),
        }
    }
}

/// Starts the monitor task. Must run inside a Tokio runtime; stops when `cancel` fires.
pub fn spawn(
    events: mpsc::Sender<Event>,
    poll: PollConfig,
    cancel: CancellationToken,
) -> Result<EndpointTasks, String> {
    let (updates_tx, mut updates) = mpsc::channel(256);
    let mut monitor = EndpointMonitor::new(updates_tx, poll)
        .map_err(|err| format!("cannot start the endpoint monitor: {err}"))?;
    let (control, mut control_rx) = mpsc::unbounded_channel();
    let forward = events.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                message = control_rx.recv() => match message {
                    Some(Control::Watch(target)) => monitor.watch(target),
                    Some(Control::Unwatch(id)) => monitor.unwatch(&id),
                    None => break,
                },
                update = updates.recv() => match update {
                    Some(update) => {
                        if forward.send(Event::Endpoints(EndpointEvent::Update(update))).await.is_err() {
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
    Ok(EndpointTasks { events, control, client: Arc::default() })
}

impl EndpointTasks {
    pub fn run(&self, command: EndpointCommand) {
        match command {
            EndpointCommand::Watch(target) => {
                let _ = self.control.send(Control::Watch(target));
            }
            EndpointCommand::Unwatch(id) => {
                let _ = self.control.send(Control::Unwatch(id));
            }
            EndpointCommand::Prompt { run, base_url, model, prompt, cancel } => {
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
                            openai::spawn_stream(client, request, cancel.0, tx);
                        }
                        Err(err) => {
                            let _ = tx.send(StreamEvent::Failed(err)).await;
                            drop(tx);
                        }
                    }
                    let events = tasks.events;
                    while let Some(event) = rx.recv().await {
                        if events
                            .send(Event::Endpoints(EndpointEvent::Stream { run, event }))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            EndpointCommand::Bench { run, base_url, model, ask, cancel } => {
                let config = BenchConfig {
                    base_url,
                    spread_over: Vec::new(),
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
                let events = self.events.clone();
                tokio::spawn(async move {
                    let client = match tasks.client() {
                        Ok(client) => client,
                        Err(err) => {
                            let _ = events
                                .send(Event::Endpoints(EndpointEvent::BenchDone {
                                    run,
                                    result: Err(err),
                                }))
                                .await;
                            return;
                        }
                    };
                    let (progress_tx, mut progress_rx) = watch::channel(BenchProgress {
                        total: config.requests,
                        ..BenchProgress::default()
                    });
                    let progress_events = events.clone();
                    // Only the latest progress matters: a watch channel folds bursts into one event.
                    let relay = tokio::spawn(async move {
                        while progress_rx.changed().await.is_ok() {
                            let progress = *progress_rx.borrow_and_update();
                            if progress_events
                                .send(Event::Endpoints(EndpointEvent::BenchProgress {
                                    run,
                                    progress,
                                }))
                                .await
                                .is_err()
                            {
                                break;
                            }
                        }
                    });
                    let result = bench::run(&client, &config, Some(progress_tx), cancel.0)
                        .await
                        .map_err(|err| err.to_string());
                    let _ = relay.await;
                    let _ = events
                        .send(Event::Endpoints(EndpointEvent::BenchDone { run, result }))
                        .await;
                });
            }
        }
    }
}
