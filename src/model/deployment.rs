//! What a backend is asked to run. Every backend renders the same `DeploymentSpec`:
//! Docker as one container per replica, Kubernetes as a Deployment and Service, the process
//! backend as one child process per replica.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::recipe::{EngineArgs, EngineKind, KvCacheDtype, Parallelism, Precision};
use super::replica::Replica;

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
    /// Kubernetes: the value of the node's GPU product label (`nvidia.com/gpu.product`,
    /// `amd.com/gpu.product-name`) pods must run on; set from the recipe's GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_product: Option<String>,
    /// GPUs each replica holds: `tp * pp` (data parallel replicas are separate replicas here,
    /// unless `parallelism.dp > 1` asks the engine to do data parallelism itself).
    pub gpus_per_replica: u32,
    #[serde(default)]
    pub parallelism: Parallelism,
    pub replicas: u32,
    #[serde(default)]
    pub precision: Option<Precision>,
    /// `quantization_config.quant_method` of a pre-quantized checkpoint (`fp8`,
    /// `compressed-tensors`, `fbgemm_fp8`, `awq`, ...). The engine reads the method from the
    /// checkpoint, so no `--quantization` is passed; unset means the weights are bf16/fp16 and
    /// an fp8 precision is quantized on the fly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_quant: Option<String>,
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
    /// A spec with the engine's defaults: no recipe, no GPUs, listening on 127.0.0.1. Callers
    /// set what they know (GPUs, parallelism, command) on the result.
    pub fn minimal(
        name: &str,
        model: &str,
        engine: EngineKind,
        replicas: u32,
        port: u16,
    ) -> DeploymentSpec {
        DeploymentSpec {
            name: name.into(),
            model: model.into(),
            served_model_name: None,
            engine,
            recipe_id: None,
            image: None,
            command: None,
            gpu_vendor: None,
            gpu_product: None,
            gpus_per_replica: 0,
            parallelism: Parallelism::default(),
            replicas,
            precision: None,
            checkpoint_quant: None,
            kv_cache_dtype: KvCacheDtype::default(),
            max_model_len: None,
            gpu_memory_utilization: None,
            port,
            host: default_host(),
            engine_args: EngineArgs::default(),
            extra_args: Vec::new(),
            env: BTreeMap::new(),
            cache_dir: None,
        }
    }

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

/// Where one replica is in its life, as a backend sees it. `Ready` means the engine's `/health`
/// answered 200; a running process or container that does not answer yet is `Starting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    Pulling,
    Creating,
    Starting,
    Ready,
    /// Running, but `/health` answers with an error (vLLM's 503 after an engine crash).
    Unhealthy,
    Stopping,
    Exited,
    Failed,
}

impl ReplicaState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::Pulling => "pulling",
            ReplicaState::Creating => "creating",
            ReplicaState::Starting => "starting",
            ReplicaState::Ready => "ready",
            ReplicaState::Unhealthy => "unhealthy",
            ReplicaState::Stopping => "stopping",
            ReplicaState::Exited => "exited",
            ReplicaState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for ReplicaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 3339 time as unix ms; `None` for garbage and for Docker's never-started
/// `0001-01-01T00:00:00Z` (anything not after the epoch).
pub fn rfc3339_unix_ms(text: &str) -> Option<i64> {
    let ms = text.parse::<jiff::Timestamp>().ok()?.as_millisecond();
    (ms > 0).then_some(ms)
}

/// A deployment as found on a backend: its spec (from labels or the state file) and replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub name: String,
    /// Backend name (`docker`, `process`, ...).
    pub backend: String,
    /// The spec, with `replicas` set to the number of replicas found.
    pub spec: DeploymentSpec,
    /// Sorted by index.
    pub replicas: Vec<Replica>,
    /// The autoscaler that owns its replicas (Kubernetes HPA or KEDA), as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<super::AutoscalerStatus>,
}

impl Deployment {
    pub fn ready_replicas(&self) -> usize {
        self.replicas.iter().filter(|r| r.state == ReplicaState::Ready).count()
    }

    /// The base URLs of the replicas that answer now, in replica order: where a benchmark or a
    /// chat sends its requests.
    pub fn ready_urls(&self) -> Vec<String> {
        self.replicas.iter().filter(|r| r.state == ReplicaState::Ready).map(|r| r.url()).collect()
    }

    /// `2/3`-style readiness, as `kubectl get` shows it.
    pub fn ready_summary(&self) -> String {
        format!("{}/{}", self.ready_replicas(), self.replicas.len())
    }

    /// GPU indices held by all replicas.
    pub fn gpus(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.replicas.iter().flat_map(|r| r.gpus.iter().copied()).collect();
        all.sort_unstable();
        all
    }
}

/// What a backend can do, so a view greys out what is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub scale: bool,
    pub restart: bool,
    pub logs_follow: bool,
    pub events: bool,
    /// The backend places replicas on host GPUs itself (single-host backends).
    pub gpu_allocation: bool,
    /// The backend pulls images.
    pub images: bool,
}

impl Capabilities {
    /// Scale, restart, followed logs and events, which every backend so far offers; a backend
    /// adds what it does itself (placing GPUs, pulling images).
    pub const LIFECYCLE: Capabilities = Capabilities {
        scale: true,
        restart: true,
        logs_follow: true,
        events: true,
        gpu_allocation: false,
        images: false,
    };
}

/// The backend's own health, for the `:contexts` view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendHealth {
    pub backend: String,
    pub reachable: bool,
    /// e.g. `Docker Engine 20.10.24 (API 1.41)` or the state directory.
    pub detail: String,
}

/// Something that happened to a deployment: rollout progress or a change seen on the backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendEvent {
    /// RFC 3339 time.
    pub when: String,
    pub backend: String,
    pub deployment: String,
    #[serde(default)]
    pub replica: Option<u32>,
    pub kind: BackendEventKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendEventKind {
    /// Image pull progress: bytes done and total where the engine reports them.
    Pull { current: Option<u64>, total: Option<u64> },
    /// A replica moved to a new state.
    State { state: ReplicaState },
    /// Anything else the backend reports (container `die`, `oom`, ...).
    Other { action: String },
}
