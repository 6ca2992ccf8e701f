//! Who uses each GPU's memory: `nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid`
//! (MiB with `nounits`) and `amd-smi process --json` (ROCm/amdsmi `amdsmi_commands.py`
//! `process()`: per GPU a `process_list` of `{"process_info": {name, pid, mem_usage, ...}}`, or
//! the string "No running processes detected"). Each PID is then placed through
//! `/proc/PID/cgroup` in a Docker container or a Kubernetes pod.

use std::path::Path;

use serde_json::Value;

use crate::model::gpu::{Gpu, GpuProcess};

use super::amd_values::{at, bytes, gpu_entries, gpu_index, parse_json, reading, text};

pub const NVIDIA_ARGS: [&str; 2] =
    ["--query-compute-apps=pid,process_name,used_memory,gpu_uuid", "--format=csv,noheader,nounits"];
pub const AMD_ARGS: [&str; 2] = ["process", "--json"];

/// Puts each compute app on the GPU with its UUID.
pub fn apply_nvidia(gpus: &mut [Gpu], csv: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for (number, line) in csv.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        // The process name may itself contain commas; the UUID is last and the memory before it.
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 4 {
            warnings.push(format!(
                "nvidia-smi --query-compute-apps: line {}: expected 4 fields, found {}",
                number + 1,
                fields.len()
            ));
            continue;
        }
        let Ok(pid) = fields[0].parse::<u32>() else {
            warnings.push(format!(
                "nvidia-smi --query-compute-apps: line {}: pid `{}` is not a number",
                number + 1,
                fields[0]
            ));
            continue;
        };
        let uuid = fields[fields.len() - 1];
        let memory =
            fields[fields.len() - 2].parse::<f64>().ok().map(|mib| (mib * 1024.0 * 1024.0) as u64);
        let name = fields[1..fields.len() - 2].join(",");
        let Some(gpu) = gpus.iter_mut().find(|g| g.uuid.as_deref() == Some(uuid)) else { continue };
        gpu.processes.push(process(pid, &name, memory));
    }
    warnings
}

/// Puts each process of `amd-smi process --json` on its GPU.
pub fn apply_amd(gpus: &mut [Gpu], json: &str) -> Result<(), String> {
    let doc = parse_json(json).map_err(|why| format!("amd-smi process --json: {why}"))?;
    for entry in gpu_entries(&doc).map_err(|why| format!("amd-smi process --json: {why}"))? {
        let Some(index) = gpu_index(entry) else { continue };
        let Some(gpu) = gpus.iter_mut().find(|g| g.index == index) else { continue };
        let Some(Value::Array(list)) = entry.get("process_list") else { continue };
        for item in list {
            // "No running processes detected" is a string where the object would be.
            let Some(info) = item.get("process_info").filter(|v| v.is_object()) else { continue };
            let Some(pid) = info.get("pid").and_then(reading).map(|p| p as u32) else { continue };
            let memory = at(info, &["memory_usage", "vram_mem"])
                .and_then(bytes)
                .or_else(|| info.get("mem_usage").and_then(bytes));
            gpu.processes.push(process(pid, &text(info.get("name")).unwrap_or_default(), memory));
        }
    }
    Ok(())
}

fn process(pid: u32, name: &str, memory: Option<u64>) -> GpuProcess {
    let name = name.trim();
    GpuProcess {
        pid,
        name: (!name.is_empty() && !name.starts_with('[') && !name.eq_ignore_ascii_case("n/a"))
            .then(|| short_name(name)),
        used_memory_bytes: memory,
        container_id: None,
        pod_uid: None,
        holder: None,
        parent_pids: Vec::new(),
    }
}

/// `/usr/bin/python3` -> `python3`: nvidia-smi prints the full path.
fn short_name(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

/// Fills container ids and pod UIDs from `<proc_root>/<pid>/cgroup`. A process that has gone
/// (or a PID from another PID namespace) keeps `None`.
pub fn fill_cgroups(proc_root: &Path, gpus: &mut [Gpu]) {
    for process in gpus.iter_mut().flat_map(|g| g.processes.iter_mut()) {
        let Ok(text) =
            std::fs::read_to_string(proc_root.join(process.pid.to_string()).join("cgroup"))
        else {
            continue;
        };
        let (container, pod) = parse_cgroup(&text);
        process.container_id = container;
        process.pod_uid = pod;
        process.parent_pids = parents(proc_root, process.pid);
    }
}

/// The parent chain from `<pid>/stat` (field 4, after the parenthesised name), nearest first,
/// at most 8 deep: far enough for an engine's workers, bounded against loops.
fn parents(proc_root: &Path, pid: u32) -> Vec<u32> {
    let mut chain = Vec::new();
    let mut current = pid;
    while chain.len() < 8 {
        let Ok(stat) = std::fs::read_to_string(proc_root.join(current.to_string()).join("stat"))
        else {
            break;
        };
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            break;
        };
        if ppid <= 1 || chain.contains(&ppid) {
            break;
        }
        chain.push(ppid);
        current = ppid;
    }
    chain
}

/// The container id and pod UID in a `/proc/PID/cgroup` file, for both cgroup drivers:
/// cgroupfs (`/docker/<id>`, `/kubepods/burstable/pod<uid>/<id>`) and systemd
/// (`/system.slice/docker-<id>.scope`, `kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope`).
pub fn parse_cgroup(text: &str) -> (Option<String>, Option<String>) {
    let mut container = None;
    let mut pod = None;
    for line in text.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        for part in path.split('/') {
            let part =
                part.strip_suffix(".scope").or_else(|| part.strip_suffix(".slice")).unwrap_or(part);
            if let Some(uid) =
                part.rsplit_once("-pod").map(|(_, uid)| uid).or_else(|| part.strip_prefix("pod"))
            {
                if uid.len() >= 32 {
                    pod = Some(uid.replace('_', "-"));
                }
                continue;
            }
            let id = part.rsplit(['-', ':']).next().unwrap_or(part);
            if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                container = Some(id.to_string());
            }
        }
        if container.is_some() {
            break;
        }
    }
    (container, pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    const ID: &str = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";

    #[test]
    fn both_cgroup_drivers_and_kubernetes() {
        assert_eq!(parse_cgroup(&format!("12:memory:/docker/{ID}\n0::/\n")).0.as_deref(), Some(ID));
        assert_eq!(
            parse_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")).0.as_deref(),
            Some(ID)
        );
        let pod = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-{ID}.scope\n"
        );
        let (container, uid) = parse_cgroup(&pod);
        assert_eq!(container.as_deref(), Some(ID));
        assert_eq!(uid.as_deref(), Some("0a1b2c3d-1111-2222-3333-444455556666"));
        assert_eq!(parse_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), (None, None));
    }

    #[test]
    fn compute_apps_land_on_their_gpu_by_uuid() {
        let mut gpus =
            vec![Gpu::new(0, GpuVendor::Nvidia, "H100"), Gpu::new(1, GpuVendor::Nvidia, "H100")];
        gpus[1].uuid = Some("GPU-b".into());
        let warnings = apply_nvidia(&mut gpus, "4242, /usr/bin/python3, 72908, GPU-b\nbad\n");
        assert_eq!(warnings.len(), 1);
        assert_eq!(gpus[1].processes[0].describe(), "unmanaged: pid 4242 python3 (71.2 GiB)");
    }
}
