//! The engine's pod: its container (command, env, GPUs, probes, cache and `/dev/shm`
//! mounts), and the pod around it (GPU tolerations, node selector, pull secret, a grace
//! period long enough to drain). Multi-node pods add the engine's multi-node flags.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, HTTPGetAction, HostPathVolumeSource,
    LocalObjectReference, PersistentVolumeClaimVolumeSource, PodSpec, Probe, ResourceRequirements,
    Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::multinode::{NodeRole, multi_node_args};
use super::render::{
    CONTAINER_NAME, CacheVolume, K8sRenderOptions, PORT_NAME, default_image, gpu_resource,
    product_label,
};
use crate::engine::launch::launch_command;
use crate::model::DeploymentSpec;

/// Where the Hugging Face cache is mounted in the engine's container.
pub const CACHE_MOUNT: &str = "/root/.cache/huggingface";

/// The engine's probes: startup (the load budget), readiness and liveness, on the engine's
/// health path with its answer time (`engine::readiness`: SGLang's `/health` generates a
/// token first), never under 5 s so a loaded engine is not restarted for a slow answer.
pub struct EngineProbes {
    pub startup: Probe,
    pub readiness: Probe,
    pub liveness: Probe,
}

pub fn engine_probes(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
    port: IntOrString,
) -> EngineProbes {
    let budget =
        options.startup_budget_secs.unwrap_or(if spec.gpus_per_replica >= 4 { 3600 } else { 1800 });
    let check = crate::engine::readiness::health_check(Some(spec.engine));
    let probe = |period: i32, failures: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(check.path.into()),
            port: port.clone(),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(check.timeout_secs().max(5)),
        ..Default::default()
    };
    let startup_period = 10;
    EngineProbes {
        startup: probe(startup_period, (budget as i32 / startup_period).max(1)),
        readiness: probe(5, 3),
        liveness: probe(10, 6),
    }
}

/// `HF_HOME` at `mount`, the spec's env, and `HF_TOKEN` from its Secret.
pub fn engine_env(spec: &DeploymentSpec, options: &K8sRenderOptions, mount: &str) -> Vec<EnvVar> {
    let mut env: Vec<EnvVar> = spec
        .env
        .iter()
        .filter(|(name, _)| name.as_str() != "HF_HOME")
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: Some(value.clone()),
            value_from: None,
        })
        .collect();
    env.push(EnvVar { name: "HF_HOME".into(), value: Some(mount.into()), value_from: None });
    if let Some(secret) = &options.hf_token_secret {
        env.push(secret.hf_token_env());
    }
    env
}

/// GPU requests (= limits, as extended resources require) for `gpus` GPUs per pod.
pub fn gpu_resources(spec: &DeploymentSpec, gpus: u32) -> ResourceRequirements {
    let mut resources = ResourceRequirements::default();
    if let (Some(vendor), true) = (spec.gpu_vendor, gpus > 0) {
        let amount =
            BTreeMap::from([(gpu_resource(vendor).to_string(), Quantity(gpus.to_string()))]);
        resources.requests = Some(amount.clone());
        resources.limits = Some(amount);
    }
    resources
}

/// GPU nodes are commonly tainted with the resource name so other pods stay off.
pub fn gpu_tolerations(spec: &DeploymentSpec) -> Option<Vec<Toleration>> {
    let vendor = spec.gpu_vendor.filter(|_| spec.gpus_per_replica > 0)?;
    Some(vec![Toleration {
        key: Some(gpu_resource(vendor).into()),
        operator: Some("Exists".into()),
        effect: Some("NoSchedule".into()),
        ..Default::default()
    }])
}

pub fn node_selector(
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Option<BTreeMap<String, String>> {
    let vendor = spec.gpu_vendor?;
    // `--gpu-product` first, else the product the spec's recipe names.
    let product = options.gpu_product.as_ref().or(spec.gpu_product.as_ref())?;
    Some(BTreeMap::from([(product_label(vendor).to_string(), product.clone())]))
}

/// The engine command for a pod of the given role (the whole replica, or one node of it).
pub fn engine_command(spec: &DeploymentSpec, role: NodeRole) -> (String, Vec<String>) {
    // In a pod the engine must listen on every interface, on the one port the Service targets.
    let mut in_pod = spec.clone();
    in_pod.host = "0.0.0.0".into();
    let command = launch_command(&in_pod, 0);
    let mut args = command.args;
    args.extend(multi_node_args(spec, role, &args));
    (command.program, args)
}

fn volumes(options: &K8sRenderOptions) -> Vec<Volume> {
    let shm = Volume {
        name: "dshm".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: Some(Quantity(options.shm_size.clone())),
        }),
        ..Default::default()
    };
    let cache = match &options.cache {
        CacheVolume::None => Volume {
            name: "hf-cache".into(),
            empty_dir: Some(Default::default()),
            ..Default::default()
        },
        CacheVolume::Pvc { claim, .. } => Volume {
            name: "hf-cache".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.clone(),
                read_only: None,
            }),
            ..Default::default()
        },
        CacheVolume::HostPath { path } => Volume {
            name: "hf-cache".into(),
            host_path: Some(HostPathVolumeSource {
                path: path.clone(),
                type_: Some("DirectoryOrCreate".into()),
            }),
            ..Default::default()
        },
    };
    vec![shm, cache]
}

/// The pod of one replica (`NodeRole::Single`) or of one node of a multi-node replica.
pub fn pod_spec(spec: &DeploymentSpec, options: &K8sRenderOptions, role: NodeRole) -> PodSpec {
    let (program, args) = engine_command(spec, role);
    let serves_http = role.serves_http();
    let probes = engine_probes(spec, options, IntOrString::String(PORT_NAME.into()));
    let container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(spec.image.clone().unwrap_or_else(|| default_image(spec))),
        command: Some(vec![program]),
        args: Some(args),
        env: Some(engine_env(spec, options, CACHE_MOUNT)),
        ports: serves_http.then(|| {
            vec![ContainerPort {
                name: Some(PORT_NAME.into()),
                container_port: spec.port as i32,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]
        }),
        resources: Some(gpu_resources(spec, role.gpus_per_pod(spec))),
        // Workers of a multi-node replica serve no HTTP: their health is the leader's.
        startup_probe: serves_http.then_some(probes.startup),
        readiness_probe: serves_http.then_some(probes.readiness),
        liveness_probe: serves_http.then_some(probes.liveness),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "dshm".into(),
                mount_path: "/dev/shm".into(),
                ..Default::default()
            },
            VolumeMount {
                name: "hf-cache".into(),
                mount_path: CACHE_MOUNT.into(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes(options)),
        node_selector: node_selector(spec, options),
        tolerations: gpu_tolerations(spec),
        image_pull_secrets: options
            .image_pull_secret
            .as_ref()
            .map(|name| vec![LocalObjectReference { name: name.clone() }]),
        // vLLM and SGLang finish in-flight requests on SIGTERM: give them the time to.
        termination_grace_period_seconds: Some(options.drain_secs as i64),
        ..Default::default()
    }
}
