//! The host's GPUs as the allocator needs them, for the headless CLI. The console passes the
//! hardware view's topology instead; this reads only what placement needs: AMD from KFD sysfs
//! (`gpu_id` != 0 nodes, `drm_render_minor`), NVIDIA from `nvidia-smi --query-gpu=index`.

use std::path::Path;

use super::allocator::AllocatableGpu;

pub fn detect() -> Vec<AllocatableGpu> {
    let amd = from_kfd(Path::new("/sys/class/kfd/kfd/topology/nodes"));
    if !amd.is_empty() {
        return amd;
    }
    from_nvidia_smi()
}

/// KFD topology nodes in node order; CPU nodes (`gpu_id 0`) are skipped, so GPU `i` is the
/// `i`-th GPU node, as `HIP_VISIBLE_DEVICES` counts them.
pub fn from_kfd(nodes: &Path) -> Vec<AllocatableGpu> {
    let Ok(entries) = std::fs::read_dir(nodes) else { return Vec::new() };
    let mut numbered: Vec<(u32, std::path::PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .collect();
    numbered.sort();
    let mut gpus = Vec::new();
    for (_, dir) in numbered {
        let Ok(text) = std::fs::read_to_string(dir.join("properties")) else { continue };
        let value = |key: &str| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once(' ')?;
                (k == key).then(|| v.trim().parse::<u64>().ok()).flatten()
            })
        };
        if value("gpu_id").unwrap_or(0) == 0 {
            continue;
        }
        gpus.push(AllocatableGpu {
            render_minor: value("drm_render_minor").map(|m| m as u32),
            ..AllocatableGpu::plain(gpus.len() as u32)
        });
    }
    gpus
}

fn from_nvidia_smi() -> Vec<AllocatableGpu> {
    let Ok(out) = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=index", "--format=csv,noheader,nounits"])
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .map(AllocatableGpu::plain)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfd_gpu_nodes_are_numbered_in_order_and_cpus_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let node = |n: u32, props: &str| {
            let path = dir.path().join(n.to_string());
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("properties"), props).unwrap();
        };
        node(0, "cpu_cores_count 96\nsimd_count 0\ngpu_id 0\n");
        node(1, "simd_count 1216\ndrm_render_minor 128\nvendor_id 4098\ngpu_id 45631\n");
        node(2, "simd_count 1216\ndrm_render_minor 136\nvendor_id 4098\ngpu_id 11902\n");
        let gpus = from_kfd(dir.path());
        assert_eq!(gpus.len(), 2);
        assert_eq!((gpus[1].index, gpus[1].render_minor), (1, Some(136)));
    }
}
