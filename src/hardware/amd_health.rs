//! AMD GPU health from the documents discovery already reads: `amd-smi static --json` (`bus`
//! maximum PCIe link, `ras` block states, `partition`) and `amd-smi metric --json` (`ecc`,
//! `ecc_blocks`, `pcie`, `throttle`, `xgmi_err`). Key names follow ROCm/amdsmi
//! `amdsmi_cli/amdsmi_commands.py` (`static_gpu`, `metric_gpu`); `"N/A"` is no reading.

use serde_json::Value;

use crate::model::gpu::{Gpu, GpuPartition, HealthState};

use super::amd_values::{at, reading, text};

/// More correctable errors than this since the driver loaded is a storm worth draining for.
pub const CORRECTABLE_STORM: f64 = 1000.0;

/// Busy enough that a PCIe link below its maximum speed is a fault, not power saving.
pub const BUSY_PERCENT: f64 = 10.0;

/// Static facts: the maximum link (kept as counters for the metric pass), RAS block states and
/// the partition mode.
pub fn apply_static(gpu: &mut Gpu, entry: &Value) {
    if let Some(width) = at(entry, &["bus", "max_pcie_width"]).and_then(reading) {
        gpu.health.counter("bus.max_pcie_width", fmt(width));
    }
    if let Some(speed) = at(entry, &["bus", "max_pcie_speed"]).and_then(reading) {
        gpu.health.counter("bus.max_pcie_speed", format!("{} GT/s", fmt(speed)));
    }
    if let Some(Value::Object(blocks)) = at(entry, &["ras", "ecc_block_state"]) {
        for (block, state) in blocks {
            if let Some(state) = text(Some(state)) {
                gpu.health.counter(&format!("ras.ecc_block_state.{block}"), state);
            }
        }
    }
    if let Some(partition) = entry.get("partition") {
        let id = partition.get("partition_id").and_then(reading).map(|id| id as u32);
        let found = GpuPartition {
            compute: text(partition.get("compute_partition")),
            memory: text(partition.get("memory_partition")),
            partition_id: id,
            parent: None,
        };
        if found.compute.is_some() || found.memory.is_some() {
            gpu.partition = Some(found);
        }
    }
    gpu.health.settle();
}

