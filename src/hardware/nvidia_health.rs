//! NVIDIA GPU health from two more `nvidia-smi` queries run beside the telemetry one:
//! `--query-gpu` with the ECC, page retirement, clock event (throttle) and PCIe link fields,
//! and `--query-remapped-rows` (Ampere and later). Field names are those `nvidia-smi
//! --help-query-gpu` / `--help-query-remapped-rows` list (driver 535+ renamed
//! `clocks_throttle_reasons.*` to `clocks_event_reasons.*`; the old names are the fallback).
//! `[N/A]`, `[Not Supported]` and friends are no reading, never zero.

use crate::model::gpu::{Gpu, HealthState};

use super::pci::normalize_bus_id;

/// The health fields, in the order the parser reads them; `{reasons}` is the clock event
/// prefix of the driver generation.
const HEALTH_FIELDS: [&str; 17] = [
    "index",
    "ecc.errors.corrected.volatile.total",
    "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.corrected.aggregate.total",
    "ecc.errors.uncorrected.aggregate.total",
    "retired_pages.pending",
    "{reasons}.hw_slowdown",
    "{reasons}.hw_thermal_slowdown",
    "{reasons}.sw_thermal_slowdown",
    "{reasons}.hw_power_brake_slowdown",
    "{reasons}.sw_power_cap",
    "pcie.link.gen.current",
    "pcie.link.gen.max",
    "pcie.link.width.current",
    "pcie.link.width.max",
    "mig.mode.current",
    // Not health: the SM clock for the endpoint detail's charts, read in the same run.
    "clocks.sm",
];

/// `clocks_event_reasons` (driver 535+), else `clocks_throttle_reasons`.
pub const REASON_PREFIXES: [&str; 2] = ["clocks_event_reasons", "clocks_throttle_reasons"];

/// More correctable errors than this since the driver loaded is a storm worth draining for.
pub const CORRECTABLE_STORM: f64 = 1000.0;

/// The `--query-gpu` arguments for the health read with one clock-reason prefix.
pub fn health_args(prefix: &str) -> Vec<String> {
    let fields: Vec<String> =
        HEALTH_FIELDS.iter().map(|f| f.replace("{reasons}", prefix)).collect();
    vec![format!("--query-gpu={}", fields.join(",")), "--format=csv,noheader,nounits".to_string()]
}

pub const REMAPPED_ROWS_ARGS: [&str; 2] = [
    "--query-remapped-rows=gpu_bus_id,remapped_rows.correctable,remapped_rows.uncorrectable,remapped_rows.pending,remapped_rows.failure",
    "--format=csv,noheader,nounits",
];

/// Reads the health CSV onto the GPUs with the same index. Returns warnings for lines that do
/// not fit.
pub fn apply_health_csv(gpus: &mut [Gpu], text: &str, prefix: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != HEALTH_FIELDS.len() {
            warnings.push(format!(
                "nvidia-smi health query: line {}: expected {} fields, found {}",
                number + 1,
                HEALTH_FIELDS.len(),
                fields.len()
            ));
            continue;
        }
        let Ok(index) = fields[0].parse::<u32>() else {
            warnings.push(format!(
                "nvidia-smi health query: line {}: index `{}` is not a number",
                number + 1,
                fields[0]
            ));
            continue;
        };
        let Some(gpu) = gpus.iter_mut().find(|g| g.index == index) else { continue };
        apply_fields(gpu, &fields, prefix);
    }
    warnings
}

