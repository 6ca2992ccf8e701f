//! `aimdeck render docker|process|k8s|nimservice|aimservice|kserve ...`: what `deploy` would
//! create, with the same arguments, secrets redacted. Kubernetes objects print as the
//! multi-document YAML kubectl takes unless `--json`. Creates nothing and needs no engine.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, bail, eyre};
use serde_json::Value;

use super::GlobalArgs;
use super::deploy::DeployArgs;
use crate::backend::kubernetes::operators::OperatorTarget;
use crate::backend::kubernetes::render::{self as k8s_render, K8sRenderOptions};
use crate::backend::registry;

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
    let target = command.backend.as_str();
    let known = registry::NAMES.contains(&target) || target.parse::<OperatorTarget>().is_ok();
    if !known {
        bail!(
            "render: unknown target `{target}`, expected one of: {}, nimservice, aimservice, kserve",
            registry::NAMES.join(", ")
        );
    }
    let plan = super::plan::plan(&command.deploy, global, target, false).await?;
    super::plan::print_resolution(&plan.resolution);
    let spec = &plan.resolution.spec;
    if crate::ops::request::is_cluster_backend(target) {
        // The same objects `aimdeck k8s render` prints: one implementation in `ops::k8s`.
        let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
        let options = K8sRenderOptions { namespace, ..Default::default() };
        let objects = crate::ops::k8s::objects(target, spec, &options).map_err(|e| eyre!(e))?;
        print_k8s_objects(&objects, command.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let backend = plan.config.open(target)?;
    let mut rendered = backend.render(spec)?;
    if command.json || target != "process" {
        super::plan::add_resolution(&mut rendered, &plan.resolution);
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
