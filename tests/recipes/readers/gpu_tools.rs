//! The nvidia-smi, amd-smi and rocm-smi readers over mutated recordings and wrong-typed values.

use super::*;

const CSV_SEEDS: [&str; 4] = [
    "gpus/h100-sxm-8/nvidia-smi-query.csv",
    "gpus/a100-1/nvidia-smi-query.csv",
    "gpus/l40s-4-pcie/nvidia-smi-query.csv",
    "gpus/broken-nvidia-na/nvidia-smi-query.csv",
];
const TOPO_SEEDS: [&str; 4] = [
    "gpus/h100-sxm-8/nvidia-smi-topo.txt",
    "gpus/l40s-4-pcie/nvidia-smi-topo.txt",
    "gpus/topo-5gpu-phb-node-sys/nvidia-smi-topo.txt",
    "gpus/a100-1/nvidia-smi-topo.txt",
];
const AMD_DIRS: [&str; 2] = ["gpus/mi300x-8-amdsmi-bare", "gpus/mi300x-8-amdsmi-gpu-data"];

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn nvidia_smi_csv_reader_survives_mutations(pick in 0..CSV_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        let seed = fixture(CSV_SEEDS[pick]);
        let text = apply(&seed, &edits);
        let (gpus, warnings) = timed("nvidia csv", || nvidia::parse_query_csv(&text));
        // Every non-empty line is either a GPU or a warning that says which line.
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        prop_assert_eq!(gpus.len() + warnings.len(), lines, "{:?} {:?}", gpus, warnings);
        for warning in &warnings {
            prop_assert!(warning.starts_with("nvidia-smi --query-gpu: line "), "{}", warning);
        }
    }

    #[test]
    fn nvidia_smi_csv_reader_reads_generated_lines(rows in prop::collection::vec((0u64..200_000, 0u64..200_000, 0u32..101, 0u32..120), 1..16)) {
        let text: String = rows
            .iter()
            .enumerate()
            .map(|(i, (total, used, util, temp))| format!("{i}, GPU-{i:08x}, NVIDIA H100 80GB HBM3, {total}, {used}, {util}, {temp}, 70.5, 00000000:{i:02X}:00.0, 700.00\n"))
            .collect();
        let (gpus, warnings) = nvidia::parse_query_csv(&text);
        prop_assert!(warnings.is_empty(), "{warnings:?}");
        prop_assert_eq!(gpus.len(), rows.len());
        for (gpu, (total, used, util, _)) in gpus.iter().zip(&rows) {
            prop_assert_eq!(gpu.memory_total_bytes, Some(total * 1024 * 1024));
            prop_assert_eq!(gpu.memory_used_bytes, Some(used * 1024 * 1024));
            prop_assert_eq!(gpu.utilization_percent, Some(f64::from(*util)));
        }
    }

    #[test]
    fn nvidia_topo_reader_survives_mutations(pick in 0..TOPO_SEEDS.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        let text = apply(&fixture(TOPO_SEEDS[pick]), &edits);
        let (matrix, warnings) = timed("topo -m", || nvidia_topo::parse_topo_matrix(&text));
        let _ = (matrix, warnings);
        // Through the same assembly the live path uses.
        let report = timed("assemble", || nvidia::assemble(&fixture(CSV_SEEDS[0]), Some(&text)));
        for link in &report.links {
            prop_assert!(link.a < link.b, "a link is stored once, low index first: {link:?}");
        }
    }

    #[test]
    fn amd_smi_reader_survives_mutations(dir in 0..AMD_DIRS.len(), which in 0usize..4, edits in prop::collection::vec(mutation(), 1..5)) {
        let names = ["amd-smi-list.json", "amd-smi-static.json", "amd-smi-metric.json", "amd-smi-topology.json"];
        let mut docs: Vec<String> = names.iter().map(|n| fixture(&format!("{}/{n}", AMD_DIRS[dir]))).collect();
        docs[which] = apply(&docs[which], &edits);
        let outputs = AmdSmiOutputs { list: Some(&docs[0]), static_info: Some(&docs[1]), metric: Some(&docs[2]), topology: Some(&docs[3]) };
        match timed("amd-smi", || amd_smi::parse(outputs)) {
            Ok(report) => prop_assert!(report.gpus.len() <= 8),
            Err(why) => prop_assert!(why.starts_with("amd-smi"), "the error names the tool: {why}"),
        }
    }

    #[test]
    fn amd_smi_reader_survives_values_of_the_wrong_type(which in 0usize..4, path_pick in any::<prop::sample::Index>(), value in prop_oneof![
        Just(serde_json::json!("N/A")), Just(serde_json::json!(null)), Just(serde_json::json!(-1)),
        Just(serde_json::json!({"value": "x", "unit": "MB"})), Just(serde_json::json!([])), Just(serde_json::json!(1e308)),
    ]) {
        let names = ["amd-smi-list.json", "amd-smi-static.json", "amd-smi-metric.json", "amd-smi-topology.json"];
        let mut docs: Vec<String> = names.iter().map(|n| fixture(&format!("{}/{n}", AMD_DIRS[1]))).collect();
        let mut doc: serde_json::Value = serde_json::from_str(&docs[which]).expect("fixture is JSON");
        let mut leaves = Vec::new();
        collect_pointers(&doc, String::new(), &mut leaves);
        let pointer = &leaves[path_pick.index(leaves.len())];
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value;
        }
        docs[which] = doc.to_string();
        let outputs = AmdSmiOutputs { list: Some(&docs[0]), static_info: Some(&docs[1]), metric: Some(&docs[2]), topology: Some(&docs[3]) };
        if let Err(why) = timed("amd-smi", || amd_smi::parse(outputs)) {
            prop_assert!(why.starts_with("amd-smi"), "{why}");
        }
    }

    #[test]
    fn rocm_smi_reader_survives_mutations(which in 0usize..2, edits in prop::collection::vec(mutation(), 1..5)) {
        let mut info = fixture("gpus/mi300x-8-rocm-smi/rocm-smi-info.json");
        let mut topo = fixture("gpus/mi300x-8-rocm-smi/rocm-smi-topo.json");
        if which == 0 { info = apply(&info, &edits) } else { topo = apply(&topo, &edits) }
        match timed("rocm-smi", || rocm_smi::parse(&info, Some(&topo))) {
            Ok(report) => prop_assert!(report.gpus.len() <= 8),
            Err(why) => prop_assert!(why.starts_with("rocm-smi"), "{why}"),
        }
    }
}

fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                collect_pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
