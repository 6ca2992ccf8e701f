//! One discovery pass: run every provider (tools concurrently, each with its own deadline),
//! fall back along the AMD chain (amd-smi, then rocm-smi, then the KFD tree) and merge.
//! Nothing here fails: a missing tool is silent, a broken one is a warning in the snapshot.

use std::path::Path;

use crate::model::gpu::GpuSnapshot;

use super::amd_smi::{self, AmdSmiOutputs};
use super::probe::ProbeConfig;
use super::report::ProviderReport;
use super::runner::{ToolError, run_tool};
use super::{kfd, merge, nvidia, nvidia_health, nvidia_mig, processes, rocm_smi, xid};

pub async fn discover(config: &ProbeConfig) -> GpuSnapshot {
    let mut snapshot = discover_without_affinity(config).await;
    let pci_root = config.pci_root.clone();
    let proc_root = config.proc_root.clone();
    let kernel_log = config.kernel_log.clone();
    let mut gpus = std::mem::take(&mut snapshot.gpus);
    // Small sysfs and procfs reads, but still blocking file I/O: keep them off the async workers.
    match tokio::task::spawn_blocking(move || {
        let filled = super::pci_sysfs::fill_affinity(&pci_root, &mut gpus);
        processes::fill_cgroups(&proc_root, &mut gpus);
        // XIDs are NVIDIA's; the log is read only where there is an NVIDIA GPU to blame.
        if gpus.iter().any(|g| g.vendor == crate::model::gpu::GpuVendor::Nvidia)
            && let Some(log) = xid::read(&kernel_log)
        {
            xid::apply(&mut gpus, &xid::parse(&log));
        }
        (gpus, filled)
    })
    .await
    {
        Ok((gpus, _)) => snapshot.gpus = gpus,
        Err(err) => snapshot.warnings.push(format!("pci sysfs: reader failed: {err}")),
    }
    snapshot
}

async fn discover_without_affinity(config: &ProbeConfig) -> GpuSnapshot {
    let mut warnings = Vec::new();
    let kfd_root = config.kfd_root.clone();
    let pci_root = config.pci_root.clone();
    let kfd_task =
        tokio::task::spawn_blocking(move || kfd::read_with_pci(&kfd_root, Some(&pci_root)));
    let (nvidia, amd) = tokio::join!(discover_nvidia(config), discover_amd_tools(config));
    let (nvidia, nvidia_warnings) = nvidia;
    warnings.extend(nvidia_warnings);
    let (amd, amd_warnings) = amd;
    warnings.extend(amd_warnings);

    let kfd = match kfd_task.await {
        Ok(Ok(found)) => found,
        Ok(Err(why)) => {
            warnings.push(format!("kfd sysfs: {why}"));
            None
        }
        Err(err) => {
            warnings.push(format!("kfd sysfs: reader failed: {err}"));
            None
        }
    };
    let mut reports: Vec<ProviderReport> = nvidia.into_iter().collect();
    match amd {
        Some(amd) => {
            reports.push(amd);
            return merge::merge(reports, kfd.as_ref().filter(|k| !k.gpus.is_empty()), warnings);
        }
        // No AMD tool answered: the KFD tree is the AMD provider itself.
        None => {
            if let Some(kfd) = kfd.filter(|k| !k.gpus.is_empty() || !k.warnings.is_empty()) {
                reports.push(kfd);
            }
        }
    }
    merge::merge(reports, None, warnings)
}

async fn discover_nvidia(config: &ProbeConfig) -> (Option<ProviderReport>, Vec<String>) {
    let mut warnings = Vec::new();
    #[cfg(feature = "nvml")]
    if config.use_nvml {
        match tokio::task::spawn_blocking(super::nvml::read).await {
            Ok(Ok(mut report)) => {
                match run_tool(&config.nvidia_smi, &["topo", "-m"], config.tool_timeout).await {
                    Ok(topo) => nvidia::apply_topology(&mut report, &topo),
                    Err(err) => note(&mut warnings, &config.nvidia_smi, err),
                }
                return (Some(report), warnings);
            }
            Ok(Err(why)) => warnings.push(format!("nvml: {why}; falling back to nvidia-smi")),
            Err(err) => warnings.push(format!("nvml: reader failed: {err}")),
        }
    }
    let query_args = nvidia::query_args();
    let query_args: Vec<&str> = query_args.iter().map(String::as_str).collect();
    let health_args = nvidia_health::health_args(nvidia_health::REASON_PREFIXES[0]);
    let health_args: Vec<&str> = health_args.iter().map(String::as_str).collect();
    let timeout = config.tool_timeout;
    let program = config.nvidia_smi.as_path();
    let (query, topo, health, remapped, apps) = tokio::join!(
        run_tool(program, &query_args, timeout),
        run_tool(program, &["topo", "-m"], timeout),
        run_tool(program, &health_args, timeout),
        run_tool(program, &nvidia_health::REMAPPED_ROWS_ARGS, timeout),
        run_tool(program, &processes::NVIDIA_ARGS, timeout),
    );
    let query = match query {
        Ok(text) => text,
        Err(err) => {
            note(&mut warnings, program, err);
            return (None, warnings);
        }
    };
    let mut keep = |result: Result<String, ToolError>| match result {
        Ok(text) => Some(text),
        Err(err) => {
            note(&mut warnings, program, err);
            None
        }
    };
    let topo = keep(topo);
    let remapped = keep(remapped);
    let apps = keep(apps);
    let mut report = nvidia::assemble(&query, topo.as_deref());
    // Drivers before 535 know the clock event fields by their old name only.
    let (health, prefix) = match health {
        Ok(text) => (Some(text), nvidia_health::REASON_PREFIXES[0]),
        Err(ToolError::Failed { .. }) => {
            let legacy = nvidia_health::health_args(nvidia_health::REASON_PREFIXES[1]);
            let legacy: Vec<&str> = legacy.iter().map(String::as_str).collect();
            (keep(run_tool(program, &legacy, timeout).await), nvidia_health::REASON_PREFIXES[1])
        }
        Err(err) => (keep(Err(err)), nvidia_health::REASON_PREFIXES[0]),
    };
    if let Some(text) = health {
        report.warnings.extend(nvidia_health::apply_health_csv(&mut report.gpus, &text, prefix));
    }
    if let Some(text) = remapped {
        report.warnings.extend(nvidia_health::apply_remapped_rows(&mut report.gpus, &text));
    }
    if let Some(text) = apps {
        report.warnings.extend(processes::apply_nvidia(&mut report.gpus, &text));
    }
    if report.gpus.iter().any(|g| g.mig_enabled == Some(true)) {
        match run_tool(program, &nvidia_mig::LIST_ARGS, timeout).await {
            Ok(listing) => nvidia_mig::apply(&mut report.gpus, &listing),
            Err(err) => note(&mut warnings, program, err),
        }
    }
    (Some(report), warnings)
}

