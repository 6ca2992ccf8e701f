//! Islands: groups of GPUs in which every pair has a direct link (NVLink or XGMI), the places
//! a tensor-parallel group runs at full speed. Every GPU lands in exactly one island.

use std::collections::HashMap;

use crate::model::gpu::{Island, Link, LinkKind};

/// Grows each island from the lowest free GPU, adding (in index order) every GPU directly
/// linked to all members so far. On the machines this is for (full NVLink/XGMI meshes, NVLink
/// pairs, PCIe-only boxes) that finds the maximal cliques; on odd partial meshes it still
/// returns islands that are truly fully connected.
pub fn islands(gpu_indices: &[u32], links: &[Link]) -> Vec<Island> {
    let mut indices = gpu_indices.to_vec();
    indices.sort_unstable();
    indices.dedup();
    // One lookup per pair: an MI300X box in CPX is 64 GPUs and 2016 links.
    let mut direct_links: HashMap<(u32, u32), LinkKind> = HashMap::with_capacity(links.len());
    for link in links.iter().filter(|l| l.kind.is_direct()) {
        direct_links.entry((link.a.min(link.b), link.a.max(link.b))).or_insert(link.kind);
    }
    let direct = |a: u32, b: u32| direct_links.get(&(a.min(b), a.max(b))).copied();
    let mut placed = vec![false; indices.len()];
    let mut result = Vec::new();
    for start in 0..indices.len() {
        if placed[start] {
            continue;
        }
        placed[start] = true;
        let mut members = vec![indices[start]];
        let mut kind = None;
        for candidate in start + 1..indices.len() {
            if placed[candidate] {
                continue;
            }
            let gpu = indices[candidate];
            let kinds: Option<Vec<LinkKind>> = members.iter().map(|&m| direct(m, gpu)).collect();
            if let Some(kinds) = kinds {
                kind = kind.or(kinds.first().copied());
                members.push(gpu);
                placed[candidate] = true;
            }
        }
        result.push(Island { gpus: members, kind });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: u32, b: u32, kind: LinkKind) -> Link {
        Link { a, b, kind, detail: String::new(), nvlink_count: None, hops: None, weight: None }
    }

    #[test]
    fn nvlink_pairs_on_pcie_make_pairs() {
        let links = vec![
            link(0, 1, LinkKind::Nvlink),
            link(2, 3, LinkKind::Nvlink),
            link(0, 2, LinkKind::Pcie),
            link(1, 3, LinkKind::Pcie),
        ];
        let found = islands(&[0, 1, 2, 3], &links);
        assert_eq!(
            found.iter().map(|i| i.gpus.clone()).collect::<Vec<_>>(),
            vec![vec![0, 1], vec![2, 3]]
        );
        assert_eq!(found[0].kind, Some(LinkKind::Nvlink));
    }

    #[test]
    fn a_chain_is_not_fully_connected() {
        // 0-1-2 in a line: 0 and 2 are not directly linked, so 2 stands alone.
        let links = vec![link(0, 1, LinkKind::Xgmi), link(1, 2, LinkKind::Xgmi)];
        let found = islands(&[0, 1, 2], &links);
        assert_eq!(
            found.iter().map(|i| i.gpus.clone()).collect::<Vec<_>>(),
            vec![vec![0, 1], vec![2]]
        );
        assert_eq!(found[1].kind, None);
    }
}
