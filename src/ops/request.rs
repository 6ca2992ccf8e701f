//! What the user asked for, before any recipe is looked at: plain data both front ends fill
//! (the CLI from flags, the console from its create form). `resolve` turns it into a spec.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::backend::kubernetes::nodes::NodeGpuInventory;
pub use crate::backend::placement::PlacementPolicy;
use crate::model::gpu::Gpu;
use crate::model::recipe::Precision;
use crate::model::{EngineKind, GpuVendor};

/// Single fields the user set explicitly. Each one set replaces the recipe's value and is
/// listed in the resolution's `overrides`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overrides {
    pub engine: Option<EngineKind>,
    pub image: Option<String>,
    /// GPUs each replica holds.
    pub gpus: Option<u32>,
    pub tp: Option<u32>,
    pub pp: Option<u32>,
    pub dp: Option<u32>,
    pub max_model_len: Option<u64>,
    pub precision: Option<Precision>,
    pub vendor: Option<GpuVendor>,
    pub port: Option<u16>,
    pub served_model_name: Option<String>,
    /// A program run in the engine's place with the engine's arguments (aimdeck-sim).
    pub command: Option<Vec<String>>,
    /// Added to (and replacing same-named) recipe env.
    pub env: BTreeMap<String, String>,
    /// Engine flags passed through after the rendered ones.
    pub extra_args: Vec<String>,
}

/// The GPUs a deployment would run on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// This host's GPUs as discovery saw them (Docker, process). `held_by` is filled from the
    /// backends' labels where known.
    Host { gpus: Vec<Gpu> },
    /// A cluster's GPU nodes (Kubernetes).
    Cluster { nodes: Vec<NodeGpuInventory> },
    /// `--gpu TYPE --count N`, for a cluster that is not reachable from here.
    Declared { gpu: String, count: u32 },
    /// Nothing known: recipes can be applied, not chosen.
    #[default]
    Unknown,
}

impl Target {
    pub fn has_gpus(&self) -> bool {
        match self {
            Target::Host { gpus } => !gpus.is_empty(),
            Target::Cluster { nodes } => nodes.iter().any(|n| n.allocatable > 0),
            Target::Declared { count, .. } => *count > 0,
            Target::Unknown => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployRequest {
    pub name: String,
    pub model: String,
    /// A recipe id; the best recipe for the target is chosen when unset.
    pub recipe: Option<String>,
    /// A bare engine with only the flags given: no recipe applied or chosen.
    pub no_recipe: bool,
    /// Go ahead although the recipe's GPU is not here or the live memory is short.
    pub force: bool,
    /// `docker`, `process`, `k8s`, or an operator's resource (`nimservice`, `aimservice`, `kserve`).
    pub backend: String,
    pub replicas: u32,
    pub overrides: Overrides,
    /// Which GPUs beyond healthy, whole, free ones replicas may take (`--allow-degraded`,
    /// `--partitions`); failed GPUs and those held by processes aimdeck did not start never.
    pub placement: PlacementPolicy,
    pub target: Target,
}

impl DeployRequest {
    pub fn new(name: &str, model: &str, backend: &str) -> Self {
        DeployRequest {
            name: name.to_string(),
            model: model.to_string(),
            recipe: None,
            no_recipe: false,
            force: false,
            backend: backend.to_string(),
            replicas: 1,
            overrides: Overrides::default(),
            placement: PlacementPolicy::default(),
            target: Target::Unknown,
        }
    }

    /// Whether the deployment runs on a cluster (GPUs requested from nodes) rather than on
    /// this host's GPUs.
    pub fn on_cluster(&self) -> bool {
        is_cluster_backend(&self.backend)
    }
}

pub fn is_cluster_backend(backend: &str) -> bool {
    matches!(backend, "k8s" | "nimservice" | "aimservice" | "kserve")
}

/// Facts the resolution needs from the machine, gathered by the caller (resolution does no I/O).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The Hugging Face cache home mounted into Docker replicas (`HF_HOME`, not `.../hub`).
    pub cache_home: Option<PathBuf>,
    /// The vendor of this host's GPU devices (`/dev/kfd`, `/dev/nvidiactl`), when no GPU
    /// was discovered by the tools.
    pub device_vendor: Option<GpuVendor>,
    /// Model facts from the local cache's config.json, for deriving a recipe.
    pub cached_facts: Option<crate::model::recipe::ModelFacts>,
}

impl Environment {
    /// The vendor whose device nodes exist here.
    pub fn detect_device_vendor() -> Option<GpuVendor> {
        if std::path::Path::new("/dev/kfd").exists() {
            Some(GpuVendor::Amd)
        } else if std::path::Path::new("/dev/nvidiactl").exists() {
            Some(GpuVendor::Nvidia)
        } else {
            None
        }
    }
}
