//! The tasks that feed the event channel from outside: the terminal, the clock, signals.

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::tui::event::Event;

/// Reads the terminal with crossterm's async `EventStream`.
pub fn spawn_terminal_input(tx: mpsc::Sender<Event>) {
    tokio::spawn(async move {
        let mut stream = EventStream::new();
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(TermEvent::Key(key)) => Event::Key(key),
                Ok(TermEvent::Paste(text)) => Event::Paste(text),
                Ok(TermEvent::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(err) => {
                    // The terminal went away (an SSH session dropped without SIGHUP): leave.
                    tracing::warn!("terminal input failed: {err}");
                    Event::Shutdown("terminal input closed")
                }
            };
            let stop = matches!(event, Event::Shutdown(_));
            if tx.send(event).await.is_err() || stop {
                break;
            }
        }
    });
}

/// One tick a second for the clock and message expiry.
pub fn spawn_tick(tx: mpsc::Sender<Event>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if tx.send(Event::Tick(crate::tui::event::Now::read())).await.is_err() {
                break;
            }
        }
    });
}

/// SIGTERM, SIGHUP and SIGINT end the console through the normal path, so the terminal is
/// restored and logs are flushed.
pub fn spawn_signals(tx: mpsc::Sender<Event>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot install signal handlers");
            return;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
            _ = int.recv() => "SIGINT",
        };
        let _ = tx.send(Event::Shutdown(name)).await;
    });
}

/// GPU discovery every `interval`, forwarded as `Event::Gpus`. With `--demo` (its load given)
/// the recording is read instead, shaded by the demo's traffic.
pub fn spawn_gpu_poller(
    tx: mpsc::Sender<Event>,
    interval: Duration,
    demo: Option<crate::backend::demo_traffic::DemoLoad>,
    cancel: tokio_util::sync::CancellationToken,
) {
    use crate::monitor::gpu_poller::{self, GpuPollerConfig, SnapshotAdjust};
    let mut config = GpuPollerConfig { interval, ..GpuPollerConfig::default() };
    if let Some(load) = demo {
        config.probe = demo_probe();
        config.adjust =
            Some(SnapshotAdjust(std::sync::Arc::new(move |snapshot| load.shade(snapshot))));
    }
    let (_handle, mut updates) = gpu_poller::spawn(config, cancel);
    tokio::spawn(async move {
        while let Some(update) = updates.recv().await {
            if tx.send(Event::Gpus(update)).await.is_err() {
                break;
            }
        }
    });
}

/// `--demo` reads the recorded 8x MI300X machine (the same `amd-smi` recordings the tests use)
/// through the real discovery code, so the demo's GPUs view shows a real machine's shape.
fn demo_probe() -> crate::hardware::ProbeConfig {
    let machine = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpus/mi300x-8-amdsmi-gpu-data/bin");
    crate::hardware::ProbeConfig {
        amd_smi: machine.join("amd-smi"),
        nvidia_smi: "aimdeck-demo-absent-nvidia-smi".into(),
        rocm_smi: "aimdeck-demo-absent-rocm-smi".into(),
        kfd_root: "/nonexistent/aimdeck-demo".into(),
        proc_root: "/nonexistent/aimdeck-demo".into(),
        ..crate::hardware::ProbeConfig::default()
    }
}
