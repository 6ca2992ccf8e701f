//! The container a replica runs in, rendered from a `DeploymentSpec`. Pure: no Engine calls, so
//! `aimdeck render docker` and the review screen show exactly what `create` sends.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, HostConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use serde::{Deserialize, Serialize};

use crate::backend::allocator::{AllocatableGpu, device_ids, gpu_label};
use crate::backend::env::replica_env;
use crate::engine::launch_command;
use crate::model::{DeploymentSpec, GpuVendor, labels};

/// Where the HF cache is mounted inside the container (`HF_HOME` of the engine images).
pub const CONTAINER_HF_HOME: &str = "/root/.cache/huggingface";
/// AMD's recommended shared memory for vLLM/SGLang containers (`--shm-size 16g`).
const AMD_SHM_BYTES: i64 = 16 << 30;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The engine binds the host's port directly (one port per replica), on 127.0.0.1 unless
    /// the spec's `host` says otherwise. The default: it also works on engines started with
    /// `--bridge=none`.
    #[default]
    Host,
    /// A container network; the engine's port is published on 127.0.0.1 only.
    Bridge,
}

impl std::str::FromStr for NetworkMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "host" => Ok(NetworkMode::Host),
            "bridge" => Ok(NetworkMode::Bridge),
            other => Err(format!("unknown network mode `{other}`, expected `host` or `bridge`")),
        }
    }
}

/// Label recording the network mode, so a later scale adds replicas the same way.
pub const NETWORK_LABEL: &str = "aimdeck.io/network";

impl NetworkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Host => "host",
            NetworkMode::Bridge => "bridge",
        }
    }
}

/// Docker-specific choices that are not part of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DockerOptions {
    pub network: NetworkMode,
    /// Seconds `docker stop` waits before SIGKILL when scaling down or deleting.
    pub stop_grace_secs: i32,
}

impl Default for DockerOptions {
    fn default() -> Self {
        DockerOptions { network: NetworkMode::Host, stop_grace_secs: 10 }
    }
}

pub fn container_name(deployment: &str, index: u32) -> String {
    format!("aimdeck-{deployment}-{index}")
}

/// Labels that let any later console find and rebuild this replica.
pub fn replica_labels(spec: &DeploymentSpec, index: u32, gpus: &[u32]) -> HashMap<String, String> {
    let mut out = HashMap::from([
        (labels::MANAGED_BY.to_string(), labels::MANAGED_BY_VALUE.to_string()),
        (labels::DEPLOYMENT.to_string(), spec.name.clone()),
        (labels::ENGINE.to_string(), spec.engine.as_str().to_string()),
        (labels::REPLICA.to_string(), index.to_string()),
        (labels::GPUS.to_string(), gpu_label(gpus)),
        (labels::MODEL_ANNOTATION.to_string(), spec.model.clone()),
        (labels::SPEC_ANNOTATION.to_string(), spec_label(spec)),
    ]);
    if let Some(recipe) = &spec.recipe_id {
        out.insert(labels::RECIPE.to_string(), recipe.clone());
    }
    out
}

/// The spec as JSON for the spec label, with secret env values redacted (labels are public to
/// anyone who can `docker inspect`).
fn spec_label(spec: &DeploymentSpec) -> String {
    let mut shown = spec.clone();
    shown.env = crate::backend::secrets::redact(&spec.env);
    serde_json::to_string(&shown).unwrap_or_default()
}

