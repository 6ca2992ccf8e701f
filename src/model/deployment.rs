//! What a backend is asked to run. Every backend renders the same `DeploymentSpec`:
//! Docker as one container per replica, Kubernetes as a Deployment and Service, the process
//! backend as one child process per replica.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::recipe::{EngineArgs, EngineKind, KvCacheDtype, Parallelism, Precision};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuVendor {
    Amd,
    Nvidia,
}

impl GpuVendor {
    pub fn as_str(self) -> &'static str {
        match self {
            GpuVendor::Amd => "amd",
            GpuVendor::Nvidia => "nvidia",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSpec {
    /// DNS-label-safe name, unique per backend.
    pub name: String,
    /// Hugging Face repo id (or a local path) the engine loads.
    pub model: String,
    /// Name the OpenAI-compatible API answers to; the model id when unset.
    #[serde(default)]
    pub served_model_name: Option<String>,
    pub engine: EngineKind,
    /// The recipe this spec came from, if any.
    #[serde(default)]
    pub recipe_id: Option<String>,
    /// Container image (Docker, Kubernetes) or program (process backend) to run.
    #[serde(default)]
    pub image: Option<String>,
    /// A full command line replacing the engine's own (the process backend's custom command,
    /// or a container entrypoint override). The engine arguments are appended to it.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub gpu_vendor: Option<GpuVendor>,
    /// GPUs each replica holds: `tp * pp` (data parallel replicas are separate replicas here,
    /// unless `parallelism.dp > 1` asks the engine to do data parallelism itself).
    pub gpus_per_replica: u32,
    #[serde(default)]
    pub parallelism: Parallelism,
    pub replicas: u32,
    #[serde(default)]
    pub precision: Option<Precision>,
    #[serde(default)]
    pub kv_cache_dtype: KvCacheDtype,
    #[serde(default)]
    pub max_model_len: Option<u64>,
    #[serde(default)]
    pub gpu_memory_utilization: Option<f64>,
    /// Port of replica 0; replica `i` listens on `port + i` where replicas share a network.
    pub port: u16,
    /// Address the engine binds to.
    #[serde(default = "default_host")]
    pub host: String,
    #[serde(default)]
    pub engine_args: EngineArgs,
    /// Flags passed through verbatim after the rendered ones.
    #[serde(default)]
    pub extra_args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Host directory of the Hugging Face cache, mounted at `/root/.cache/huggingface`.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
}

fn default_host() -> String {
    "127.0.0.1".to_string()
}

impl DeploymentSpec {
    /// Port replica `index` listens on.
    pub fn replica_port(&self, index: u32) -> u16 {
        self.port.saturating_add(index as u16)
    }

    pub fn served_name(&self) -> &str {
        self.served_model_name.as_deref().unwrap_or(&self.model)
    }
}

/// One replica of a deployment as a backend places it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaSpec {
    pub index: u32,
    pub port: u16,
    /// Host GPU indices this replica holds.
    pub gpus: Vec<u32>,
}
