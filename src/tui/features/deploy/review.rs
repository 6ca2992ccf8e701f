//! The head of the create review: how `ops::resolve` reached the spec, in lines for the pager.

use crate::ops::Resolution;

/// `image_status`: what the engine said about the image (empty when not asked).
pub fn summary(resolution: &Resolution, backend: &str, image_status: &str) -> Vec<String> {
    let spec = &resolution.spec;
    let mut lines = Vec::new();
    match &resolution.recipe {
        Some(id) => lines
            .push(format!("Recipe     {id}{}", if resolution.derived { " (derived)" } else { "" })),
        None => lines.push("Recipe     none".to_string()),
    }
    lines.push(format!("Why        {}", resolution.reason));
    let p = spec.parallelism;
    lines.push(format!(
        "Runs       {} on {} {} GPU(s) per replica, tp {} pp {} dp {}, {} replica(s) on {backend}",
        spec.engine,
        spec.gpus_per_replica,
        spec.gpu_vendor.map(|v| v.as_str()).unwrap_or("no"),
        p.tp,
        p.pp,
        p.dp,
        spec.replicas
    ));
    if let Some(len) = spec.max_model_len {
        lines.push(format!("Context    {len} tokens"));
    }
    let image = spec
        .image
        .as_deref()
        .or(spec.command.as_ref().and(Some("(a program on this host)")))
        .unwrap_or("-");
    lines.push(match image_status {
        "" => format!("Image      {image}"),
        status => format!("Image      {image}: {status}"),
    });
    if !resolution.from_recipe.is_empty() {
        lines.push(format!("From recipe {}", resolution.from_recipe.join(", ")));
    }
    lines.push(format!(
        "Overridden {}",
        if resolution.overrides.is_empty() {
            "nothing".to_string()
        } else {
            resolution.overrides.join(", ")
        }
    ));
    if let Some(fit) = &resolution.fit {
        lines.push(format!("Fit        {}", fit.verdict));
    }
    for runner in resolution.runners_up.iter().take(3) {
        lines.push(format!("Not        {}: {}", runner.id, runner.why));
    }
    lines.push(String::new());
    lines
}
