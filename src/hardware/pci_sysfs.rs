//! CPU and NUMA affinity of a GPU from the kernel's PCI device directory
//! (`/sys/bus/pci/devices/<bus id>/local_cpulist` and `numa_node`). `nvidia-smi topo -m`
//! prints this for NVIDIA; for AMD GPUs this is where it comes from.

use std::fs;
use std::path::Path;

use crate::model::gpu::Gpu;

pub const DEFAULT_PCI_ROOT: &str = "/sys/bus/pci/devices";

/// Fills `cpu_affinity` and `numa_node` where the tools left them unknown. Returns whether
/// anything was filled.
pub fn fill_affinity(root: &Path, gpus: &mut [Gpu]) -> bool {
    let mut changed = false;
    for gpu in gpus.iter_mut() {
        let Some(bus) = gpu.pci_bus_id.as_deref() else { continue };
        let mut dir = root.join(bus);
        // A compute partition's address carries its id in the function bits; the kernel's
        // directory is the physical function's.
        if !dir.exists()
            && let Some((device, _)) = bus.rsplit_once('.')
        {
            dir = root.join(format!("{device}.0"));
        }
        if gpu.cpu_affinity.is_none()
            && let Some(cpus) =
                read_trimmed(&dir.join("local_cpulist")).filter(|cpus| !cpus.is_empty())
        {
            gpu.cpu_affinity = Some(cpus);
            changed = true;
        }
        if gpu.numa_node.is_none() {
            // -1 means the platform did not say.
            if let Some(node) =
                read_trimmed(&dir.join("numa_node")).and_then(|n| n.parse::<u32>().ok())
            {
                gpu.numa_node = Some(node);
                changed = true;
            }
        }
    }
    changed
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|text| text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    #[test]
    fn reads_cpulist_and_ignores_unknown_numa() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("0000:0c:00.0");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("local_cpulist"), "0-47,96-143\n").expect("write");
        fs::write(dir.join("numa_node"), "-1\n").expect("write");
        let mut gpus = vec![Gpu::new(0, GpuVendor::Amd, "AMD Instinct MI300X")];
        gpus[0].pci_bus_id = Some("0000:0c:00.0".into());
        assert!(fill_affinity(root.path(), &mut gpus));
        assert_eq!(gpus[0].cpu_affinity.as_deref(), Some("0-47,96-143"));
        assert_eq!(gpus[0].numa_node, None);
    }
}
