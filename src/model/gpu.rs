//! GPUs and how they are connected: what discovery reports for the local machine and what the
//! Kubernetes backend reports for remote nodes. Plain data, no I/O; every unknown reading is
//! `None` (serialised as `null`), never a guess.

use serde::{Deserialize, Serialize};

pub use super::deployment::GpuVendor;
pub use super::gpu_health::{
    GpuHealth, GpuPartition, GpuProcess, HealthReason, HealthState, MigDevice, ProcessOwner,
    assign_process_owners, owners_of,
};

/// One GPU as the tools see it right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    /// The index the vendor tool uses (`nvidia-smi -i`, `amd-smi -g`), which is also what
    /// `CUDA_VISIBLE_DEVICES` / `HIP_VISIBLE_DEVICES` count in.
    pub index: u32,
    pub vendor: GpuVendor,
    /// The product name exactly as the tool prints it ("NVIDIA H100 80GB HBM3",
    /// "AMD Instinct MI300X"); recipe selection normalises it.
    pub name: String,
    pub uuid: Option<String>,
    /// PCI address in the long form `0000:0c:00.0`, lower case.
    pub pci_bus_id: Option<String>,
    pub memory_total_bytes: Option<u64>,
    pub memory_used_bytes: Option<u64>,
    pub utilization_percent: Option<f64>,
    pub temperature_c: Option<f64>,
    pub power_watts: Option<f64>,
    pub power_cap_watts: Option<f64>,
    /// The graphics (SM) clock now, in MHz: `nvidia-smi` `clocks.sm`, `amd-smi metric`
    /// `clock.gfx_0.clk`.
    #[serde(default)]
    pub clock_mhz: Option<f64>,
    pub numa_node: Option<u32>,
    /// CPUs close to this GPU as the tool prints them, e.g. `0-47,96-143`.
    pub cpu_affinity: Option<String>,
    /// AMD only: the DRM render node a container needs, e.g. `/dev/dri/renderD128`.
    pub render_node: Option<String>,
    /// The deployment replica holding this GPU, joined from the backends' labels.
    pub held_by: Option<GpuHolder>,
    /// ECC, row remapping, throttling, PCIe link and XID findings; `unknown` without readings.
    #[serde(default)]
    pub health: GpuHealth,
    /// The processes using this GPU's memory, each joined to its replica or marked unmanaged.
    #[serde(default)]
    pub processes: Vec<GpuProcess>,
    /// AMD compute/memory partition of the physical GPU this logical device belongs to.
    #[serde(default)]
    pub partition: Option<GpuPartition>,
    /// NVIDIA: whether MIG mode is on (`mig.mode.current`), `None` when the tool did not say.
    #[serde(default)]
    pub mig_enabled: Option<bool>,
    /// NVIDIA MIG devices carved out of this GPU.
    #[serde(default)]
    pub mig_devices: Vec<MigDevice>,
}

impl Gpu {
    /// A GPU with only its identity known.
    pub fn new(index: u32, vendor: GpuVendor, name: impl Into<String>) -> Self {
        Gpu {
            index,
            vendor,
            name: name.into(),
            uuid: None,
            pci_bus_id: None,
            memory_total_bytes: None,
            memory_used_bytes: None,
            utilization_percent: None,
            temperature_c: None,
            power_watts: None,
            power_cap_watts: None,
            clock_mhz: None,
            numa_node: None,
            cpu_affinity: None,
            render_node: None,
            held_by: None,
            health: GpuHealth::default(),
            processes: Vec::new(),
            partition: None,
            mig_enabled: None,
            mig_devices: Vec::new(),
        }
    }

    /// Processes on this GPU that aimdeck did not start: they hold it for placement.
    pub fn unmanaged(&self) -> impl Iterator<Item = &GpuProcess> {
        self.processes.iter().filter(|p| p.holder.is_none())
    }

    /// The memory `holder`'s processes use on this GPU (0 when none is known).
    pub fn memory_of(&self, holder: &GpuHolder) -> u64 {
        self.processes
            .iter()
            .filter(|p| p.holder.as_ref() == Some(holder))
            .filter_map(|p| p.used_memory_bytes)
            .sum()
    }

