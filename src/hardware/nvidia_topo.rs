//! `nvidia-smi topo -m`: the GPU connection matrix. The header names the device columns
//! (`GPU0`.., `NIC0`.. or `mlx5_0`..), then `CPU Affinity`, `NUMA Affinity` and (newer drivers)
//! `GPU NUMA ID`. Cells are `X`, `NV#`, `PIX`, `PXB`, `PHB`, `NODE`, `SYS` (older: `SOC`).
//! A legend follows. Real output is tab-separated with ragged empty cells, so cells are read
//! as whitespace-separated tokens: none of them contains a space.

use crate::model::gpu::{Link, LinkKind};

/// What the matrix says about each GPU row besides its links.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuAffinity {
    pub index: u32,
    pub cpu_affinity: Option<String>,
    pub numa_node: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopoMatrix {
    pub links: Vec<Link>,
    pub affinity: Vec<GpuAffinity>,
}

pub fn parse_topo_matrix(text: &str) -> (TopoMatrix, Vec<String>) {
    let mut warnings = Vec::new();
    let mut lines = text.lines().skip_while(|line| line.trim().is_empty());
    let Some(header) = lines.next() else {
        return (TopoMatrix::default(), vec!["nvidia-smi topo -m: empty output".to_string()]);
    };
    let columns: Vec<&str> =
        header.split_whitespace().take_while(|token| *token != "CPU").collect();
    if columns.is_empty() || !columns.iter().any(|c| gpu_number(c).is_some()) {
        return (
            TopoMatrix::default(),
            vec![format!("nvidia-smi topo -m: no GPU columns in the header `{}`", header.trim())],
        );
    }
    let mut matrix = TopoMatrix::default();
    for line in lines {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = tokens.first() else { break };
        if first.starts_with("Legend") {
            break;
        }
        let Some(row) = gpu_number(first) else { continue };
        let cells = &tokens[1..];
        if cells.len() < columns.len() {
            warnings.push(format!(
                "nvidia-smi topo -m: row {first} has {} cells, the header names {} devices",
                cells.len(),
                columns.len()
            ));
            continue;
        }
        for (column, cell) in columns.iter().zip(cells) {
            let Some(other) = gpu_number(column) else { continue };
            if other <= row {
                continue;
            }
            match link_from_cell(row, other, cell) {
                Some(link) => matrix.links.push(link),
                None => warnings.push(format!(
                    "nvidia-smi topo -m: unknown cell `{cell}` between GPU{row} and GPU{other}"
                )),
            }
        }
        let rest = &cells[columns.len()..];
        matrix.affinity.push(GpuAffinity {
            index: row,
            cpu_affinity: rest.first().filter(|value| known(value)).map(|value| value.to_string()),
            numa_node: rest.get(1).and_then(|value| value.parse::<u32>().ok()),
        });
    }
    if matrix.affinity.is_empty() {
        warnings.push("nvidia-smi topo -m: no GPU rows".to_string());
    }
    (matrix, warnings)
}

fn gpu_number(token: &str) -> Option<u32> {
    token.strip_prefix("GPU")?.parse().ok()
}

fn known(value: &str) -> bool {
    !value.eq_ignore_ascii_case("n/a") && !value.starts_with('[')
}

fn link_from_cell(a: u32, b: u32, cell: &str) -> Option<Link> {
    let (kind, nvlink_count) = if let Some(count) = cell.strip_prefix("NV") {
        (LinkKind::Nvlink, Some(count.parse::<u32>().ok()?))
    } else if matches!(cell, "PIX" | "PXB" | "PHB" | "NODE" | "SYS" | "SOC") {
        (LinkKind::Pcie, None)
    } else {
        return None;
    };
    Some(Link { a, b, kind, detail: cell.to_string(), nvlink_count, hops: None, weight: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated_matrix_with_ragged_numa_columns() {
        let text = "\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\nGPU0\t X \tPHB\t0-63\t0\t\tN/A\nGPU1\tPHB\t X \t0-63\t0\t\tN/A\n\nLegend:\n\n  X    = Self\n";
        let (matrix, warnings) = parse_topo_matrix(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(matrix.links.len(), 1);
        assert_eq!(matrix.links[0].detail, "PHB");
        assert_eq!(matrix.affinity[1].cpu_affinity.as_deref(), Some("0-63"));
        assert_eq!(matrix.affinity[1].numa_node, Some(0));
    }

    #[test]
    fn garbage_header_is_a_warning() {
        let (matrix, warnings) =
            parse_topo_matrix("NVIDIA-SMI has failed because it couldn't communicate\n");
        assert!(matrix.links.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
