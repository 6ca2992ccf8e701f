//! The console's create wizard: a form, then (when no recipe is named and the model has some)
//! a picker of the model's recipes, best first with their fit on this host's GPUs, then a review
//! of the resolved spec. The form fills the same `ops::DeployRequest` the CLI's flags fill, and
//! `ops::resolve` makes the spec: the console builds no spec of its own.

use std::collections::BTreeMap;

use crate::model::EngineKind;
use crate::ops::{self, DeployRequest, Environment, Overrides, Resolution, Target};
use crate::tui::ctx::{Ctx, Turn};
use crate::tui::event::Command;
use crate::tui::features::deploy::DeployState;
use crate::tui::messages::Level;
use crate::tui::mode::PickPurpose;
use crate::tui::mode::{FormPurpose, Mode};
use crate::tui::views::ViewId;
use crate::tui::widgets::Form;
use crate::tui::widgets::form::FormField;
use crate::tui::widgets::picker::{Picker, PickerItem};

/// Picker value meaning "no recipe: the engine's defaults".
pub const NO_RECIPE: &str = "none";

/// The form's values by field name, empty meaning "not given".
pub type FormValues = BTreeMap<String, String>;

fn parse<T: std::str::FromStr>(
    values: &FormValues,
    field: &str,
    what: &str,
) -> Result<Option<T>, String> {
    match values.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| format!("{field}: `{text}` is not {what}"))
        }
    }
}

/// The request the form describes: the same fields as `aimdeck deploy`'s flags.
pub fn request_from_form(values: &FormValues) -> Result<DeployRequest, String> {
    let text = |field: &str| values.get(field).map(|v| v.trim().to_string()).unwrap_or_default();
    let backend = text("backend");
    let mut request = DeployRequest::new(&text("name"), &text("model"), &backend);
    match text("recipe").as_str() {
        "" => {}
        NO_RECIPE => request.no_recipe = true,
        id => request.recipe = Some(id.to_string()),
    }
    request.replicas = parse(values, "replicas", "a whole number")?.unwrap_or(1);
    let image = text("image");
    let words: Vec<String> = image.split_whitespace().map(str::to_string).collect();
    let on_process = backend == crate::backend::process::NAME;
    request.overrides = Overrides {
        engine: parse::<EngineKind>(values, "engine", "vllm or sglang")?,
        // On the process backend this field is the program run in the engine's place.
        image: (!on_process && !image.is_empty()).then_some(image.clone()),
        command: (on_process && !words.is_empty()).then_some(words),
        gpus: parse(values, "gpus", "a whole number")?,
        tp: parse(values, "tp", "a whole number")?,
        pp: parse(values, "pp", "a whole number")?,
        port: parse(values, "port", "a port number")?,
        extra_args: text("extra_args").split_whitespace().map(str::to_string).collect(),
        ..Overrides::default()
    };
    Ok(request)
}

fn form_values(form: &Form) -> FormValues {
    [
        "name",
        "model",
        "recipe",
        "engine",
        "backend",
        "replicas",
        "port",
        "image",
        "gpus",
        "tp",
        "pp",
        "extra_args",
    ]
    .iter()
    .map(|field| (field.to_string(), form.value(field).unwrap_or_default()))
    .collect()
}

fn whole_or_empty(v: &str) -> Result<(), String> {
    match v.trim() {
        "" => Ok(()),
        text => text.parse::<u32>().map(|_| ()).map_err(|_| "a whole number, or empty".to_string()),
    }
}

