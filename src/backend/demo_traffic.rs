//! `--demo` traffic: synthetic requests to the demo's engines so every chart moves. Each demo
//! deployment gets its own shape of load, as an operator sees in production:
//! - `llama-8b`: bursts (a quiet trickle, then 10 s of many requests every 30 s);
//! - `qwen-small`: a slow ramp up and down over four minutes, spread over its two replicas;
//! - `llama-70b`: a steady load with a preemption storm every 90 s (long generations against
//!   the small KV cache the demo gives it, so the engine preempts and the counter moves).
//!
//! The shapes are pure functions of the time since the demo started (tested below); `drive`
//! keeps that many requests in flight until it is cancelled. It only ever talks to the demo's
//! own engines on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::openai::{self, Api, PromptRequest};
use crate::model::gpu::{Gpu, GpuSnapshot};

/// How often the in-flight counts are brought to the shape.
const STEP: Duration = Duration::from_millis(250);
/// A request that has not streamed a token for this long is given up.
const REQUEST_IDLE: Duration = Duration::from_secs(30);

/// The load one deployment gets at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Requests to keep in flight.
    pub in_flight: u32,
    /// Tokens each new request asks for.
    pub max_tokens: u64,
}

/// The demo's load on `deployment`, `t` after the demo began. Unknown names get none.
pub fn load_at(deployment: &str, t: Duration) -> Load {
    let s = t.as_secs_f64();
    match deployment {
        "llama-8b" => {
            let bursting = s % 30.0 < 10.0;
            Load { in_flight: if bursting { 12 } else { 1 }, max_tokens: 96 }
        }
        "qwen-small" => {
            // A triangle: 0 at the start of each 240 s period, 8 in its middle.
            let phase = (s % 240.0) / 240.0;
            let level = 1.0 - (2.0 * phase - 1.0).abs();
            Load { in_flight: (level * 8.0).round() as u32, max_tokens: 64 }
        }
        "llama-70b" => {
            let storming = s % 90.0 >= 60.0 && s % 90.0 < 75.0;
            if storming {
                Load { in_flight: 24, max_tokens: 1024 }
            } else {
                Load { in_flight: 2, max_tokens: 128 }
            }
        }
        _ => Load { in_flight: 0, max_tokens: 0 },
    }
}

/// One demo deployment to load: its name (which picks its shape), model and replicas' URLs.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub deployment: String,
    pub model: String,
    pub urls: Vec<String>,
}

/// Each demo deployment and the GPU indices its replicas hold.
type Holders = Vec<(String, Vec<u32>)>;

/// Requests in flight per demo deployment, as `drive` keeps them, and which GPUs each
/// deployment holds: the demo's GPU recording reads both (`shade`) so the GPUs' utilisation,
/// memory and power follow the engines' load. Shared by the traffic task (writer) and the GPU
/// poller (reader).
#[derive(Debug, Clone, Default)]
pub struct DemoLoad {
    in_flight: Arc<Mutex<BTreeMap<String, u32>>>,
    holders: Arc<Mutex<Holders>>,
}

impl DemoLoad {
    pub fn in_flight(&self, deployment: &str) -> u32 {
        self.in_flight.lock().map(|m| m.get(deployment).copied().unwrap_or(0)).unwrap_or(0)
    }

    fn set(&self, deployment: &str, n: u32) {
        if let Ok(mut m) = self.in_flight.lock() {
            m.insert(deployment.to_string(), n);
        }
    }

    /// Which GPUs each demo deployment's replicas hold, as the backend placed them.
    pub fn set_holders(&self, deployments: &[crate::model::Deployment]) {
        let holders = deployments
            .iter()
            .map(|d| (d.name.clone(), d.replicas.iter().flat_map(|r| r.gpus.clone()).collect()))
            .collect();
        if let Ok(mut h) = self.holders.lock() {
            *h = holders;
        }
    }

    /// The recorded snapshot as the demo's load would make it, named as a recording (the
    /// footer then says `source: recording`, not the tool the recording came from).
    pub fn shade(&self, snapshot: &mut GpuSnapshot) {
        let holders = self.holders.lock().map(|h| h.clone()).unwrap_or_default();
        shade_gpus(&mut snapshot.gpus, &holders, self);
        snapshot.sources = vec!["recording".to_string()];
    }
}

/// The recorded GPUs as the load would make them: each GPU held by a demo deployment (its
/// `gpus`) gets utilisation, memory and power from that deployment's requests in flight;
/// GPUs nobody holds idle. `holders` are (deployment, GPU indices).
pub fn shade_gpus(gpus: &mut [Gpu], holders: &[(String, Vec<u32>)], load: &DemoLoad) {
    for gpu in gpus.iter_mut() {
        let holder = holders.iter().find(|(_, held)| held.contains(&gpu.index));
        let busy = holder.map(|(name, _)| load.in_flight(name)).unwrap_or(0) as f64;
        let utilisation = if holder.is_some() { (15.0 + busy * 7.0).min(100.0) } else { 0.0 };
        gpu.utilization_percent = Some(utilisation);
        if let Some(total) = gpu.memory_total_bytes {
            // An engine takes most of the memory at start (weights + the KV cache it reserves,
            // as vLLM's --gpu-memory-utilization does); load adds activations on top.
            let share = if holder.is_some() { 0.82 + (busy * 0.005).min(0.08) } else { 0.002 };
            gpu.memory_used_bytes = Some((total as f64 * share) as u64);
        }
        let cap = gpu.power_cap_watts.unwrap_or(750.0);
        gpu.power_watts = Some((cap * (0.18 + 0.72 * utilisation / 100.0)).round());
    }
}