fn apply_fields(gpu: &mut Gpu, fields: &[&str], prefix: &str) {
    gpu.clock_mhz = Some(fields[16]).filter(|v| !unavailable(v)).and_then(|v| v.parse().ok());
    let busy = gpu.utilization_percent;
    let health = &mut gpu.health;
    let mut reading = |position: usize| -> Option<String> {
        let name = HEALTH_FIELDS[position].replace("{reasons}", prefix);
        let value = fields[position];
        (!unavailable(value)).then(|| {
            health.counter(&name, value);
            value.to_string()
        })
    };
    let number = |value: &Option<String>| value.as_deref().and_then(|v| v.parse::<f64>().ok());
    let corrected_volatile = number(&reading(1));
    let uncorrected_volatile = number(&reading(2));
    let _corrected_aggregate = reading(3);
    let uncorrected_aggregate = number(&reading(4));
    let retire_pending = reading(5);
    let reasons: Vec<(Option<String>, &str, &str)> = [
        (6, "hw_slowdown", "HW slowdown (hardware asked the clocks down: power brake or overheat)"),
        (7, "hw_thermal_slowdown", "HW thermal slowdown"),
        (8, "sw_thermal_slowdown", "SW thermal slowdown"),
        (9, "hw_power_brake_slowdown", "HW power brake (the power supply asked the clocks down)"),
        (10, "sw_power_cap", "SW power cap (at the power limit)"),
    ]
    .into_iter()
    .map(|(position, code, what)| (reading(position), code, what))
    .collect();
    let gen_now = number(&reading(11));
    let gen_max = number(&reading(12));
    let width_now = number(&reading(13));
    let width_max = number(&reading(14));
    let mig = reading(15);

    if let Some(n) = uncorrected_volatile.filter(|n| *n > 0.0) {
        health.add(
            HealthState::Failed,
            "ecc_uncorrectable",
            format!("uncorrectable ECC errors since the driver loaded: {n:.0} (ecc.errors.uncorrected.volatile.total)"),
        );
    } else if let Some(n) = uncorrected_aggregate.filter(|n| *n > 0.0) {
        health.add(
            HealthState::Degraded,
            "ecc_uncorrectable_lifetime",
            format!("uncorrectable ECC errors in the GPU's lifetime: {n:.0} (ecc.errors.uncorrected.aggregate.total)"),
        );
    }
    if let Some(n) = corrected_volatile.filter(|n| *n > CORRECTABLE_STORM) {
        health.add(
            HealthState::Degraded,
            "ecc_correctable_storm",
            format!("correctable ECC errors since the driver loaded: {n:.0} > {CORRECTABLE_STORM:.0} (ecc.errors.corrected.volatile.total)"),
        );
    }
    if retire_pending.as_deref().is_some_and(is_yes) {
        health.add(
            HealthState::Degraded,
            "retired_pages_pending",
            "a page retirement is pending until the GPU is reset (retired_pages.pending Yes)",
        );
    }
    for (value, code, what) in reasons {
        if value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("Active")) {
            health.add(
                HealthState::Degraded,
                format!("throttle_{code}"),
                format!("throttling: {what} ({prefix}.{code} Active)"),
            );
        }
    }
    if let (Some(now), Some(max)) = (width_now, width_max)
        && now < max
    {
        health.add(
            HealthState::Degraded,
            "pcie_width_below_max",
            format!("PCIe link x{now:.0} of x{max:.0} (pcie.link.width.current/max)"),
        );
    }
    // The driver lowers the link generation of an idle GPU to save power.
    if let (Some(now), Some(max), Some(busy)) = (gen_now, gen_max, busy)
        && now < max
        && busy >= super::amd_health::BUSY_PERCENT
    {
        health.add(
            HealthState::Degraded,
            "pcie_gen_below_max",
            format!("PCIe Gen{now:.0} of Gen{max:.0} under load (pcie.link.gen.current/max)"),
        );
    }
    gpu.mig_enabled = mig.map(|m| m.eq_ignore_ascii_case("Enabled"));
    gpu.health.settle();
}

