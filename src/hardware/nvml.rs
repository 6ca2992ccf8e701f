//! NVIDIA GPUs through NVML (the library `nvidia-smi` itself uses), loaded at run time by
//! `nvml-wrapper`: no process per poll. Topology still comes from `nvidia-smi topo -m`, which
//! NVML only offers pair by pair.

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

use crate::model::gpu::{Gpu, GpuVendor};

use super::pci::normalize_bus_id;
use super::report::ProviderReport;

pub const SOURCE: &str = "nvml";

/// Reads every GPU. A reading the device does not support stays `None`.
pub fn read() -> Result<ProviderReport, String> {
    let nvml = Nvml::init().map_err(|err| format!("cannot load NVML: {err}"))?;
    let count = nvml.device_count().map_err(|err| format!("device count: {err}"))?;
    let mut report = ProviderReport { source: SOURCE.to_string(), ..Default::default() };
    for index in 0..count {
        let device = match nvml.device_by_index(index) {
            Ok(device) => device,
            Err(err) => {
                report.warnings.push(format!("nvml: GPU {index}: {err}"));
                continue;
            }
        };
        let name = device.name().unwrap_or_else(|_| "NVIDIA GPU".to_string());
        let mut gpu = Gpu::new(index, GpuVendor::Nvidia, name);
        gpu.uuid = device.uuid().ok();
        gpu.pci_bus_id = device.pci_info().ok().map(|pci| normalize_bus_id(&pci.bus_id));
        if let Ok(memory) = device.memory_info() {
            gpu.memory_total_bytes = Some(memory.total);
            gpu.memory_used_bytes = Some(memory.used);
        }
        gpu.utilization_percent = device.utilization_rates().ok().map(|u| f64::from(u.gpu));
        gpu.temperature_c = device.temperature(TemperatureSensor::Gpu).ok().map(f64::from);
        // NVML reports milliwatts.
        gpu.power_watts = device.power_usage().ok().map(|mw| f64::from(mw) / 1000.0);
        gpu.power_cap_watts = device.enforced_power_limit().ok().map(|mw| f64::from(mw) / 1000.0);
        report.gpus.push(gpu);
    }
    Ok(report)
}
