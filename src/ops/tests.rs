//! The resolution rules, on the built-in library, with no I/O.

use super::*;
use crate::model::gpu::{Gpu, GpuHolder};
use crate::model::{EngineKind, GpuVendor};
use crate::recipes::load_builtin;

const LLAMA_70B: &str = "meta-llama/Llama-3.1-70B-Instruct";
const MI300X_X8: &str = "llama-3.1-70b-instruct-mi300x-x8-bf16-vllm";
const GIB: u64 = 1024 * 1024 * 1024;

fn request(backend: &str) -> DeployRequest {
    DeployRequest::new("llama", LLAMA_70B, backend)
}

fn mi300x(count: u32, used_gib: u64) -> Vec<Gpu> {
    (0..count)
        .map(|i| Gpu {
            memory_total_bytes: Some(192 * GIB),
            memory_used_bytes: Some(used_gib * GIB),
            ..Gpu::new(i, GpuVendor::Amd, "AMD Instinct MI300X")
        })
        .collect()
}

#[test]
fn a_named_recipe_sets_every_field_and_a_flag_overrides_one() {
    let library = load_builtin();
    let mut req = request("k8s");
    req.recipe = Some(MI300X_X8.into());
    req.overrides.max_model_len = Some(8192);
    let resolution = resolve(&req, &library, &Environment::default()).unwrap();
    let spec = &resolution.spec;
    assert_eq!(
        (spec.gpus_per_replica, spec.parallelism.tp, spec.gpu_vendor),
        (8, 8, Some(GpuVendor::Amd))
    );
    assert_eq!(spec.max_model_len, Some(8192));
    assert_eq!(spec.host, "0.0.0.0");
    assert_eq!(spec.gpu_product.as_deref(), Some("AMD_Instinct_MI300X"));
    assert_eq!(resolution.overrides, ["max_model_len"]);
    assert!(resolution.from_recipe.iter().any(|f| f == "env"));
}

#[test]
fn on_a_cluster_a_bare_spec_requests_tp_x_pp_gpus_whatever_this_machine_has() {
    let mut req = request("k8s");
    req.overrides.tp = Some(8);
    req.overrides.vendor = Some(GpuVendor::Amd);
    let resolution = resolve(&req, &load_builtin(), &Environment::default()).unwrap();
    assert_eq!(resolution.recipe, None);
    assert_eq!(resolution.spec.gpus_per_replica, 8);
    // On a host without GPUs the same flags hold none (a CPU stand-in).
    let resolution = resolve(
        &DeployRequest {
            backend: "process".into(),
            target: Target::Host { gpus: Vec::new() },
            ..req
        },
        &load_builtin(),
        &Environment::default(),
    )
    .unwrap();
    assert_eq!(resolution.spec.gpus_per_replica, 0);
}

#[test]
fn overrides_that_contradict_the_recipe_are_refused() {
    let library = load_builtin();
    let mut req = request("k8s");
    req.recipe = Some(MI300X_X8.into());
    req.overrides.tp = Some(3);
    let err = resolve(&req, &library, &Environment::default()).unwrap_err().to_string();
    assert!(
        err.contains(
            "tp 3 x pp 1 x dp 1 = 3 GPUs contradicts the recipe's GPU count (8 per replica)"
        ),
        "{err}"
    );
    req.overrides.tp = None;
    req.overrides.engine = Some(EngineKind::Sglang);
    let err = resolve(&req, &library, &Environment::default()).unwrap_err().to_string();
    assert!(err.contains("--engine sglang contradicts recipe"), "{err}");
    req.overrides.engine = None;
    req.overrides.vendor = Some(GpuVendor::Nvidia);
    assert!(
        resolve(&req, &library, &Environment::default())
            .unwrap_err()
            .to_string()
            .contains("--vendor nvidia contradicts")
    );
}

#[test]
fn without_a_recipe_the_selector_chooses_for_the_target_and_says_what_lost() {
    let library = load_builtin();
    let mut req = request("docker");
    req.target = Target::Declared { gpu: "H200".into(), count: 8 };
    let resolution = resolve(&req, &library, &Environment::default()).unwrap();
    let id = resolution.recipe.clone().unwrap();
    assert!(library.get(&id).unwrap().recipe.gpu == "H200", "{id}");
    assert!(resolution.reason.contains("on 8 x H200"), "{}", resolution.reason);
    let mi300x = resolution.runners_up.iter().find(|r| r.id == MI300X_X8).unwrap();
    assert!(!mi300x.accepted && mi300x.why.contains("written for MI300X"), "{mi300x:?}");
    assert!(resolution.spec.image.is_some());
}

