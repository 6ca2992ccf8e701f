//! A remote Kubernetes node's GPUs from what the API server knows: the device plugins' node
//! labels and the `nvidia.com/gpu` / `amd.com/gpu` resources. The Kubernetes backend reads
//! the node and its pods; this turns them into a `NodeInventory`.

use std::collections::BTreeMap;

use crate::model::gpu::{GpuVendor, NodeInventory};

pub const NVIDIA_RESOURCE: &str = "nvidia.com/gpu";
pub const AMD_RESOURCE: &str = "amd.com/gpu";

/// `allocatable` and `allocated` are the node's `status.allocatable` count of the vendor's
/// GPU resource and the sum of the GPU requests of the pods bound to it.
pub fn node_inventory(
    node_name: &str,
    labels: &BTreeMap<String, String>,
    vendor: Option<GpuVendor>,
    allocatable: u32,
    allocated: u32,
) -> NodeInventory {
    let label = |keys: &[&str]| {
        keys.iter().find_map(|key| labels.get(*key)).map(|value| value.trim().to_string())
    };
    let vendor = vendor.or_else(|| {
        if labels.keys().any(|k| k.starts_with("nvidia.com/gpu")) {
            Some(GpuVendor::Nvidia)
        } else if labels
            .keys()
            .any(|k| k.starts_with("amd.com/gpu") || k.starts_with("beta.amd.com/gpu"))
        {
            Some(GpuVendor::Amd)
        } else {
            None
        }
    });
    let (product, memory) = match vendor {
        Some(GpuVendor::Nvidia) => (
            label(&["nvidia.com/gpu.product"]),
            // GPU feature discovery publishes MiB.
            label(&["nvidia.com/gpu.memory"])
                .and_then(|mib| mib.parse::<u64>().ok())
                .map(|mib| mib * 1024 * 1024),
        ),
        Some(GpuVendor::Amd) => (
            label(&["amd.com/gpu.product-name", "beta.amd.com/gpu.product-name"]),
            label(&["amd.com/gpu.vram", "beta.amd.com/gpu.vram"])
                .and_then(|vram| parse_vram(&vram)),
        ),
        None => (None, None),
    };
    NodeInventory {
        node_name: node_name.to_string(),
        vendor,
        product,
        memory_per_gpu_bytes: memory,
        allocatable,
        allocated,
        gpus: Vec::new(),
    }
}

/// The AMD node labeller's VRAM label: `192G`, `64G`, `16384M`.
fn parse_vram(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, scale) = match text.char_indices().last()? {
        (at, 'G') | (at, 'g') => (&text[..at], 1u64 << 30),
        (at, 'M') | (at, 'm') => (&text[..at], 1u64 << 20),
        (at, 'T') | (at, 't') => (&text[..at], 1u64 << 40),
        _ => (text, 1),
    };
    number.parse::<u64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn nvidia_gpu_feature_discovery_labels() {
        let node = node_inventory(
            "gpu-node-1",
            &labels(&[
                ("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"),
                ("nvidia.com/gpu.memory", "81559"),
                ("nvidia.com/gpu.count", "8"),
            ]),
            None,
            8,
            6,
        );
        assert_eq!(node.vendor, Some(GpuVendor::Nvidia));
        assert_eq!(node.product.as_deref(), Some("NVIDIA-H100-80GB-HBM3"));
        assert_eq!(node.memory_per_gpu_bytes, Some(81559 * 1024 * 1024));
        assert_eq!(node.free(), 2);
    }

    #[test]
    fn amd_node_labeller_labels_old_and_new() {
        let node = node_inventory(
            "mi300",
            &labels(&[
                ("beta.amd.com/gpu.product-name", "AMD_Instinct_MI300X_OAM"),
                ("beta.amd.com/gpu.vram", "192G"),
            ]),
            None,
            8,
            8,
        );
        assert_eq!(node.vendor, Some(GpuVendor::Amd));
        assert_eq!(node.memory_per_gpu_bytes, Some(192 << 30));
        assert_eq!(node.free(), 0);
        let bare =
            node_inventory("cpu-only", &labels(&[("kubernetes.io/os", "linux")]), None, 0, 0);
        assert_eq!((bare.vendor, bare.product, bare.memory_per_gpu_bytes), (None, None, None));
    }
}
