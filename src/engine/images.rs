//! The engines' published container images, per GPU vendor (DESIGN.md section 3).

use crate::model::{EngineKind, GpuVendor};

/// The image a deployment runs when neither the recipe nor the user names one.
pub fn default_image(engine: EngineKind, vendor: Option<GpuVendor>) -> Option<String> {
    match (engine, vendor) {
        (EngineKind::Vllm, Some(GpuVendor::Amd)) => Some("vllm/vllm-openai-rocm:latest".into()),
        (EngineKind::Vllm, _) => Some("vllm/vllm-openai:latest".into()),
        // SGLang's ROCm images are tagged per release and GPU (`-rocm630-mi30x`): no safe default.
        (EngineKind::Sglang, Some(GpuVendor::Amd)) => None,
        (EngineKind::Sglang, _) => Some("lmsysorg/sglang:latest".into()),
    }
}
