//! The KFD sysfs reader over generated and damaged topology trees.

use super::*;

#[derive(Debug, Clone)]
struct KfdNode {
    gpu: bool,
    /// Lines of noise added to its properties file.
    noise: Vec<String>,
    /// Replace the properties file by unreadable bytes.
    garbage: Option<Vec<u8>>,
}

fn kfd_node() -> impl Strategy<Value = KfdNode> {
    (
        any::<bool>(),
        prop::collection::vec("[ -~]{0,24}", 0..3),
        prop::option::weighted(0.15, prop::collection::vec(any::<u8>(), 0..64)),
    )
        .prop_map(|(gpu, noise, garbage)| KfdNode { gpu, noise, garbage })
}

/// Writes a KFD topology in the kernel's layout (see tests/fixtures/gpus/README.md): CPU nodes
/// first with `gpu_id` 0, then MI300X nodes, each GPU linked to every other GPU by XGMI.
fn write_kfd(root: &Path, nodes: &[KfdNode]) {
    let gpu_ids: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].gpu).collect();
    fs::create_dir_all(root.join("nodes")).unwrap();
    for (i, node) in nodes.iter().enumerate() {
        let dir = root.join("nodes").join(i.to_string());
        fs::create_dir_all(dir.join("mem_banks/0")).unwrap();
        let mut props = if node.gpu {
            format!(
                "cpu_cores_count 0\nsimd_count 1216\nvendor_id 4098\ndevice_id 29857\nlocation_id {}\ndomain 0\ndrm_render_minor {}\ngfx_target_version 90402\n",
                (i as u64) << 8,
                128 + i
            )
        } else {
            "cpu_cores_count 48\nsimd_count 0\nvendor_id 0\n".to_string()
        };
        for line in &node.noise {
            props.push_str(line);
            props.push('\n');
        }
        match &node.garbage {
            Some(bytes) => fs::write(dir.join("properties"), bytes).unwrap(),
            None => fs::write(dir.join("properties"), props).unwrap(),
        }
        fs::write(
            dir.join("gpu_id"),
            if node.gpu { format!("{}\n", 1000 + i) } else { "0\n".to_string() },
        )
        .unwrap();
        fs::write(dir.join("mem_banks/0/properties"), "heap_type 1\nsize_in_bytes 206141652992\n")
            .unwrap();
        if node.gpu {
            for (k, &peer) in gpu_ids.iter().filter(|&&p| p != i).enumerate() {
                let link = dir.join("io_links").join(k.to_string());
                fs::create_dir_all(&link).unwrap();
                fs::write(
                    link.join("properties"),
                    format!("type 11\nnode_from {i}\nnode_to {peer}\nweight 15\n"),
                )
                .unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn kfd_reader_reads_generated_trees_and_survives_damaged_files(nodes in prop::collection::vec(kfd_node(), 0..10)) {
        let tmp = tempfile::tempdir().unwrap();
        write_kfd(tmp.path(), &nodes);
        let report = timed("kfd read", || kfd::read(tmp.path()));
        let report = report.expect("a readable tree is not an error").expect("nodes/ exists");
        // Noise lines never hide a GPU; a garbage properties file may, and must not panic.
        let intact_gpus = nodes.iter().filter(|n| n.gpu && n.garbage.is_none()).count();
        let all_gpus = nodes.iter().filter(|n| n.gpu).count();
        prop_assert!(report.gpus.len() >= intact_gpus && report.gpus.len() <= all_gpus, "{} GPUs, {intact_gpus}..={all_gpus} expected", report.gpus.len());
        if nodes.iter().all(|n| n.garbage.is_none()) {
            prop_assert_eq!(report.gpus.len(), all_gpus);
            prop_assert_eq!(report.links.len(), all_gpus * all_gpus.saturating_sub(1) / 2);
            for gpu in &report.gpus {
                prop_assert_eq!(gpu.memory_total_bytes, Some(206141652992));
                prop_assert!(gpu.render_node.as_deref().is_some_and(|r| r.starts_with("/dev/dri/renderD")));
            }
        }
    }
}