impl Turn<'_, DeployState> {
    /// The create form; on a Recipes row (also reached with `R` from the Cache view) it is
    /// prefilled with that recipe and its model.
    pub(crate) fn open_create_form(&mut self) {
        // After a create the backend refused: the form as it was sent, with the cause.
        if let Some((values, cause)) = self.state.retry.take() {
            self.reopen(values, cause);
            return;
        }
        let form = self.create_form();
        self.open(Mode::Form(form, FormPurpose::Create));
    }

    /// The backend refused the create of `name`: its form comes back with the values as they
    /// were sent and the whole cause, at once when nothing else is open, else on the next `c`.
    /// Returns the hint for the message line.
    pub(crate) fn create_refused(&mut self, name: &str, cause: &str) -> &'static str {
        let Some(values) = self.state.submitted.remove(name) else { return "" };
        if matches!(self.ctx.mode, Mode::Normal) {
            self.reopen(values, cause.to_string());
            ""
        } else {
            self.state.retry = Some((values, cause.to_string()));
            "; c reopens the create form with its values"
        }
    }

    fn create_form(&self) -> Form {
        let recipe = if self.ctx.view == ViewId::Recipes {
            self.ctx.recipes.selected(self.ctx).map(|r| r.recipe.clone())
        } else {
            None
        };
        let model = recipe.as_ref().map(|r| r.model.repo.clone()).unwrap_or_default();
        let recipe_id = recipe.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        let name =
            model.rsplit('/').next().unwrap_or("").to_ascii_lowercase().replace(['.', '_'], "-");
        let backends: Vec<String> = self.state.backends.clone();
        let known = backends.clone();
        Form::new(
            "Create a deployment",
            vec![
                FormField::line("name", "Name", &name)
                    .hint("a DNS label: lowercase letters, digits and -")
                    .validate_with(|v| {
                        crate::backend::validate_name(v.trim()).map_err(|e| e.to_string())
                    }),
                FormField::line("model", "Model", &model)
                    .hint("Hugging Face repo id, org/name")
                    .validate_with(|v| {
                        if v.trim().contains('/') {
                            Ok(())
                        } else {
                            Err("expected org/name".into())
                        }
                    }),
                FormField::line("recipe", "Recipe", &recipe_id)
                    .hint("empty: choose from the model's; none: engine defaults"),
                FormField::line("engine", "Engine", "")
                    .hint("vllm or sglang; empty: the recipe's, else vllm")
                    .validate_with(|v| {
                        if v.trim().is_empty() {
                            Ok(())
                        } else {
                            v.trim().parse::<EngineKind>().map(|_| ())
                        }
                    }),
                FormField::line("backend", "Backend", &self.state.active)
                    .hint(format!("one of {}", backends.join(", ")))
                    .validate_with(move |v| {
                        if known.iter().any(|b| b == v.trim()) {
                            Ok(())
                        } else {
                            Err(format!("one of {}", known.join(", ")))
                        }
                    }),
                FormField::line("replicas", "Replicas", "1").hint("1 to 64").validate_with(|v| {
                    match v.trim().parse::<u32>() {
                        Ok(1..=64) => Ok(()),
                        _ => Err("1 to 64".into()),
                    }
                }),
                FormField::line("port", "Port", "")
                    .hint("of replica 0; empty: 8000 vLLM, 30000 SGLang")
                    .validate_with(|v| {
                        if v.trim().is_empty() {
                            Ok(())
                        } else {
                            v.trim()
                                .parse::<u16>()
                                .map(|_| ())
                                .map_err(|_| "a port number".to_string())
                        }
                    }),
                FormField::line("image", "Image", "")
                    .hint("or the program on the process backend; empty: the recipe's"),
                FormField::line("gpus", "GPUs", "")
                    .hint("per replica; empty: the recipe's, else tp x pp")
                    .validate_with(whole_or_empty),
                FormField::line("tp", "Tensor parallel", "")
                    .hint("empty: the recipe's, else 1")
                    .validate_with(whole_or_empty),
                FormField::line("pp", "Pipeline parallel", "")
                    .hint("empty: the recipe's, else 1")
                    .validate_with(whole_or_empty),
                FormField::line("extra_args", "Extra args", "")
                    .hint("engine flags, e.g. --enable-prefix-caching"),
            ],
        )
    }

    /// Enter on the form: with no recipe named and recipes for the model in the library, the
    /// picker comes first; otherwise straight to the review.
    pub(crate) fn create_submitted(&mut self, form: &Form) -> Result<Vec<Command>, String> {
        let values = form_values(form);
        let wants_picker =
            values.get("recipe").is_some_and(|r| r.trim().is_empty())
                && self.ctx.recipes.library.as_deref().is_some_and(|lib| {
                    crate::recipes::select::has_recipe(lib, values["model"].trim())
                });
        if wants_picker { Ok(self.open_recipe_picker(values)) } else { self.review_values(values) }
    }

    /// The model's recipes, best first for this host's GPUs, each with its fit or why it cannot run here.
    fn open_recipe_picker(&mut self, values: FormValues) -> Vec<Command> {
        let Some(library) = self.ctx.recipes.library.clone() else {
            return self.review_values(values.clone()).unwrap_or_else(|e| self.reopen(values, e));
        };
        let backend = values.get("backend").cloned().unwrap_or_default();
        let target = self.console_target(&backend);
        let hardware = ops::target::selector_hardware(&target);
        let query = crate::recipes::SelectQuery {
            model: values["model"].trim().to_string(),
            ..Default::default()
        };
        let selection = crate::recipes::select(&library, &query, hardware.as_ref(), None);
        let mut items: Vec<PickerItem> = selection
            .candidates
            .iter()
            .filter(|c| !c.derived)
            .map(|c| {
                let mark = match c.rank {
                    Some(1) => "best".to_string(),
                    Some(rank) => format!("#{rank}"),
                    None => "no".to_string(),
                };
                let why = if c.accepted {
                    c.fit.as_ref().map(|f| f.verdict.clone()).unwrap_or_default()
                } else {
                    c.rejections.join("; ")
                };
                PickerItem {
                    value: c.id.clone(),
                    label: format!("{mark:>4} {}", c.id),
                    detail: why,
                    current: c.rank == Some(1),
                }
            })
            .collect();
        items.push(PickerItem {
            value: NO_RECIPE.into(),
            label: "     none: the engine's defaults".into(),
            detail: String::new(),
            current: false,
        });
        let note = format!("on {}", ops::target::describe(&target));
        self.state.draft = Some(values);
        self.open(Mode::Pick(
            Picker::new("Recipe", items).with_note(Some(note)),
            PickPurpose::CreateRecipe,
        ));
        Vec::new()
    }

    /// The picker's choice goes into the draft, then to the review.
    pub(crate) fn recipe_picked(&mut self, value: String) -> Vec<Command> {
        match self.state.draft.take() {
            Some(mut values) => {
                values.insert("recipe".into(), value);
                self.review_values(values.clone()).unwrap_or_else(|e| self.reopen(values, e))
            }
            None => Vec::new(),
        }
    }

    /// The GPUs a deployment on `backend` would get: the GPU poller's last sample with who
    /// holds each, or the cluster's nodes as last read.
    pub(crate) fn console_target(&self, backend: &str) -> Target {
        if crate::ops::request::is_cluster_backend(backend) {
            return match self.ctx.cluster.inventory.as_ref().map(|i| &i.nodes) {
                Some(Ok(nodes)) => Target::Cluster { nodes: nodes.clone() },
                _ => Target::Unknown,
            };
        }
        let found =
            self.ctx.gpus.update.as_ref().map(|u| u.snapshot.gpus.as_slice()).unwrap_or(&[]);
        let mut gpus =
            crate::model::gpu_logical::logical_gpus(found, self.ctx.gpus.placement.partitions);
        crate::model::gpu::assign_holders(&mut gpus, &crate::tui::joins::gpu_claims(self.state));
        Target::Host { gpus }
    }

    /// The review of what the values resolve to; `Err` is the whole cause for the form.
    fn review_values(&mut self, values: FormValues) -> Result<Vec<Command>, String> {
        self.state.review_values = Some(values.clone());
        let request = request_from_form(&values).map_err(|err| format!("create: {err}"))?;
        let Some(backend) = self.state.backend(&request.backend).cloned() else {
            return Err(format!("create: backend {} is not open", request.backend));
        };
        let resolution =
            self.resolve_in_console(request).map_err(|err| format!("create: {err}"))?;
        Ok(self.open_create_review(backend, resolution))
    }

    /// After the recipe picker, a create that cannot go on reopens the form with the values
    /// typed and the cause.
    pub(crate) fn reopen(&mut self, values: FormValues, cause: String) -> Vec<Command> {
        let mut form = self.create_form();
        for (name, value) in &values {
            form.set_value(name, value);
        }
        self.remember(Level::Error, cause.clone());
        form.fail(cause);
        self.open(Mode::Form(form, FormPurpose::Create));
        Vec::new()
    }

    /// `ops::resolve` with what the console knows: its library, the GPUs it polls, and the
    /// preflight on their live memory. Pure over state; no I/O.
    fn resolve_in_console(&self, mut request: DeployRequest) -> Result<Resolution, String> {
        let library = self.ctx.recipes.library.clone().unwrap_or_default();
        request.placement = self.ctx.gpus.placement;
        request.target = self.console_target(&request.backend);
        let env = Environment {
            cache_home: self.ctx.cache.root.parent().map(std::path::Path::to_path_buf),
            device_vendor: None,
            cached_facts: None,
        };
        let resolution = ops::resolve(&request, &library, &env).map_err(|e| e.to_string())?;
        if let Target::Host { gpus } = &request.target
            && !gpus.is_empty()
        {
            // The joined snapshot: a GPU an unmanaged process uses counts as held.
            let snapshot = self.ctx.gpus.joined.as_deref().cloned().unwrap_or_default();
            let inventory = crate::ops::backends::allocatable_from(&snapshot, request.placement);
            let held: Vec<_> = self
                .state
                .deployments
                .get(&request.backend)
                .into_iter()
                .flatten()
                .map(|d| crate::backend::allocator::Holder {
                    deployment: d.name.clone(),
                    gpus: d.replicas.iter().flat_map(|r| r.gpus.clone()).collect(),
                })
                .collect();
            ops::preflight::host(&resolution, &inventory, &held, gpus, request.force)
                .map_err(|e| e.to_string())?;
        }
        Ok(resolution)
    }
}