/// The create body for replica `index` holding `gpus`. `token` is the HF token (passed as
/// `HF_TOKEN`); callers that show the result redact it with [`redacted`].
pub fn container_body(
    spec: &DeploymentSpec,
    index: u32,
    gpus: &[u32],
    inventory: &[AllocatableGpu],
    options: &DockerOptions,
    token: Option<&str>,
) -> ContainerCreateBody {
    let port = spec.replica_port(index);
    let mut engine_spec = spec.clone();
    if options.network == NetworkMode::Bridge {
        // Inside its own network namespace the engine must listen on every interface; the
        // publication below keeps it reachable from 127.0.0.1 only.
        engine_spec.host = "0.0.0.0".into();
    }
    let command = launch_command(&engine_spec, index);
    let mut env = replica_env(spec, gpus, false, token);
    env.entry("HF_HOME".into()).or_insert_with(|| CONTAINER_HF_HOME.into());

    let mut host = HostConfig {
        ipc_mode: Some("host".into()),
        // An init as PID 1 forwards `docker stop`'s SIGTERM (PID 1 ignores signals it has no
        // handler for) and reaps the engine's worker processes.
        init: Some(true),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::ON_FAILURE),
            maximum_retry_count: Some(3),
        }),
        ..Default::default()
    };
    if let Some(cache) = &spec.cache_dir {
        host.binds = Some(vec![format!("{}:{CONTAINER_HF_HOME}", cache.display())]);
    }
    let mut exposed = None;
    match options.network {
        NetworkMode::Host => host.network_mode = Some("host".into()),
        NetworkMode::Bridge => {
            let key = format!("{port}/tcp");
            exposed = Some(vec![key.clone()]);
            let binding = PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(port.to_string()),
            };
            host.port_bindings = Some(HashMap::from([(key, Some(vec![binding]))]));
        }
    }
    match spec.gpu_vendor {
        Some(GpuVendor::Nvidia) if !gpus.is_empty() => {
            host.device_requests = Some(vec![DeviceRequest {
                driver: Some("nvidia".into()),
                // A MIG device by its UUID, which the NVIDIA runtime takes as a device id.
                device_ids: Some(device_ids(inventory, gpus)),
                capabilities: Some(vec![vec!["gpu".into()]]),
                ..Default::default()
            }]);
        }
        Some(GpuVendor::Amd) => {
            let mut devices = vec![device("/dev/kfd")];
            for gpu in gpus {
                // Only the chosen GPUs' render nodes: HIP_VISIBLE_DEVICES selects but does not isolate.
                let minor = inventory
                    .iter()
                    .find(|g| g.index == *gpu)
                    .and_then(|g| g.render_minor)
                    .unwrap_or(128 + gpu);
                devices.push(device(&format!("/dev/dri/renderD{minor}")));
            }
            host.devices = Some(devices);
            host.group_add = Some(vec!["video".into()]);
            host.cap_add = Some(vec!["SYS_PTRACE".into()]);
            host.security_opt = Some(vec!["seccomp=unconfined".into()]);
            host.shm_size = Some(AMD_SHM_BYTES);
        }
        _ => {}
    }
    let mut container_labels = replica_labels(spec, index, gpus);
    container_labels.insert(NETWORK_LABEL.to_string(), options.network.as_str().to_string());
    ContainerCreateBody {
        image: spec.image.clone(),
        entrypoint: Some(vec![command.program.clone()]),
        cmd: Some(command.args.clone()),
        env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(container_labels),
        exposed_ports: exposed,
        host_config: Some(host),
        ..Default::default()
    }
}

fn device(path: &str) -> DeviceMapping {
    DeviceMapping {
        path_on_host: Some(path.into()),
        path_in_container: Some(path.into()),
        cgroup_permissions: Some("rwm".into()),
    }
}