    /// Used memory as a fraction 0..=1, when both readings are known.
    pub fn memory_fraction(&self) -> Option<f64> {
        match (self.memory_used_bytes, self.memory_total_bytes) {
            (Some(used), Some(total)) if total > 0 => Some((used as f64 / total as f64).min(1.0)),
            _ => None,
        }
    }
}

/// Which replica of which deployment holds a GPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuHolder {
    pub deployment: String,
    pub replica: u32,
}

/// What a backend says one replica holds: its deployment, replica index and host GPU indices
/// (from the `aimdeck.io/gpus` label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuClaim {
    pub deployment: String,
    pub replica: u32,
    pub gpus: Vec<u32>,
}

/// Fills `held_by` from the backends' claims; GPUs no claim names are cleared. Returns the
/// claimed indices that match no GPU (a replica placed on a GPU that is gone), so the caller
/// can warn about them.
pub fn assign_holders(gpus: &mut [Gpu], claims: &[GpuClaim]) -> Vec<u32> {
    for gpu in gpus.iter_mut() {
        gpu.held_by = None;
    }
    let mut unknown = Vec::new();
    for claim in claims {
        for &index in &claim.gpus {
            // A MIG device's logical index is held on its parent's row.
            let parent = super::gpu_logical::mig_parent(index).map(|(parent, _)| parent);
            let row = gpus
                .iter()
                .position(|gpu| gpu.index == index)
                .or_else(|| gpus.iter().position(|gpu| Some(gpu.index) == parent));
            match row.map(|position| &mut gpus[position]) {
                Some(gpu) => {
                    gpu.held_by = Some(GpuHolder {
                        deployment: claim.deployment.clone(),
                        replica: claim.replica,
                    })
                }
                None => unknown.push(index),
            }
        }
    }
    unknown.sort_unstable();
    unknown.dedup();
    unknown
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// AMD Infinity Fabric between GPUs.
    Xgmi,
    Nvlink,
    Pcie,
}

impl LinkKind {
    /// NVLink and XGMI carry tensor-parallel traffic without touching PCIe.
    pub fn is_direct(self) -> bool {
        matches!(self, LinkKind::Xgmi | LinkKind::Nvlink)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Xgmi => "xgmi",
            LinkKind::Nvlink => "nvlink",
            LinkKind::Pcie => "pcie",
        }
    }
}

/// The connection between two GPUs (`a < b`), as the tools describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub kind: LinkKind,
    /// The tool's own word for it: `NV18`, `PIX`, `PXB`, `PHB`, `NODE`, `SYS`, `XGMI`, `PCIE`.
    pub detail: String,
    /// Bonded NVLinks (`NV18` is 18).
    pub nvlink_count: Option<u32>,
    pub hops: Option<u32>,
    /// The AMD tools' link weight (lower is closer).
    pub weight: Option<u32>,
}

impl Link {
    /// How close the two GPUs are, for sorting and colouring: 0 is closest. Follows the order
    /// of the `nvidia-smi topo -m` legend.
    pub fn rank(&self) -> u8 {
        match self.kind {
            LinkKind::Nvlink | LinkKind::Xgmi => 0,
            LinkKind::Pcie => match self.detail.as_str() {
                "PIX" => 1,
                "PXB" => 2,
                "PHB" => 3,
                "NODE" => 4,
                "SYS" | "SOC" => 5,
                _ => 6,
            },
        }
    }
}

/// The `nvidia-smi topo -m` legend, closest first, for a view's colour key. AMD tools say
/// `XGMI` or `PCIE`.
pub const LINK_LEGEND: [(&str, &str); 8] = [
    ("NV#", "a bonded set of # NVLinks"),
    ("XGMI", "AMD Infinity Fabric, GPU to GPU"),
    ("PIX", "at most a single PCIe bridge"),
    ("PXB", "multiple PCIe bridges, no host bridge"),
    ("PHB", "PCIe and a PCIe host bridge (the CPU)"),
    ("NODE", "PCIe and host bridges within a NUMA node"),
    ("SYS", "PCIe and the link between NUMA nodes (QPI/UPI/xGMI)"),
    ("PCIE", "PCIe (AMD tools give no finer detail)"),
];

