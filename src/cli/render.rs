//! `aimdeck render docker|process|k8s ...`: what `deploy` would create, with the same arguments,
//! secrets redacted (k8s as multi-document YAML unless `--json`). Creates nothing and needs no engine.

use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, eyre};

use super::GlobalArgs;
use super::deploy::{DeployArgs, backend_options, spec_from_args};
use crate::backend::registry;

#[derive(Debug, Args)]
pub struct RenderCommand {
    /// Backend to render for: docker, process or k8s
    pub backend: String,
    #[command(flatten)]
    pub deploy: DeployArgs,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(command: RenderCommand, global: &GlobalArgs) -> Result<ExitCode> {
    let options = backend_options(global, command.deploy.network);
    let spec = spec_from_args(&command.deploy, &command.backend, options.gpus.len())?;
    let backend = registry::open(&command.backend, &options)?;
    let rendered = backend.render(&spec)?;
    // Kubernetes objects print as the multi-document YAML kubectl takes (issue 8), like
    // `aimdeck k8s render k8s`; `--json` keeps the List for scripts.
    if command.backend == "k8s" && !command.json {
        // The adapter always renders a v1 List; anything else is a bug to report, not an empty page.
        let items = rendered["items"].as_array().ok_or_else(|| eyre!("render k8s: the Kubernetes backend rendered no object list"))?;
        print!("{}", crate::backend::kubernetes::render::values_to_yaml(items)?);
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
