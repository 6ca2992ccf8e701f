//! A chosen recipe turned into what a backend runs.

use crate::model::{DeploymentSpec, Recipe};

use super::gpus;

/// The deployment a recipe describes, named `name`, with `replicas` copies from `port` up.
/// Each replica holds all of the recipe's GPUs (tp x pp x dp: a `dp > 1` recipe asks the engine
/// to run data parallelism itself). The image is the recipe's one for the GPU's vendor, if any;
/// otherwise the backend picks its default.
pub fn to_deployment_spec(recipe: &Recipe, name: &str, replicas: u32, port: u16) -> DeploymentSpec {
    let vendor = gpus::by_name(&recipe.gpu).map(|gpu| gpu.vendor);
    let image = match vendor {
        Some(crate::model::deployment::GpuVendor::Amd) => recipe.image.amd.clone(),
        Some(crate::model::deployment::GpuVendor::Nvidia) => recipe.image.nvidia.clone(),
        None => None,
    };
    DeploymentSpec {
        name: name.to_string(),
        model: recipe.model.repo.clone(),
        served_model_name: None,
        engine: recipe.engine,
        recipe_id: Some(recipe.id.clone()),
        image,
        command: None,
        gpu_vendor: vendor,
        gpu_product: None,
        gpus_per_replica: recipe.gpu_count,
        parallelism: recipe.parallelism,
        replicas,
        precision: Some(recipe.precision),
        checkpoint_quant: recipe.model.quant_method.clone(),
        kv_cache_dtype: recipe.kv_cache_dtype,
        max_model_len: recipe.max_model_len,
        gpu_memory_utilization: recipe.gpu_memory_utilization,
        port,
        host: "0.0.0.0".to_string(),
        engine_args: recipe.engine_args.clone(),
        extra_args: Vec::new(),
        env: recipe.env.clone(),
        cache_dir: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::launch::launch_command;
    use crate::model::deployment::GpuVendor;
    use crate::recipes::load_builtin;

    #[test]
    fn builtin_recipe_becomes_a_spec_the_launcher_renders() {
        let library = load_builtin();
        let recipe =
            &library.get("llama-3.1-70b-instruct-mi300x-x8-bf16-vllm").expect("built-in").recipe;
        let spec = to_deployment_spec(recipe, "llama70", 2, 8000);
        assert_eq!(spec.gpus_per_replica, 8);
        assert_eq!(spec.gpu_vendor, Some(GpuVendor::Amd));
        assert_eq!(spec.recipe_id.as_deref(), Some("llama-3.1-70b-instruct-mi300x-x8-bf16-vllm"));
        assert_eq!(spec.env.get("VLLM_ROCM_USE_AITER").map(String::as_str), Some("1"));
        let command = launch_command(&spec, 1).display();
        assert!(
            command.starts_with(
                "vllm serve meta-llama/Llama-3.1-70B-Instruct --host 0.0.0.0 --port 8001"
            ),
            "{command}"
        );
        assert!(command.contains("--tensor-parallel-size 8"), "{command}");
        assert!(command.contains("--max-model-len 131072"), "{command}");
    }
}
