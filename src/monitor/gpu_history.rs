//! Per-GPU telemetry history for sparklines: one bounded ring per GPU index.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::gpu::GpuSnapshot;

use super::Ring;

/// One reading of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuSample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub utilization_percent: Option<f64>,
    pub memory_used_bytes: Option<u64>,
    pub temperature_c: Option<f64>,
    pub power_watts: Option<f64>,
    /// The graphics (SM) clock, MHz.
    pub clock_mhz: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct GpuHistory {
    capacity: usize,
    per_gpu: BTreeMap<u32, Ring<GpuSample>>,
}

impl GpuHistory {
    /// Keeps the newest `capacity` samples of each GPU.
    pub fn new(capacity: usize) -> Self {
        GpuHistory { capacity, per_gpu: BTreeMap::new() }
    }

    /// Appends one sample per GPU in the snapshot; GPUs that disappeared are forgotten.
    pub fn record(&mut self, snapshot: &GpuSnapshot, at_ms: u64) {
        self.per_gpu.retain(|index, _| snapshot.gpus.iter().any(|gpu| gpu.index == *index));
        for gpu in &snapshot.gpus {
            let ring = self.per_gpu.entry(gpu.index).or_insert_with(|| Ring::new(self.capacity));
            ring.push(GpuSample {
                at_ms,
                utilization_percent: gpu.utilization_percent,
                memory_used_bytes: gpu.memory_used_bytes,
                temperature_c: gpu.temperature_c,
                power_watts: gpu.power_watts,
                clock_mhz: gpu.clock_mhz,
            });
        }
    }

    pub fn samples(&self, index: u32) -> Option<&Ring<GpuSample>> {
        self.per_gpu.get(&index)
    }

    /// The newest `width` utilisation readings of a GPU as whole percents, oldest first, with
    /// unknown readings as 0: ready for `ratatui::widgets::Sparkline::data`.
    pub fn utilization_sparkline(&self, index: u32, width: usize) -> Vec<u64> {
        self.per_gpu
            .get(&index)
            .map(|ring| {
                ring.last_n(width)
                    .map(|s| {
                        s.utilization_percent
                            .map(|p| p.clamp(0.0, 100.0).round() as u64)
                            .unwrap_or(0)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{Gpu, GpuVendor};

    fn snapshot(utils: &[(u32, f64)]) -> GpuSnapshot {
        GpuSnapshot {
            gpus: utils
                .iter()
                .map(|&(index, util)| {
                    let mut gpu = Gpu::new(index, GpuVendor::Amd, "AMD Instinct MI300X");
                    gpu.utilization_percent = Some(util);
                    gpu
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn bounded_per_gpu_and_forgets_removed_gpus() {
        let mut history = GpuHistory::new(3);
        for step in 0..5u64 {
            history.record(&snapshot(&[(0, step as f64 * 10.0), (1, 99.6)]), step);
        }
        assert_eq!(history.utilization_sparkline(0, 10), vec![20, 30, 40]);
        assert_eq!(history.utilization_sparkline(1, 2), vec![100, 100]);
        history.record(&snapshot(&[(0, 50.0)]), 6);
        assert!(history.samples(1).is_none());
        assert_eq!(history.samples(0).map(|r| r.len()), Some(3));
    }
}
