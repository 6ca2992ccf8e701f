//! The Kubernetes objects of a resolved spec: one implementation behind `aimdeck render k8s`
//! and `aimdeck k8s render k8s` (and the operators' resources), so both print the same.

use serde_json::Value;

use crate::backend::kubernetes::K8sError;
use crate::backend::kubernetes::operators::{self, OperatorTarget};
use crate::backend::kubernetes::render::{self, K8sRenderOptions};
use crate::model::DeploymentSpec;

/// `target`: `k8s` (Deployment, Service, ...) or an operator's resource. The node selector on
/// the GPU product comes from `--gpu-product`, else from the spec (the recipe's GPU).
pub fn objects(
    target: &str,
    spec: &DeploymentSpec,
    options: &K8sRenderOptions,
) -> Result<Vec<Value>, String> {
    let mut options = options.clone();
    if options.gpu_product.is_none() {
        options.gpu_product = spec.gpu_product.clone();
    }
    let err = |e: K8sError| e.to_string();
    if target == crate::backend::kubernetes::adapter::NAME {
        return render::render(spec, &options).and_then(|o| o.to_values()).map_err(err);
    }
    let operator: OperatorTarget =
        target.parse().map_err(|e: String| format!("render {e} (or k8s)"))?;
    operators::render_operator_objects(operator, spec, &options).map_err(err)
}
