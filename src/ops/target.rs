//! The target's GPUs as the selector sees them, and the checks that a recipe's GPU is there.

use crate::model::{GpuVendor, Recipe};
use crate::recipes::gpus::{self, GpuModel};
use crate::recipes::select::Hardware;

use super::request::Target;

/// What the selector is given: the most numerous catalog GPU of the host, the GPU of the
/// cluster node with the most of one product (a replica lives on one node), or the declared
/// GPU. `None` when nothing is known or no GPU is in the catalog.
pub fn selector_hardware(target: &Target) -> Option<Hardware> {
    match target {
        Target::Host { gpus } => Hardware::from_inventory(
            gpus.iter().map(|g| (g.name.as_str(), g.memory_total_bytes, g.held_by.is_some())),
        ),
        Target::Cluster { nodes } => {
            let best = nodes
                .iter()
                .filter(|n| n.ready && !n.unschedulable)
                .filter_map(|n| Some((n, gpus::normalize(n.product.as_deref()?)?)))
                .max_by_key(|(n, model)| (n.allocatable, n.free(), model.memory_bytes))?;
            let (node, model) = best;
            Some(Hardware {
                gpu: model.name.to_string(),
                total: node.allocatable,
                free: node.free(),
                memory_bytes: None,
            })
        }
        Target::Declared { gpu, count } => {
            Some(Hardware { gpu: gpu.clone(), total: *count, free: *count, memory_bytes: None })
        }
        Target::Unknown => None,
    }
}

/// "8 x MI300X, 2 x L4" for messages; "no GPU" when empty.
pub fn describe(target: &Target) -> String {
    match target {
        Target::Host { gpus } => {
            let mut counts: std::collections::BTreeMap<&str, u32> = Default::default();
            for gpu in gpus {
                *counts
                    .entry(gpus::normalize(&gpu.name).map(|m| m.name).unwrap_or(gpu.name.as_str()))
                    .or_default() += 1;
            }
            if counts.is_empty() {
                return "no GPU".into();
            }
            counts.iter().map(|(name, n)| format!("{n} x {name}")).collect::<Vec<_>>().join(", ")
        }
        Target::Cluster { nodes } => {
            let parts: Vec<String> = nodes
                .iter()
                .filter(|n| n.allocatable > 0 || n.product.is_some())
                .map(|n| {
                    format!(
                        "{}: {} x {} ({} free)",
                        n.node,
                        n.allocatable,
                        n.product.as_deref().unwrap_or("unlabelled GPU"),
                        n.free()
                    )
                })
                .collect();
            if parts.is_empty() { "no GPU node".into() } else { parts.join("; ") }
        }
        Target::Declared { gpu, count } => format!("{count} x {gpu} (declared)"),
        Target::Unknown => "unknown GPUs".into(),
    }
}

/// Whether the target can hold one replica of `recipe`: the host has `gpu_count` of its GPU,
/// or one node has that many allocatable. `Err` says what is there instead. An unknown target
/// (an unreachable cluster, nothing declared) passes: the cluster decides.
pub fn check_recipe_gpu(recipe: &Recipe, target: &Target) -> Result<(), String> {
    let wanted = gpus::by_name(&recipe.gpu).map(|m| m.name).unwrap_or(recipe.gpu.as_str());
    let is_wanted = |product: &str| {
        gpus::normalize(product).is_some_and(|m| m.name.eq_ignore_ascii_case(wanted))
    };
    let needs = format!("`{}` needs {} x {}", recipe.id, recipe.gpu_count, recipe.gpu);
    match target {
        Target::Unknown => Ok(()),
        Target::Host { gpus } => {
            let here = gpus.iter().filter(|g| is_wanted(&g.name)).count() as u32;
            if here >= recipe.gpu_count {
                Ok(())
            } else {
                Err(format!("{needs}; this host has {}", describe(target)))
            }
        }
        Target::Declared { gpu, count } => {
            if is_wanted(gpu) && *count >= recipe.gpu_count {
                Ok(())
            } else {
                Err(format!("{needs}; --gpu/--count declare {count} x {gpu}"))
            }
        }
        Target::Cluster { nodes } => {
            if nodes.iter().any(|n| {
                n.product.as_deref().is_some_and(is_wanted) && n.allocatable >= recipe.gpu_count
            }) {
                Ok(())
            } else {
                Err(format!("{needs} on one node; the cluster's nodes have: {}", describe(target)))
            }
        }
    }
}

/// The value of the node's GPU product label for `gpu`: the one a cluster node carries when
/// the nodes are known, else the label the device plugins write for the usual part (NVIDIA
/// GPU feature discovery: the `nvidia-smi` name with `-` for spaces; AMD's node labeller:
/// the marketing name with `_`). `--gpu-product` replaces it for other variants.
pub fn product_label_value(gpu: &GpuModel, target: &Target) -> String {
    if let Target::Cluster { nodes } = target
        && let Some(product) = nodes
            .iter()
            .filter_map(|n| n.product.as_deref())
            .find(|p| gpus::normalize(p).is_some_and(|m| m.name == gpu.name))
    {
        return product.to_string();
    }
    match gpu.vendor {
        GpuVendor::Amd => format!("AMD_Instinct_{}", gpu.name),
        GpuVendor::Nvidia => match gpu.name {
            "H100" => "NVIDIA-H100-80GB-HBM3".into(),
            "A100-80GB" => "NVIDIA-A100-SXM4-80GB".into(),
            "A100-40GB" => "NVIDIA-A100-SXM4-40GB".into(),
            other => format!("NVIDIA-{other}"),
        },
    }
}

/// The vendor of the target's GPUs, when they are all one vendor's.
pub fn target_vendor(target: &Target) -> Option<GpuVendor> {
    let mut vendors: Vec<GpuVendor> = match target {
        Target::Host { gpus } => gpus.iter().map(|g| g.vendor).collect(),
        Target::Cluster { nodes } => {
            nodes.iter().filter(|n| n.allocatable > 0).filter_map(|n| n.vendor).collect()
        }
        Target::Declared { gpu, .. } => {
            gpus::normalize(gpu).map(|m| m.vendor).into_iter().collect()
        }
        Target::Unknown => Vec::new(),
    };
    vendors.dedup();
    match vendors.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kubernetes::nodes::NodeGpuInventory;

    fn node(name: &str, product: &str, allocatable: u32, allocated: u32) -> NodeGpuInventory {
        NodeGpuInventory {
            node: name.into(),
            vendor: Some(GpuVendor::Amd),
            resource: Some("amd.com/gpu".into()),
            product: Some(product.into()),
            memory: None,
            capacity: allocatable,
            allocatable,
            allocated,
            ready: true,
            unschedulable: false,
            taints: Vec::new(),
            problems: Vec::new(),
            partition: None,
            health_labels: Default::default(),
        }
    }

    #[test]
    fn a_cluster_is_judged_by_its_biggest_node() {
        let target = Target::Cluster {
            nodes: vec![
                node("a", "AMD_Instinct_MI300X", 4, 0),
                node("b", "AMD_Instinct_MI300X", 8, 2),
            ],
        };
        let hw = selector_hardware(&target).unwrap();
        assert_eq!((hw.gpu.as_str(), hw.total, hw.free), ("MI300X", 8, 6));
        let mi300x = gpus::by_name("MI300X").unwrap();
        assert_eq!(product_label_value(mi300x, &target), "AMD_Instinct_MI300X");
        assert_eq!(
            product_label_value(gpus::by_name("H200").unwrap(), &Target::Unknown),
            "NVIDIA-H200"
        );
    }
}
