//! NVIDIA MIG devices from `nvidia-smi -L`, run only when a GPU reports `mig.mode.current`
//! Enabled. The tool prints each GPU and, indented under it, its MIG devices:
//! `GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-...)` then `  MIG 3g.40gb     Device  0: (UUID: MIG-...)`.

use crate::model::gpu::{Gpu, MigDevice};
use crate::model::gpu_health::mig_profile_memory;

pub const LIST_ARGS: [&str; 1] = ["-L"];

/// Attaches the MIG devices to their parent GPUs (matched by the parent's UUID, else index).
pub fn apply(gpus: &mut [Gpu], listing: &str) {
    let mut parent: Option<usize> = None;
    for line in listing.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("GPU ") {
            let index = rest.split(':').next().and_then(|i| i.trim().parse::<u32>().ok());
            let uuid = uuid_in(rest);
            parent = gpus
                .iter()
                .position(|g| uuid.is_some() && g.uuid.as_deref() == uuid)
                .or_else(|| gpus.iter().position(|g| Some(g.index) == index));
            if let Some(position) = parent {
                gpus[position].mig_devices.clear();
            }
            continue;
        }
        let (Some(rest), Some(position)) = (trimmed.strip_prefix("MIG "), parent) else { continue };
        let Some((profile, device)) = rest.split_once("Device") else { continue };
        let profile = profile.trim().to_string();
        let Some(number) =
            device.trim().split(':').next().and_then(|n| n.trim().parse::<u32>().ok())
        else {
            continue;
        };
        gpus[position].mig_devices.push(MigDevice {
            device: number,
            memory_bytes: mig_profile_memory(&profile),
            profile,
            uuid: uuid_in(device).map(str::to_string),
        });
    }
}

fn uuid_in(text: &str) -> Option<&str> {
    let start = text.find("(UUID: ")? + "(UUID: ".len();
    let end = text[start..].find(')')? + start;
    Some(text[start..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    #[test]
    fn mig_devices_hang_under_their_parent() {
        let mut gpus = vec![Gpu::new(0, GpuVendor::Nvidia, "NVIDIA A100-SXM4-80GB")];
        gpus[0].uuid = Some("GPU-aaaa".into());
        apply(
            &mut gpus,
            "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-aaaa)\n  MIG 3g.40gb     Device  0: (UUID: MIG-1111)\n  MIG 1g.10gb     Device  1: (UUID: MIG-2222)\n",
        );
        let devices = &gpus[0].mig_devices;
        assert_eq!(devices.len(), 2);
        assert_eq!(
            (devices[1].profile.as_str(), devices[1].uuid.as_deref()),
            ("1g.10gb", Some("MIG-2222"))
        );
        assert_eq!(devices[0].memory_bytes, Some(40_000_000_000));
    }
}