/// Reads `--query-remapped-rows` lines, matched to GPUs by bus id.
pub fn apply_remapped_rows(gpus: &mut [Gpu], text: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 5 {
            warnings.push(format!(
                "nvidia-smi --query-remapped-rows: line {}: expected 5 fields, found {}",
                number + 1,
                fields.len()
            ));
            continue;
        }
        let bus = normalize_bus_id(fields[0]);
        let Some(gpu) = gpus.iter_mut().find(|g| g.pci_bus_id.as_deref() == Some(bus.as_str()))
        else {
            continue;
        };
        let names = [
            "remapped_rows.correctable",
            "remapped_rows.uncorrectable",
            "remapped_rows.pending",
            "remapped_rows.failure",
        ];
        for (name, value) in names.iter().zip(&fields[1..]) {
            if !unavailable(value) {
                gpu.health.counter(name, *value);
            }
        }
        if !unavailable(fields[4]) && is_yes(fields[4]) {
            gpu.health.add(
                HealthState::Failed,
                "row_remap_failure",
                "row remapping failed: no spare rows left for a bad memory row (remapped_rows.failure)",
            );
        }
        if !unavailable(fields[3]) && is_yes(fields[3]) {
            gpu.health.add(
                HealthState::Degraded,
                "row_remap_pending",
                "a row remap is pending until the GPU is reset (remapped_rows.pending)",
            );
        }
        gpu.health.settle();
    }
    warnings
}

/// `Yes`, or a count above zero (`nounits` prints `1` on some drivers).
fn is_yes(value: &str) -> bool {
    value.eq_ignore_ascii_case("yes") || value.parse::<f64>().is_ok_and(|n| n > 0.0)
}

fn unavailable(field: &str) -> bool {
    field.is_empty() || field.starts_with('[') || field.eq_ignore_ascii_case("n/a")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    fn gpu(busy: f64) -> Vec<Gpu> {
        let mut gpu = Gpu::new(0, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3");
        gpu.pci_bus_id = Some("0000:18:00.0".into());
        gpu.utilization_percent = Some(busy);
        vec![gpu]
    }

    #[test]
    fn not_available_is_unknown_never_ok() {
        let mut gpus = gpu(0.0);
        let line = "0, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A]";
        assert!(apply_health_csv(&mut gpus, line, REASON_PREFIXES[0]).is_empty());
        assert_eq!(gpus[0].health.state, HealthState::Unknown);
        assert_eq!(gpus[0].mig_enabled, None);
        assert_eq!(gpus[0].clock_mhz, None, "no clock reading is no clock");
    }

    #[test]
    fn an_idle_link_at_a_lower_generation_is_power_saving_but_a_narrow_link_is_not() {
        let line = "0, 0, 0, 0, 0, No, Not Active, Not Active, Not Active, Not Active, Not Active, 1, 5, 16, 16, Disabled, 345";
        let mut idle = gpu(0.0);
        apply_health_csv(&mut idle, line, REASON_PREFIXES[0]);
        assert_eq!(idle[0].clock_mhz, Some(345.0), "the SM clock rides along");
        assert_eq!(idle[0].health.state, HealthState::Ok, "{:?}", idle[0].health.reasons);
        let mut busy = gpu(90.0);
        apply_health_csv(&mut busy, line, REASON_PREFIXES[0]);
        assert_eq!(busy[0].health.reasons[0].code, "pcie_gen_below_max");
        let narrow = line.replace(", 16, 16,", ", 8, 16,");
        let mut gpus = gpu(0.0);
        apply_health_csv(&mut gpus, &narrow, REASON_PREFIXES[0]);
        assert_eq!(gpus[0].health.state, HealthState::Degraded);
    }

    #[test]
    fn a_failed_row_remap_fails_the_gpu() {
        let mut gpus = gpu(0.0);
        apply_remapped_rows(&mut gpus, "00000000:18:00.0, 0, 512, 0, 1\n");
        assert_eq!(gpus[0].health.state, HealthState::Failed);
        assert_eq!(gpus[0].health.counters["remapped_rows.uncorrectable"], "512");
    }
}
