//! The GPU catalog: every GPU model a recipe may name, with the memory and number formats the
//! estimator and the validator need, and `normalize` to map what `nvidia-smi` / `amd-smi` report
//! onto a catalog entry.
//!
//! Memory is what the tools report as total (MiB), not the marketing figure, so the estimate
//! matches what the engine will see: e.g. an H100 SXM reports 81559 MiB ("80GB").

use serde::Serialize;

use crate::model::deployment::GpuVendor;

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuModel {
    /// The name recipes use (`gpu: MI300X`).
    pub name: &'static str,
    pub vendor: GpuVendor,
    /// Total memory per GPU in bytes, as the vendor tool reports it.
    pub memory_bytes: u64,
    /// Hardware FP8 (e4m3) matrix support: CDNA3+ (MI300 class) and Ada/Hopper/Blackwell.
    pub fp8: bool,
    /// Runs MXFP4 checkpoints (gpt-oss) in vLLM/SGLang.
    pub mxfp4: bool,
    /// Architecture family, for messages and for treating GPUs of one family alike.
    pub family: &'static str,
}

impl GpuModel {
    pub fn memory_gib(&self) -> f64 {
        self.memory_bytes as f64 / (1024.0 * 1024.0 * 1024.0)
    }
}

const fn gpu(
    name: &'static str,
    vendor: GpuVendor,
    memory_mib: u64,
    fp8: bool,
    mxfp4: bool,
    family: &'static str,
) -> GpuModel {
    GpuModel { name, vendor, memory_bytes: memory_mib * MIB, fp8, mxfp4, family }
}

use GpuVendor::{Amd, Nvidia};

/// Known GPUs. AMD sizes are the KFD/amd-smi VRAM totals; NVIDIA sizes are `nvidia-smi`
/// `memory.total` values.
pub const CATALOG: &[GpuModel] = &[
    gpu("MI355X", Amd, 288 * 1024, true, true, "CDNA4"),
    gpu("MI350X", Amd, 288 * 1024, true, true, "CDNA4"),
    gpu("MI325X", Amd, 256 * 1024, true, true, "CDNA3"),
    gpu("MI300X", Amd, 196_592, true, true, "CDNA3"),
    // MI250X shows up as two GPUs (one per GCD) of 64 GiB each.
    gpu("MI250X", Amd, 65_520, false, false, "CDNA2"),
    gpu("MI210", Amd, 65_520, false, false, "CDNA2"),
    gpu("B200", Nvidia, 183_359, true, true, "Blackwell"),
    gpu("H200", Nvidia, 143_771, true, true, "Hopper"),
    gpu("H100-NVL", Nvidia, 95_830, true, true, "Hopper"),
    gpu("H100", Nvidia, 81_559, true, true, "Hopper"),
    gpu("A100-80GB", Nvidia, 81_920, false, true, "Ampere"),
    gpu("A100-40GB", Nvidia, 40_960, false, true, "Ampere"),
    gpu("L40S", Nvidia, 46_068, true, true, "Ada"),
    gpu("L4", Nvidia, 23_034, true, false, "Ada"),
];

/// The catalog entry with this exact recipe name (case-insensitive), e.g. `mi300x`, `A100-80GB`.
pub fn by_name(name: &str) -> Option<&'static GpuModel> {
    let name = name.trim();
    CATALOG.iter().find(|gpu| gpu.name.eq_ignore_ascii_case(name)).or_else(|| {
        // Short forms people type: "A100" means the 80 GB part, the common one in servers.
        match name.to_ascii_uppercase().as_str() {
            "A100" => by_name("A100-80GB"),
            _ => None,
        }
    })
}

/// All recipe names, for "expected one of" messages.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|gpu| gpu.name).collect()
}

/// Maps a product name as the vendor tools print it to a catalog entry:
/// "NVIDIA H100 80GB HBM3", "AMD Instinct MI300X", "NVIDIA A100-SXM4-80GB", "NVIDIA L40S",
/// "AMD Instinct MI300X VF", "NVIDIA H100 NVL", "NVIDIA H200". Also accepts catalog names.
pub fn normalize(product_name: &str) -> Option<&'static GpuModel> {
    if let Some(gpu) = by_name(product_name) {
        return Some(gpu);
    }
    let upper = product_name.to_ascii_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| {
            c.is_whitespace() || c == '-' || c == '_' || c == ',' || c == '(' || c == ')'
        })
        .filter(|t| !t.is_empty())
        .collect();
    let has = |word: &str| tokens.contains(&word);
    // Memory size in the name ("80GB", "40GB"), for the parts sold in two sizes.
    let has_size = |gb: &str| tokens.iter().any(|t| *t == format!("{gb}GB") || *t == gb);

    let name = if has("MI355X") {
        "MI355X"
    } else if has("MI350X") {
        "MI350X"
    } else if has("MI325X") {
        "MI325X"
    } else if has("MI300X") || has("MI300XHF") {
        "MI300X"
    } else if has("MI250X") || has("MI250") {
        "MI250X"
    } else if has("MI210") {
        "MI210"
    } else if has("B200") {
        "B200"
    } else if has("H200") {
        "H200"
    } else if has("H100") && has("NVL") {
        "H100-NVL"
    } else if has("H100") {
        "H100"
    } else if has("A100") {
        if has_size("40") { "A100-40GB" } else { "A100-80GB" }
    } else if has("L40S") {
        "L40S"
    } else if has("L4") {
        "L4"
    } else {
        return None;
    };
    by_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_vendor_tool_product_names() {
        let cases = [
            ("NVIDIA H100 80GB HBM3", "H100"),
            ("NVIDIA H100 NVL", "H100-NVL"),
            ("NVIDIA H200", "H200"),
            ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
            ("NVIDIA A100-SXM4-40GB", "A100-40GB"),
            ("NVIDIA A100 80GB PCIe", "A100-80GB"),
            ("NVIDIA L40S", "L40S"),
            ("NVIDIA L4", "L4"),
            ("AMD Instinct MI300X", "MI300X"),
            ("AMD Instinct MI300X VF", "MI300X"),
            ("AMD Instinct MI325X", "MI325X"),
            ("AMD Instinct MI355X", "MI355X"),
            ("mi300x", "MI300X"),
            ("A100", "A100-80GB"),
        ];
        for (product, expected) in cases {
            assert_eq!(normalize(product).map(|g| g.name), Some(expected), "{product}");
        }
        assert!(normalize("NVIDIA GeForce RTX 4090").is_none());
        assert!(normalize("Matrox G200eR2").is_none());
    }

    #[test]
    fn fp8_is_mi300_or_hopper_class() {
        assert!(by_name("MI300X").unwrap().fp8);
        assert!(by_name("H100").unwrap().fp8);
        assert!(!by_name("A100-80GB").unwrap().fp8);
        assert!(!by_name("MI250X").unwrap().fp8);
        assert_eq!(by_name("MI300X").unwrap().vendor, GpuVendor::Amd);
    }
}