/// amd-smi, else rocm-smi. `None` when neither gave a GPU list.
async fn discover_amd_tools(config: &ProbeConfig) -> (Option<ProviderReport>, Vec<String>) {
    let mut warnings = Vec::new();
    let timeout = config.tool_timeout;
    let program = config.amd_smi.as_path();
    let (list, static_info, metric, topology, processes) = tokio::join!(
        list_with_enumeration(program, timeout),
        run_tool(program, &["static", "--json"], timeout),
        run_tool(program, &["metric", "--json"], timeout),
        run_tool(program, &["topology", "--json"], timeout),
        run_tool(program, &processes::AMD_ARGS, timeout),
    );
    let mut keep = |result: Result<String, ToolError>| match result {
        Ok(text) => Some(text),
        Err(err) => {
            note(&mut warnings, program, err);
            None
        }
    };
    let (list, static_info, metric, topology) =
        (keep(list), keep(static_info), keep(metric), keep(topology));
    let processes = keep(processes);
    if static_info.is_some() {
        let outputs = AmdSmiOutputs {
            list: list.as_deref(),
            static_info: static_info.as_deref(),
            metric: metric.as_deref(),
            topology: topology.as_deref(),
        };
        match amd_smi::parse(outputs) {
            Ok(mut report) => {
                if let Some(text) = processes
                    && let Err(why) = processes::apply_amd(&mut report.gpus, &text)
                {
                    report.warnings.push(why);
                }
                return (Some(report), warnings);
            }
            Err(why) => warnings.push(why),
        }
    }

    let rocm = config.rocm_smi.as_path();
    let (info, topo) = tokio::join!(
        run_tool(rocm, &rocm_smi::INFO_ARGS, timeout),
        run_tool(rocm, &rocm_smi::TOPO_ARGS, timeout)
    );
    let info = match info {
        Ok(text) => text,
        Err(err) => {
            note(&mut warnings, rocm, err);
            return (None, warnings);
        }
    };
    let topo = match topo {
        Ok(text) => Some(text),
        Err(err) => {
            note(&mut warnings, rocm, err);
            None
        }
    };
    match rocm_smi::parse(&info, topo.as_deref()) {
        Ok(report) => (Some(report), warnings),
        Err(why) => {
            warnings.push(why);
            (None, warnings)
        }
    }
}

/// `list -e` adds the render node (ROCm 6.4+); older amd-smi rejects `-e`, so retry plain.
async fn list_with_enumeration(
    program: &Path,
    timeout: std::time::Duration,
) -> Result<String, ToolError> {
    match run_tool(program, &["list", "-e", "--json"], timeout).await {
        Err(ToolError::Failed { .. }) => run_tool(program, &["list", "--json"], timeout).await,
        other => other,
    }
}

/// A missing tool is normal (that vendor is absent) unless the user named its path. When
/// every subcommand of a tool fails the same way (driver not loaded), one line says so.
fn note(warnings: &mut Vec<String>, program: &Path, err: ToolError) {
    if matches!(err, ToolError::NotFound { .. }) && program.components().count() == 1 {
        return;
    }
    let prefix = format!("`{} ", program.display());
    let repeated = match &err {
        ToolError::Failed { stderr, .. } => {
            warnings.iter().any(|w| w.starts_with(&prefix) && w.ends_with(stderr.as_str()))
        }
        ToolError::TimedOut { .. } => {
            warnings.iter().any(|w| w.starts_with(&prefix) && w.contains("did not finish"))
        }
        _ => false,
    };
    let message = err.to_string();
    if !repeated && !warnings.contains(&message) {
        warnings.push(message);
    }
}
