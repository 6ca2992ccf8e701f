//! The environment each replica gets: the spec's own variables, the Hugging Face token, and
//! (where the backend cannot isolate devices) which GPUs the engine may use.

use std::collections::BTreeMap;

use super::allocator::gpu_label;
use super::secrets;
use crate::model::{DeploymentSpec, GpuVendor};

/// `visible_devices`: set `CUDA_VISIBLE_DEVICES` / `HIP_VISIBLE_DEVICES` for `gpus` (process
/// backend; containers see only their own devices). Without a vendor, both are set.
pub fn replica_env(
    spec: &DeploymentSpec,
    gpus: &[u32],
    visible_devices: bool,
    token: Option<&str>,
) -> BTreeMap<String, String> {
    // A spec read back from a label carries `<redacted>` where a secret was; the real value
    // comes from the token lookup, never from the label.
    let mut env: BTreeMap<String, String> = spec
        .env
        .iter()
        .filter(|(_, v)| v.as_str() != secrets::REDACTED)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(token) = token {
        env.entry(secrets::HF_TOKEN.to_string()).or_insert_with(|| token.to_string());
    }
    if visible_devices && !gpus.is_empty() {
        let list = gpu_label(gpus);
        if spec.gpu_vendor != Some(GpuVendor::Amd) {
            env.insert("CUDA_VISIBLE_DEVICES".into(), list.clone());
        }
        if spec.gpu_vendor != Some(GpuVendor::Nvidia) {
            env.insert("HIP_VISIBLE_DEVICES".into(), list);
        }
    }
    env
}
