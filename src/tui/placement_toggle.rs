//! The console's `--allow-degraded` and `--partitions`: `A` and `M` flip what the create and
//! scale flows may place on (`GpuState::placement`, flipped by `GpuMsg::TogglePlacement`),
//! which `place_on_live_gpus` and the create review's resolution then use exactly as the CLI
//! uses its flags. Failed GPUs and GPUs
//! a process aimdeck did not start is using stay refused whatever is toggled.

use crate::backend::placement::PlacementPolicy;

/// "create and scale place on: healthy whole GPUs, degraded GPUs (A), partitions and MIG
/// devices (M)".
pub fn describe(policy: PlacementPolicy) -> String {
    let mut allowed = vec!["healthy whole GPUs"];
    if policy.allow_degraded {
        allowed.push("degraded GPUs (A)");
    }
    if policy.partitions {
        allowed.push("partitions and MIG devices (M)");
    }
    format!("create and scale place on: {}; never on failed GPUs", allowed.join(", "))
}

/// What every view's title says while a rule is toggled on, so it is not forgotten:
/// "place on: degraded, partitions "; nothing with the defaults.
pub fn title_note(policy: PlacementPolicy) -> Option<String> {
    let mut on = Vec::new();
    if policy.allow_degraded {
        on.push("degraded");
    }
    if policy.partitions {
        on.push("partitions");
    }
    (!on.is_empty()).then(|| format!("place on: {} ", on.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{Gpu, GpuPartition, GpuSnapshot, GpuVendor, HealthState};
    use crate::tui::App;
    use crate::tui::features::gpus::GpuMsg;
    use crate::tui::keymap::Action;

    /// The toggles reach the backend the console hands its GPUs to: a degraded GPU and a CPX
    /// partition are refused until toggled on, a failed GPU always.
    #[test]
    fn the_toggles_open_degraded_gpus_and_partitions_to_the_console_flows() {
        let mut gpus: Vec<Gpu> =
            (0..3).map(|i| Gpu::new(i, GpuVendor::Amd, "AMD Instinct MI300X")).collect();
        gpus[0].health.add(HealthState::Degraded, "throttle_thermal", "thermal throttling");
        gpus[1].partition = Some(GpuPartition {
            compute: Some("CPX".into()),
            memory: Some("NPS4".into()),
            partition_id: Some(1),
            parent: Some(1),
        });
        gpus[2].health.add(HealthState::Failed, "ecc_uncorrectable", "uncorrectable ECC: 4");
        let mut app = App::new(super::super::app::Settings::default());
        app.gpus.joined = Some(std::sync::Arc::new(GpuSnapshot { gpus, ..Default::default() }));
        let state = tempfile::tempdir().unwrap();
        let backend = crate::backend::process::ProcessBackend::new(state.path(), Vec::new());
        // What the create and scale commands carry to the backend (`live_gpus`).
        let place = |app: &App| {
            crate::backend::Backend::place_on(
                &backend,
                crate::tui::features::deploy::live_gpus(&app.ctx()).expect("GPUs polled"),
            )
        };
        let mut spec = crate::model::DeploymentSpec::minimal(
            "one",
            "org/m",
            crate::model::EngineKind::Vllm,
            1,
            18000,
        );
        spec.gpus_per_replica = 2;
        place(&app);
        let err = crate::backend::Backend::render(&backend, &spec).unwrap_err().to_string();
        assert!(err.contains("0 free"), "{err}");
        app.gpus_update(GpuMsg::TogglePlacement(Action::AllowDegraded));
        app.gpus_update(GpuMsg::TogglePlacement(Action::Partitions));
        assert_eq!(
            app.message.as_ref().map(|m| m.text.as_str()),
            Some(
                "create and scale place on: healthy whole GPUs, degraded GPUs (A), partitions \
                 and MIG devices (M); never on failed GPUs"
            )
        );
        assert_eq!(
            title_note(app.gpus.placement).as_deref(),
            Some("place on: degraded, partitions ")
        );
        assert_eq!(title_note(PlacementPolicy::default()), None, "no note with the defaults");
        place(&app);
        let placed = crate::backend::Backend::render(&backend, &spec).expect("GPUs 0 and 1 now");
        assert_eq!(placed["replicas"][0]["gpus"], serde_json::json!([0, 1]));
        spec.gpus_per_replica = 3;
        let err = crate::backend::Backend::render(&backend, &spec).unwrap_err().to_string();
        assert!(err.contains("GPU 2 failed: uncorrectable ECC: 4"), "{err}");
    }
}