/// A set of GPUs every pair of which is directly connected (NVLink or XGMI): where a
/// tensor-parallel group should live. A GPU with no direct link is an island of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Island {
    pub gpus: Vec<u32>,
    /// The link kind inside the island; `None` for an island of one.
    pub kind: Option<LinkKind>,
}

/// Links and the islands derived from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub links: Vec<Link>,
    pub islands: Vec<Island>,
}

impl Topology {
    /// The link between two GPUs, in either order.
    pub fn link(&self, a: u32, b: u32) -> Option<&Link> {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        self.links.iter().find(|link| link.a == a && link.b == b)
    }
}

/// One discovery pass: every GPU found, the links between them, the islands, which tools
/// answered and what went wrong. This is the `aimdeck gpus --json` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuSnapshot {
    pub gpus: Vec<Gpu>,
    pub links: Vec<Link>,
    pub islands: Vec<Island>,
    /// The tools (or `kfd-sysfs`, `nvml`) whose output went into this snapshot, in order.
    pub sources: Vec<String>,
    /// Tool failures, timeouts and garbled output, one line each, for the console to show.
    pub warnings: Vec<String>,
}

impl GpuSnapshot {
    pub fn gpu(&self, index: u32) -> Option<&Gpu> {
        self.gpus.iter().find(|gpu| gpu.index == index)
    }

    /// The link between two GPUs, in either order.
    pub fn link(&self, a: u32, b: u32) -> Option<&Link> {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        self.links.iter().find(|link| link.a == a && link.b == b)
    }
}

/// The GPUs of a remote Kubernetes node, from the node's labels and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInventory {
    pub node_name: String,
    pub vendor: Option<GpuVendor>,
    /// Product label (`nvidia.com/gpu.product`, `amd.com/gpu.product-name`).
    pub product: Option<String>,
    /// Per-GPU memory from the node labels.
    pub memory_per_gpu_bytes: Option<u64>,
    /// `status.allocatable` of `nvidia.com/gpu` / `amd.com/gpu`.
    pub allocatable: u32,
    /// Sum of the GPU requests of the pods bound to the node.
    pub allocated: u32,
    /// Per-GPU detail where the node exposes it (usually empty: Kubernetes does not).
    #[serde(default)]
    pub gpus: Vec<Gpu>,
}

impl NodeInventory {
    pub fn free(&self) -> u32 {
        self.allocatable.saturating_sub(self.allocated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(index: u32) -> Gpu {
        Gpu::new(index, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")
    }

    #[test]
    fn holders_are_joined_by_index_and_stale_claims_reported() {
        let mut gpus = vec![gpu(0), gpu(1), gpu(2)];
        gpus[2].held_by = Some(GpuHolder { deployment: "old".into(), replica: 0 });
        let claims = vec![
            GpuClaim { deployment: "llama".into(), replica: 1, gpus: vec![0, 1] },
            GpuClaim { deployment: "qwen".into(), replica: 0, gpus: vec![7] },
        ];
        let unknown = assign_holders(&mut gpus, &claims);
        assert_eq!(unknown, vec![7]);
        assert_eq!(gpus[0].held_by, Some(GpuHolder { deployment: "llama".into(), replica: 1 }));
        assert_eq!(gpus[1].held_by.as_ref().map(|h| h.replica), Some(1));
        assert_eq!(gpus[2].held_by, None, "a GPU no claim names is free again");
    }

    #[test]
    fn memory_fraction_needs_both_readings() {
        let mut g = gpu(0);
        assert_eq!(g.memory_fraction(), None);
        g.memory_total_bytes = Some(100);
        g.memory_used_bytes = Some(25);
        assert_eq!(g.memory_fraction(), Some(0.25));
    }

    #[test]
    fn link_lookup_is_symmetric() {
        let topo = Topology {
            links: vec![Link {
                a: 1,
                b: 3,
                kind: LinkKind::Pcie,
                detail: "SYS".into(),
                nvlink_count: None,
                hops: None,
                weight: None,
            }],
            islands: vec![],
        };
        assert_eq!(topo.link(3, 1).map(|l| l.detail.as_str()), Some("SYS"));
        assert_eq!(topo.link(3, 1).map(Link::rank), Some(5));
        assert!(topo.link(0, 1).is_none());
    }
}
