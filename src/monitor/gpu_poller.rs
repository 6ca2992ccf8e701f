//! The GPU telemetry task: a discovery pass every interval (2 s by default), each tool under
//! its own deadline, the snapshot and the updated history sent over a bounded channel. The
//! console turns each update into an event; tool trouble arrives as the snapshot's warnings.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::hardware::{self, ProbeConfig};
use crate::model::gpu::GpuSnapshot;

use super::gpu_history::GpuHistory;

#[derive(Debug, Clone)]
pub struct GpuPollerConfig {
    pub probe: ProbeConfig,
    pub interval: Duration,
    /// Samples kept per GPU (120 at 2 s is four minutes).
    pub history_len: usize,
    /// Applied to each snapshot before it is recorded and sent: `--demo` makes its recorded
    /// GPUs follow the demo's load (`DemoLoad::shade`). `None` for real hardware.
    pub adjust: Option<SnapshotAdjust>,
}

/// A change made to every snapshot a poller takes (see `GpuPollerConfig::adjust`).
#[derive(Clone)]
pub struct SnapshotAdjust(pub Arc<dyn Fn(&mut GpuSnapshot) + Send + Sync>);

impl std::fmt::Debug for SnapshotAdjust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SnapshotAdjust(..)")
    }
}

impl Default for GpuPollerConfig {
    fn default() -> Self {
        GpuPollerConfig {
            probe: ProbeConfig::from_env(),
            interval: Duration::from_secs(2),
            history_len: 120,
            adjust: None,
        }
    }
}

/// What one pass produced.
#[derive(Debug, Clone)]
pub struct GpuUpdate {
    /// Counts from 1.
    pub pass: u64,
    pub snapshot: GpuSnapshot,
    pub history: GpuHistory,
    /// Wall time of the pass, tools included.
    pub took: Duration,
}

/// Starts the poller; it runs until `cancel` fires or the receiver is dropped. The first pass
/// starts at once.
pub fn spawn(
    config: GpuPollerConfig,
    cancel: CancellationToken,
) -> (JoinHandle<()>, mpsc::Receiver<Arc<GpuUpdate>>) {
    // Two slots: a slow console sees the latest update soon without a backlog building up.
    let (sender, receiver) = mpsc::channel(2);
    let handle = tokio::spawn(run(config, cancel, sender));
    (handle, receiver)
}

async fn run(
    config: GpuPollerConfig,
    cancel: CancellationToken,
    sender: mpsc::Sender<Arc<GpuUpdate>>,
) {
    let mut history = GpuHistory::new(config.history_len);
    let mut ticker = tokio::time::interval(config.interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pass = 0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let started = Instant::now();
        let mut snapshot = tokio::select! {
            _ = cancel.cancelled() => return,
            snapshot = hardware::discover(&config.probe) => snapshot,
        };
        if let Some(adjust) = &config.adjust {
            (adjust.0)(&mut snapshot);
        }
        pass += 1;
        history.record(&snapshot, now_ms());
        let update = Arc::new(GpuUpdate {
            pass,
            snapshot,
            history: history.clone(),
            took: started.elapsed(),
        });
        tokio::select! {
            _ = cancel.cancelled() => return,
            sent = sender.send(update) => if sent.is_err() { return },
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