#[test]
fn a_recipe_whose_gpu_is_not_here_is_refused_unless_forced() {
    let library = load_builtin();
    let mut req = request("docker");
    req.recipe = Some(MI300X_X8.into());
    req.target = Target::Host { gpus: mi300x(4, 0) };
    let err = resolve(&req, &library, &Environment::default()).unwrap_err().to_string();
    assert!(err.contains("needs 8 x MI300X; this host has 4 x MI300X"), "{err}");
    req.force = true;
    assert!(resolve(&req, &library, &Environment::default()).is_ok());
}

#[test]
fn preflight_names_the_gpu_its_free_memory_and_who_holds_it() {
    let library = load_builtin();
    let mut gpus = mi300x(8, 1);
    gpus[3].memory_used_bytes = Some(151 * GIB);
    gpus[3].held_by = Some(GpuHolder { deployment: "llama-8b".into(), replica: 0 });
    let mut req = request("docker");
    req.recipe = Some(MI300X_X8.into());
    req.target = Target::Host { gpus: gpus.clone() };
    let resolution = resolve(&req, &library, &Environment::default()).unwrap();
    let inventory: Vec<_> = (0..8).map(crate::backend::AllocatableGpu::plain).collect();
    let err = preflight::host(&resolution, &inventory, &[], &gpus, false).unwrap_err().to_string();
    let needs = resolution.fit.as_ref().unwrap().usable_bytes as f64 / GIB as f64;
    assert!(
        err.contains(&format!(
            "needs {needs:.1} GiB per GPU, GPU 3 has 41.0 GiB free: held by `llama-8b`"
        )),
        "{err}"
    );
    assert!(preflight::host(&resolution, &inventory, &[], &gpus, true).is_ok());
    gpus[3].memory_used_bytes = Some(GIB);
    assert!(preflight::host(&resolution, &inventory, &[], &gpus, false).is_ok());
}

#[test]
fn a_cluster_without_the_gpu_is_refused_naming_what_the_nodes_have() {
    let node = crate::backend::kubernetes::NodeGpuInventory {
        node: "gpu-1".into(),
        vendor: Some(GpuVendor::Nvidia),
        resource: Some("nvidia.com/gpu".into()),
        product: Some("NVIDIA-H100-80GB-HBM3".into()),
        memory: None,
        capacity: 8,
        allocatable: 8,
        allocated: 0,
        ready: true,
        unschedulable: false,
        taints: Vec::new(),
        problems: Vec::new(),
        partition: None,
        health_labels: Default::default(),
    };
    let mut req = request("k8s");
    req.recipe = Some(MI300X_X8.into());
    req.target = Target::Cluster { nodes: vec![node.clone()] };
    let err = resolve(&req, &load_builtin(), &Environment::default()).unwrap_err().to_string();
    assert!(
        err.contains("the cluster's nodes have: gpu-1: 8 x NVIDIA-H100-80GB-HBM3 (8 free)"),
        "{err}"
    );
    // A bare spec for 16 GPUs fits on no node.
    let mut bare = request("k8s");
    bare.overrides.tp = Some(16);
    let resolution = resolve(&bare, &load_builtin(), &Environment::default()).unwrap();
    let err = preflight::cluster(&resolution, &[node], false).unwrap_err().to_string();
    assert!(err.contains("no node has 16 x GPU for one replica of `llama`; the nodes have: gpu-1: 8 x NVIDIA-H100-80GB-HBM3"), "{err}");
}

#[test]
fn an_unknown_id_names_the_closest_and_another_models_recipe_is_refused() {
    let library = load_builtin();
    let mut req = request("k8s");
    req.recipe = Some("llama-3.1-70b-instruct-mi300x-x8-bf16-vlm".into());
    let err = resolve(&req, &library, &Environment::default()).unwrap_err().to_string();
    assert!(err.contains("closest: llama-3.1-70b-instruct-mi300x-x8-bf16-vllm"), "{err}");
    req.recipe = Some(MI300X_X8.into());
    req.model = "Qwen/Qwen3-32B".into();
    let err = resolve(&req, &library, &Environment::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "recipe `llama-3.1-70b-instruct-mi300x-x8-bf16-vllm` serves meta-llama/Llama-3.1-70B-Instruct, not --model Qwen/Qwen3-32B"
    );
}