/// Hands `backend` this host's GPUs as the poller last saw them, joined to the replicas,
/// under the rules the CLI's deploy and scale use (`placement::inventory`: failed never,
/// degraded and partitions only as toggled with `A` / `M`, unmanaged processes hold their
/// GPU), so the console's create and scale place where `aimdeck deploy|scale` would. No I/O:
/// the create or scale command carries them to the backend.
pub fn live_gpus(ctx: &Ctx) -> Option<Vec<crate::backend::AllocatableGpu>> {
    let snapshot = ctx.gpus.joined.as_deref().filter(|s| !s.gpus.is_empty())?;
    Some(crate::backend::placement::inventory(snapshot, ctx.gpus.placement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_unset_and_none_means_no_recipe() {
        let mut values: FormValues = [
            ("name", "a"),
            ("model", "org/m"),
            ("backend", "process"),
            ("recipe", "none"),
            ("image", "aimdeck-sim --x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let request = request_from_form(&values).unwrap();
        assert!(request.no_recipe);
        assert_eq!(
            request.overrides.command,
            Some(vec!["aimdeck-sim".to_string(), "--x".to_string()])
        );
        assert_eq!((request.overrides.tp, request.overrides.engine), (None, None));
        values.insert("tp".into(), "x".into());
        assert_eq!(request_from_form(&values).unwrap_err(), "tp: `x` is not a whole number");
    }

    /// The console's create and scale place through the same `placement::inventory` as the
    /// CLI: given `live_gpus`, the process backend refuses the failed GPU and names it.
    #[test]
    fn the_console_places_on_the_live_gpus_under_the_cli_rules() {
        use crate::model::gpu::{Gpu, GpuSnapshot, GpuVendor, HealthState};
        let mut gpus: Vec<Gpu> =
            (0..2).map(|i| Gpu::new(i, GpuVendor::Nvidia, "NVIDIA H100 80GB HBM3")).collect();
        gpus[1].health.add(HealthState::Failed, "xid_79", "XID 79: GPU has fallen off the bus");
        let mut app = crate::tui::App::new(crate::tui::app::Settings::default());
        app.gpus.joined = Some(std::sync::Arc::new(GpuSnapshot { gpus, ..Default::default() }));
        let state = tempfile::tempdir().unwrap();
        let all_free = (0..2).map(crate::backend::AllocatableGpu::plain).collect();
        let backend = crate::backend::process::ProcessBackend::new(state.path(), all_free);
        let mut spec =
            crate::model::DeploymentSpec::minimal("two", "org/m", EngineKind::Vllm, 1, 18000);
        spec.gpus_per_replica = 2;
        use crate::backend::Backend;
        assert!(backend.render(&spec).is_ok(), "both GPUs free before the sample is applied");
        backend.place_on(live_gpus(&app.ctx()).expect("the live GPUs"));
        let err = backend.render(&spec).unwrap_err().to_string();
        assert!(err.contains("GPU 1 failed: XID 79"), "{err}");
    }
}