/// Live readings and the verdict they give.
pub fn apply_metric(gpu: &mut Gpu, entry: &Value) {
    let utilization = gpu.utilization_percent;
    let health = &mut gpu.health;
    let count = |path: &[&str]| at(entry, path).and_then(reading);

    // Totals over every RAS block since the driver loaded.
    let uncorrectable = count(&["ecc", "total_uncorrectable_count"]);
    let correctable = count(&["ecc", "total_correctable_count"]);
    let deferred = count(&["ecc", "total_deferred_count"]);
    for (name, value) in [
        ("ecc.total_uncorrectable_count", uncorrectable),
        ("ecc.total_correctable_count", correctable),
        ("ecc.total_deferred_count", deferred),
    ] {
        if let Some(value) = value {
            health.counter(name, fmt(value));
        }
    }
    // Which blocks the errors are in (UMC is HBM, XGMI_WAFL the GPU-to-GPU links).
    let mut bad_blocks = Vec::new();
    if let Some(Value::Object(blocks)) = entry.get("ecc_blocks") {
        for (block, counts) in blocks {
            for key in ["correctable_count", "uncorrectable_count", "deferred_count"] {
                if let Some(value) = counts.get(key).and_then(reading) {
                    health.counter(&format!("ecc_blocks.{block}.{key}"), fmt(value));
                    if key == "uncorrectable_count" && value > 0.0 {
                        bad_blocks.push(format!("{block} {}", fmt(value)));
                    }
                }
            }
        }
    }
    let blocks = if bad_blocks.is_empty() {
        String::new()
    } else {
        format!("; blocks: {}", bad_blocks.join(", "))
    };
    if let Some(n) = uncorrectable.filter(|n| *n > 0.0) {
        health.add(
            HealthState::Failed,
            "ecc_uncorrectable",
            format!("uncorrectable ECC errors: {} (ecc.total_uncorrectable_count{blocks})", fmt(n)),
        );
    }
    if let Some(n) = deferred.filter(|n| *n > 0.0) {
        health.add(
            HealthState::Degraded,
            "ecc_deferred",
            format!("deferred (poisoned) ECC errors: {} (ecc.total_deferred_count)", fmt(n)),
        );
    }
    if let Some(n) = correctable.filter(|n| *n > CORRECTABLE_STORM) {
        health.add(
            HealthState::Degraded,
            "ecc_correctable_storm",
            format!(
                "correctable ECC errors: {} > {} (ecc.total_correctable_count)",
                fmt(n),
                fmt(CORRECTABLE_STORM)
            ),
        );
    }

    // Violation status per limiter, "ACTIVE" / "NOT ACTIVE" (MI300 and later).
    if let Some(Value::Object(throttle)) = entry.get("throttle") {
        for (key, what) in [
            ("prochot_violation_status", "processor hot (PROCHOT)"),
            ("ppt_violation_status", "package power tracking (power cap)"),
            ("socket_thermal_violation_status", "socket thermal limit"),
            ("vr_thermal_violation_status", "voltage regulator thermal limit"),
            ("hbm_thermal_violation_status", "HBM thermal limit"),
        ] {
            let Some(value) = throttle.get(key) else { continue };
            let states: Vec<String> = match value {
                Value::Array(items) => items.iter().filter_map(|v| text(Some(v))).collect(),
                other => text(Some(other)).into_iter().collect(),
            };
            if states.is_empty() {
                continue;
            }
            health.counter(&format!("throttle.{key}"), states.join(","));
            if states.iter().any(|s| s.eq_ignore_ascii_case("ACTIVE")) {
                let code = format!("throttle_{}", key.trim_end_matches("_violation_status"));
                health.add(
                    HealthState::Degraded,
                    code,
                    format!("throttling: {what} (throttle.{key} ACTIVE)"),
                );
            }
        }
    }

    if let Some(status) = text(entry.get("xgmi_err")) {
        health.counter("xgmi_err", status.clone());
        if status.contains("ERROR") && !status.contains("NO_ERRORS") {
            health.add(
                HealthState::Degraded,
                "xgmi_errors",
                format!("XGMI link errors ({status})"),
            );
        }
    }

    let width = count(&["pcie", "width"]);
    let speed = count(&["pcie", "speed"]);
    if let Some(width) = width {
        health.counter("pcie.width", fmt(width));
    }
    if let Some(speed) = speed {
        health.counter("pcie.speed", format!("{} GT/s", fmt(speed)));
    }
    let max_width = health.counters.get("bus.max_pcie_width").and_then(|v| v.parse::<f64>().ok());
    let max_speed = health
        .counters
        .get("bus.max_pcie_speed")
        .and_then(|v| super::amd_values::leading_number(v));
    if let (Some(now), Some(max)) = (width, max_width)
        && now < max
    {
        health.add(
            HealthState::Degraded,
            "pcie_width_below_max",
            format!("PCIe link x{} of x{} (pcie.width, bus.max_pcie_width)", fmt(now), fmt(max)),
        );
    }
    // An idle link drops its speed to save power; below maximum only counts under load.
    if let (Some(now), Some(max), Some(busy)) = (speed, max_speed, utilization)
        && now < max
        && busy >= BUSY_PERCENT
    {
        health.add(
            HealthState::Degraded,
            "pcie_speed_below_max",
            format!(
                "PCIe link at {} of {} GT/s under load (pcie.speed, bus.max_pcie_speed)",
                fmt(now),
                fmt(max)
            ),
        );
    }
    health.settle();
}

fn fmt(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value}") }
}
