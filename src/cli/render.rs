//! `aimdeck render docker|process|k8s|nimservice|aimservice|kserve ...`: what `deploy` would
//! create, with the same arguments, secrets redacted. Kubernetes objects print as the
//! multi-document YAML kubectl takes unless `--json`. Creates nothing and needs no engine.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, eyre};
use serde_json::Value;

use super::GlobalArgs;
use super::deploy::{DeployArgs, backend_options, spec_from_args};
use crate::backend::kubernetes::operators::{self, OperatorTarget};
use crate::backend::kubernetes::render::{self as k8s_render, K8sRenderOptions};
use crate::backend::{BackendError, registry};

#[derive(Debug, Args)]
pub struct RenderCommand {
    /// What to render for: docker, process, k8s, or an operator's resource (nimservice,
    /// aimservice, kserve)
    pub backend: String,
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(command: RenderCommand, global: &GlobalArgs) -> Result<ExitCode> {
    let options = backend_options(global, command.deploy.network);
    // The same deployment as an operator's resource, so a recipe tried here can be handed on.
    if let Ok(target) = command.backend.parse::<OperatorTarget>() {
        let spec = spec_from_args(&command.deploy, "k8s", 0)?;
        let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
        let render_options = K8sRenderOptions { namespace, ..Default::default() };
        let object = operators::render_operator(target, &spec, &render_options)?;
        print_k8s_objects(&[object], command.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let backend = registry::open(&command.backend, &options).map_err(|err| match err {
        BackendError::UnknownBackend(name) => {
            eyre!("render: unknown target `{name}`, expected one of: {}, nimservice, aimservice, kserve", registry::NAMES.join(", "))
        }
        err => err.into(),
    })?;
    let spec = spec_from_args(&command.deploy, &command.backend, options.gpus.len())?;
    let rendered = backend.render(&spec)?;
    if command.backend == crate::backend::kubernetes::adapter::NAME {
        // The adapter always renders a v1 List; anything else is a bug to report, not an empty page.
        let items = rendered["items"].as_array().ok_or_else(|| eyre!("render k8s: the Kubernetes backend rendered no object list"))?;
        print_k8s_objects(items, command.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    if command.json || command.backend != "process" {
        println!("{}", serde_json::to_string_pretty(&rendered)?);
        return Ok(ExitCode::SUCCESS);
    }
    for replica in rendered["replicas"].as_array().into_iter().flatten() {
        println!("# {}-{} on port {}", spec.name, replica["index"], replica["port"]);
        for (name, value) in replica["env"].as_object().into_iter().flatten() {
            println!("{name}={}", value.as_str().unwrap_or_default());
        }
        println!("{}", replica["command"].as_str().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

/// Kubernetes objects on stdout: a multi-document YAML stream for `kubectl apply -f -`, or with
/// `json` the `v1` `List` scripts read. Shared by `aimdeck render` and `aimdeck k8s render`.
pub fn print_k8s_objects(objects: &[Value], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&k8s_render::values_to_list(objects))?)?;
    } else {
        write!(out, "{}", k8s_render::values_to_yaml(objects)?)?;
    }
    Ok(())
}
