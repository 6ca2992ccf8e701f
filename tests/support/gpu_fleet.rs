//! Generated `nvidia-smi` output for a large machine: `gpus` H100s in NVLink islands of 8 (one
//! island per node's worth), in the recorded fixtures' exact shape, so the production parsers
//! read it. Shared by the 64-GPU view tests and `benches/frame.rs`.

/// The CSV of `nvidia-smi --query-gpu` and the `nvidia-smi topo -m` matrix for pass `pass`
/// (utilisation and memory move between passes so history has something to show).
pub fn nvidia_outputs(gpus: usize, pass: usize) -> (String, String) {
    let mut csv = String::new();
    for i in 0..gpus {
        let used = 1000 + (i * 977 + pass * 131) % 80000;
        let util = (i * 13 + pass * 7) % 100;
        csv.push_str(&format!(
            "{i}, GPU-{i:08x}-3f7d-5c8e-9a1b-0c2d3e4f5a60, NVIDIA H100 80GB HBM3, 81559, {used}, {util}, {}, {}.5, 00000000:{:02X}:00.0, 700.00\n",
            30 + i % 40,
            100 + i * 3,
            16 + i
        ));
    }
    let mut topo = String::new();
    for i in 0..gpus {
        topo.push_str(&format!("\tGPU{i}"));
    }
    topo.push_str("\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n");
    for row in 0..gpus {
        topo.push_str(&format!("GPU{row}"));
        for col in 0..gpus {
            let cell = if row == col {
                " X "
            } else if row / 8 == col / 8 {
                "NV18"
            } else {
                "SYS"
            };
            topo.push_str(&format!("\t{cell}"));
        }
        let numa = row / 32;
        topo.push_str(&format!(
            "\t{}\t{numa}\t\tN/A\n",
            if numa == 0 { "0-47,96-143" } else { "48-95,144-191" }
        ));
    }
    (csv, topo)
}
