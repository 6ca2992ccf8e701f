//! A starting replica's phase from its log lines (vLLM and SGLang print the same milestones in
//! every release we have seen), so the console can say "loading, 1m12s" instead of "starting".
//! Phases only move forward: a late download progress line does not undo "warming up".

use serde::Serialize;

use crate::model::StartupPhase;

/// The phase a log line announces, if it announces one.
pub fn phase_of_line(line: &str) -> Option<StartupPhase> {
    // Ready first: the last line of a start mentions no other phase.
    const READY: &[&str] = &[
        "Uvicorn running on",
        "Application startup complete",
        "The server is fired up and ready to roll",
    ];
    const WARMING: &[&str] = &[
        "Capturing CUDA graph",
        "Capturing the model for CUDA graphs",
        "Capture cuda graph begin",
        "Capture cuda graph",
        "Memory profiling takes",
        "# GPU blocks:",
        "# cuda blocks:",
        "KV Cache is allocated",
        "Memory pool end",
        "torch.compile takes",
        "Dynamo bytecode transform time",
        "Graph capturing finished",
    ];
    const LOADING: &[&str] = &[
        "Starting to load model",
        "Loading safetensors checkpoint shards",
        "Loading weights took",
        "Loading model weights took",
        "Model loading took",
        "Load weight begin",
        "Load weight end",
        "Loading pt checkpoint shards",
    ];
    const DOWNLOADING: &[&str] = &["Downloading", "Fetching ", ".safetensors:", "Download"];
    let has = |needles: &[&str]| needles.iter().any(|n| line.contains(n));
    if has(READY) {
        Some(StartupPhase::Ready)
    } else if has(WARMING) {
        Some(StartupPhase::WarmingUp)
    } else if has(LOADING) {
        Some(StartupPhase::LoadingWeights)
    } else if has(DOWNLOADING) {
        Some(StartupPhase::DownloadingWeights)
    } else {
        None
    }
}

/// The current phase of one replica and when it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StartupTracker {
    pub phase: Option<StartupPhase>,
    pub since_unix_ms: i64,
}

impl StartupTracker {
    pub fn new(now_unix_ms: i64) -> Self {
        StartupTracker { phase: None, since_unix_ms: now_unix_ms }
    }

    /// Reads one log line; returns true when the phase moved on.
    pub fn observe_line(&mut self, line: &str, now_unix_ms: i64) -> bool {
        match phase_of_line(line) {
            Some(phase) => self.advance(phase, now_unix_ms),
            None => false,
        }
    }

    /// A phase known from elsewhere (the backend pulling the image, `/health` answering 200).
    pub fn advance(&mut self, phase: StartupPhase, now_unix_ms: i64) -> bool {
        if self.phase.is_some_and(|current| current >= phase) {
            return false;
        }
        self.phase = Some(phase);
        self.since_unix_ms = now_unix_ms;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_vllm_and_sglang_log_lines_name_their_phase() {
        use StartupPhase::*;
        // vLLM 0.6 (pytorch/serve#3343), 0.10+ (vllm#38820, gpustack#3098, gateway-api-inference-extension#550).
        let cases = [
            (
                "INFO 10-07 22:54:57 model_runner.py:1014] Starting to load model meta-llama/Llama-3.2-3B-Instruct...",
                LoadingWeights,
            ),
            (
                "Loading safetensors checkpoint shards:  56% Completed | 5/9 [00:13<00:11,  2.87s/it]",
                LoadingWeights,
            ),
            (
                "(Worker_TP0 pid=34322) INFO 05-06 20:59:57 [default_loader.py:384] Loading weights took 24.84 seconds",
                LoadingWeights,
            ),
            ("INFO 03-21 20:15:45 [worker.py:267] Memory profiling takes 34.26 seconds", WarmingUp),
            (
                "Capturing CUDA graphs (decode, FULL):  46%|████▌     | 16/35 [00:02<00:02,  8.85it/s]",
                WarmingUp,
            ),
            ("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", Ready),
            (
                "model-00001-of-00004.safetensors:  45%|████▌     | 2.24G/4.98G [00:31<00:38, 71.2MB/s]",
                DownloadingWeights,
            ),
            // SGLang scheduler and server lines.
            ("[2025-01-01 10:00:00 TP0] Load weight begin. avail mem=78.50 GB", LoadingWeights),
            (
                "[2025-01-01 10:00:30 TP0] Capture cuda graph begin. This can take up to several minutes.",
                WarmingUp,
            ),
            ("[2025-01-01 10:01:00] The server is fired up and ready to roll!", Ready),
        ];
        for (line, phase) in cases {
            assert_eq!(phase_of_line(line), Some(phase), "{line}");
        }
        assert_eq!(phase_of_line("INFO 10-07 api_server.py: vLLM API server version 0.6.2"), None);
    }

    #[test]
    fn phases_only_move_forward() {
        let mut tracker = StartupTracker::new(0);
        assert!(tracker.advance(StartupPhase::PullingImage, 10));
        assert!(tracker.observe_line("Loading weights took 3.0 seconds", 20));
        assert!(!tracker.observe_line("Downloading shards", 30));
        assert_eq!(
            (tracker.phase, tracker.since_unix_ms),
            (Some(StartupPhase::LoadingWeights), 20)
        );
        assert!(tracker.observe_line("INFO:     Uvicorn running on http://0.0.0.0:8000", 40));
    }
}