/// Keeps each target at its shape until `cancel`; requests go round-robin over its URLs.
/// Failures are expected now and then (a replica restarting) and are simply not counted.
pub async fn drive(
    client: reqwest::Client,
    targets: Vec<Target>,
    load: DemoLoad,
    cancel: CancellationToken,
) {
    drive_from(client, targets, load, Duration::ZERO, cancel).await
}

/// `drive` as if the demo had begun `offset` ago (a test starts in a storm).
pub async fn drive_from(
    client: reqwest::Client,
    targets: Vec<Target>,
    load: DemoLoad,
    offset: Duration,
    cancel: CancellationToken,
) {
    let started = Instant::now().checked_sub(offset).unwrap_or_else(Instant::now);
    let in_flight: Vec<Arc<AtomicU32>> =
        targets.iter().map(|_| Arc::new(AtomicU32::new(0))).collect();
    let mut sent: u64 = 0;
    while !cancel.is_cancelled() {
        for (target, flying) in targets.iter().zip(&in_flight) {
            if target.urls.is_empty() {
                continue;
            }
            let shape = load_at(&target.deployment, started.elapsed());
            while flying.load(Ordering::Relaxed) < shape.in_flight {
                flying.fetch_add(1, Ordering::Relaxed);
                let request = PromptRequest {
                    base_url: target.urls[(sent % target.urls.len() as u64) as usize].clone(),
                    model: target.model.clone(),
                    prompt: crate::engine::bench::prompt_of(48, sent),
                    api: Api::Completions,
                    max_tokens: Some(shape.max_tokens),
                    temperature: Some(0.7),
                    ignore_eos: true,
                };
                sent += 1;
                let (client, cancel, flying) = (client.clone(), cancel.clone(), flying.clone());
                tokio::spawn(async move {
                    let sent =
                        openai::stream(&client, &request, &cancel, REQUEST_IDLE, |_, _| {}).await;
                    if sent.is_err() {
                        // An engine still starting (or restarting): wait before the next try
                        // rather than spin on refused connections.
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                    flying.fetch_sub(1, Ordering::Relaxed);
                });
            }
            load.set(&target.deployment, flying.load(Ordering::Relaxed));
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(STEP) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(deployment: &str, s: u64) -> Load {
        load_at(deployment, Duration::from_secs(s))
    }

    #[test]
    fn bursts_come_every_30_s_for_10_s() {
        assert_eq!(at("llama-8b", 0).in_flight, 12);
        assert_eq!(at("llama-8b", 9).in_flight, 12);
        assert_eq!(at("llama-8b", 10).in_flight, 1);
        assert_eq!(at("llama-8b", 29).in_flight, 1);
        assert_eq!(at("llama-8b", 30).in_flight, 12);
    }

    #[test]
    fn the_ramp_rises_and_falls_over_four_minutes() {
        let levels: Vec<u32> = (0..=8).map(|i| at("qwen-small", i * 30).in_flight).collect();
        assert_eq!(levels, vec![0, 2, 4, 6, 8, 6, 4, 2, 0]);
    }

    #[test]
    fn a_storm_of_long_requests_comes_every_90_s() {
        assert_eq!(at("llama-70b", 10), Load { in_flight: 2, max_tokens: 128 });
        assert_eq!(at("llama-70b", 60), Load { in_flight: 24, max_tokens: 1024 });
        assert_eq!(at("llama-70b", 74).in_flight, 24);
        assert_eq!(at("llama-70b", 75).in_flight, 2);
        assert_eq!(at("llama-70b", 150).in_flight, 24);
        assert_eq!(at("someone-else", 60).in_flight, 0);
    }

    fn recorded_gpu(index: u32) -> Gpu {
        Gpu {
            memory_total_bytes: Some(192 << 30),
            utilization_percent: Some(0.0),
            memory_used_bytes: Some(0),
            power_cap_watts: Some(750.0),
            ..Gpu::new(index, crate::model::GpuVendor::Amd, "AMD Instinct MI300X")
        }
    }

    #[test]
    fn held_gpus_follow_their_deployments_load_and_the_source_is_the_recording() {
        let load = DemoLoad::default();
        if let Ok(mut h) = load.holders.lock() {
            *h = vec![("llama-8b".to_string(), vec![0, 1])];
        }
        let mut snapshot = GpuSnapshot {
            gpus: (0..3).map(recorded_gpu).collect(),
            sources: vec!["amd-smi".to_string()],
            ..GpuSnapshot::default()
        };
        load.set("llama-8b", 1);
        load.shade(&mut snapshot);
        let quiet = snapshot.gpus[0].utilization_percent.unwrap_or(0.0);
        load.set("llama-8b", 12);
        load.shade(&mut snapshot);
        let busy = snapshot.gpus[0].utilization_percent.unwrap_or(0.0);
        assert!(busy > quiet && quiet > 0.0, "busy {busy} quiet {quiet}");
        assert_eq!(snapshot.gpus[1].utilization_percent, snapshot.gpus[0].utilization_percent);
        assert!(snapshot.gpus[0].memory_used_bytes.unwrap_or(0) > 150 << 30);
        // GPU 2 is held by nobody: idle, nearly empty.
        assert_eq!(snapshot.gpus[2].utilization_percent, Some(0.0));
        assert!(snapshot.gpus[2].memory_used_bytes.unwrap_or(u64::MAX) < 1 << 30);
        assert_eq!(snapshot.sources, vec!["recording".to_string()]);
    }
}