/// A copy with secret environment values replaced, for showing.
pub fn redacted(body: &ContainerCreateBody) -> ContainerCreateBody {
    let mut shown = body.clone();
    if let Some(env) = &mut shown.env {
        for entry in env.iter_mut() {
            if let Some((name, _)) = entry.split_once('=')
                && crate::backend::secrets::is_secret(name)
            {
                *entry = format!("{name}={}", crate::backend::secrets::REDACTED);
            }
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EngineKind, Parallelism};

    fn spec(vendor: Option<GpuVendor>) -> DeploymentSpec {
        DeploymentSpec {
            name: "llama".into(),
            model: "meta-llama/Llama-3.1-8B-Instruct".into(),
            served_model_name: None,
            engine: EngineKind::Vllm,
            recipe_id: Some("llama-3.1-8b-mi300x-fp8".into()),
            image: Some("vllm/vllm-openai-rocm:v0.11.0".into()),
            command: None,
            gpu_vendor: vendor,
            gpu_product: None,
            gpus_per_replica: 2,
            parallelism: Parallelism { tp: 2, pp: 1, dp: 1 },
            replicas: 2,
            precision: None,
            checkpoint_quant: None,
            kv_cache_dtype: Default::default(),
            max_model_len: None,
            gpu_memory_utilization: None,
            port: 8000,
            host: "127.0.0.1".into(),
            engine_args: Default::default(),
            extra_args: vec![],
            env: Default::default(),
            cache_dir: Some("/data/hf".into()),
        }
    }

    #[test]
    fn amd_replica_gets_kfd_only_its_render_nodes_and_rocm_settings() {
        let inventory: Vec<AllocatableGpu> = (0..8)
            .map(|i| AllocatableGpu { render_minor: Some(128 + 8 * i), ..AllocatableGpu::plain(i) })
            .collect();
        let options = DockerOptions { network: NetworkMode::Bridge, ..Default::default() };
        let body = container_body(
            &spec(Some(GpuVendor::Amd)),
            1,
            &[2, 3],
            &inventory,
            &options,
            Some("hf_x"),
        );
        let host = body.host_config.as_ref().unwrap();
        let devices: Vec<_> = host
            .devices
            .as_ref()
            .unwrap()
            .iter()
            .map(|d| d.path_on_host.clone().unwrap())
            .collect();
        assert_eq!(devices, ["/dev/kfd", "/dev/dri/renderD144", "/dev/dri/renderD152"]);
        assert_eq!(host.group_add.as_deref(), Some(&["video".to_string()][..]));
        assert_eq!(host.security_opt.as_deref(), Some(&["seccomp=unconfined".to_string()][..]));
        assert_eq!(host.cap_add.as_deref(), Some(&["SYS_PTRACE".to_string()][..]));
        assert_eq!(host.ipc_mode.as_deref(), Some("host"));
        assert_eq!(
            host.binds.as_deref(),
            Some(&["/data/hf:/root/.cache/huggingface".to_string()][..])
        );
        // Bridge mode: published on loopback only, engine listening on all interfaces inside.
        let binding = &host.port_bindings.as_ref().unwrap()["8001/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("8001"));
        let cmd = body.cmd.as_ref().unwrap().join(" ");
        assert!(cmd.contains("--host 0.0.0.0 --port 8001"), "{cmd}");
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels["aimdeck.io/gpus"], "2,3");
        assert_eq!(labels["aimdeck.io/replica"], "1");
        assert_eq!(labels["aimdeck.io/recipe"], "llama-3.1-8b-mi300x-fp8");
        assert_eq!(labels[NETWORK_LABEL], "bridge", "a later scale-up reuses the mode");
    }

    #[test]
    fn nvidia_replica_requests_its_gpus_by_id() {
        let options = DockerOptions { network: NetworkMode::Host, ..Default::default() };
        let body = container_body(&spec(Some(GpuVendor::Nvidia)), 0, &[4, 5], &[], &options, None);
        let host = body.host_config.as_ref().unwrap();
        let request = &host.device_requests.as_ref().unwrap()[0];
        assert_eq!(request.driver.as_deref(), Some("nvidia"));
        assert_eq!(request.device_ids.as_deref(), Some(&["4".to_string(), "5".to_string()][..]));
        assert_eq!(request.capabilities, Some(vec![vec!["gpu".to_string()]]));
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        assert!(host.devices.is_none());
    }

    #[test]
    fn the_token_is_passed_but_never_shown() {
        let body =
            container_body(&spec(None), 0, &[], &[], &DockerOptions::default(), Some("hf_secret"));
        assert!(body.env.as_ref().unwrap().contains(&"HF_TOKEN=hf_secret".to_string()));
        let shown = serde_json::to_string(&redacted(&body)).unwrap();
        assert!(!shown.contains("hf_secret"));
        assert!(shown.contains("HF_TOKEN=<redacted>"));
    }

    #[test]
    fn a_mig_device_is_requested_by_its_uuid_and_labelled_by_its_logical_index() {
        let inventory = vec![AllocatableGpu {
            device_id: Some("MIG-7a3b2d4f-6c8e-5f9a-8b1c-2d3e4f5a6b71".into()),
            single: true,
            ..AllocatableGpu::plain(1001)
        }];
        let options = DockerOptions { network: NetworkMode::Host, ..Default::default() };
        let body =
            container_body(&spec(Some(GpuVendor::Nvidia)), 0, &[1001], &inventory, &options, None);
        let request = &body.host_config.as_ref().unwrap().device_requests.as_ref().unwrap()[0];
        assert_eq!(
            request.device_ids.as_deref(),
            Some(&["MIG-7a3b2d4f-6c8e-5f9a-8b1c-2d3e4f5a6b71".to_string()][..])
        );
        assert_eq!(body.labels.as_ref().unwrap()["aimdeck.io/gpus"], "1001");
    }
}
