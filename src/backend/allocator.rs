//! GPU placement for single-host backends (Docker, process).
//!
//! Which GPUs are held comes only from running deployments' labels (`aimdeck.io/gpus`), never
//! from a local database. Each replica gets `gpus_per_replica` free GPUs, preferring a fully
//! connected island (e.g. an XGMI or NVLink-all-to-all group), then one NUMA node, then the
//! lowest indices. Sets never overlap. When there are not enough, the error names who holds what.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A host GPU as the allocator needs it. The topology model fills this in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocatableGpu {
    pub index: u32,
    #[serde(default)]
    pub numa_node: Option<u32>,
    /// GPUs with the same island are fully connected to each other.
    #[serde(default)]
    pub island: Option<u32>,
    /// AMD: the KFD node's `drm_render_minor`, for `/dev/dri/renderD<N>`.
    #[serde(default)]
    pub render_minor: Option<u32>,
    /// Why no new replica may be placed here, e.g. "failed: uncorrectable ECC errors ..." or
    /// "unmanaged: pid 4242 python3 (71.2 GiB)"; `None` when it may take one.
    #[serde(default)]
    pub refused: Option<String>,
    /// What the runtime is given for this device instead of its index: a MIG device's
    /// `MIG-` UUID (`CUDA_VISIBLE_DEVICES`, the NVIDIA container runtime's device ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// A MIG device: a CUDA process enumerates at most one, so it takes only replicas of one
    /// GPU.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single: bool,
}

impl AllocatableGpu {
    pub fn plain(index: u32) -> Self {
        AllocatableGpu {
            index,
            numa_node: None,
            island: None,
            render_minor: None,
            refused: None,
            device_id: None,
            single: false,
        }
    }
}

/// What the runtime is given for `gpus`: each one's `device_id` where the inventory has one
/// (a MIG device's UUID), else its index.
pub fn device_ids(inventory: &[AllocatableGpu], gpus: &[u32]) -> Vec<String> {
    gpus.iter()
        .map(|index| {
            inventory
                .iter()
                .find(|g| g.index == *index)
                .and_then(|g| g.device_id.clone())
                .unwrap_or_else(|| index.to_string())
        })
        .collect()
}

/// GPUs held by one deployment, from its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub deployment: String,
    pub gpus: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error(
        "not enough free GPUs: {wanted} wanted ({replicas} x {per_replica}), {} free{}{}{}",
        free.len(),
        list_free(free),
        list_holders(holders),
        list_refused(refused)
    )]
    NotEnough {
        wanted: usize,
        replicas: u32,
        per_replica: u32,
        free: Vec<u32>,
        holders: Vec<Holder>,
        /// GPUs that are not held but may not take a replica, with why.
        refused: Vec<(u32, String)>,
    },
}

fn list_refused(refused: &[(u32, String)]) -> String {
    let parts: Vec<String> =
        refused.iter().map(|(index, why)| format!("GPU {index} {why}")).collect();
    if parts.is_empty() { String::new() } else { format!("; refused: {}", parts.join("; ")) }
}

fn list_free(free: &[u32]) -> String {
    if free.is_empty() { String::new() } else { format!(" ({})", join(free)) }
}

fn list_holders(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return String::new();
    }
    let parts: Vec<String> =
        holders.iter().map(|h| format!("`{}` holds {}", h.deployment, join(&h.gpus))).collect();
    format!("; {}", parts.join(", "))
}

fn join(gpus: &[u32]) -> String {
    gpus.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Parses an `aimdeck.io/gpus` label value (`0,1,2,3`; empty for none).
pub fn parse_gpu_label(value: &str) -> Vec<u32> {
    value.split(',').filter_map(|part| part.trim().parse().ok()).collect()
}

/// Renders GPU indices as an `aimdeck.io/gpus` label value.
pub fn gpu_label(gpus: &[u32]) -> String {
    join(gpus)
}

/// Picks `replicas` disjoint sets of `per_replica` GPUs from those not held.
pub fn allocate(
    inventory: &[AllocatableGpu],
    held: &[Holder],
    replicas: u32,
    per_replica: u32,
) -> Result<Vec<Vec<u32>>, AllocationError> {
    if per_replica == 0 {
        return Ok(vec![Vec::new(); replicas as usize]);
    }
    let taken: BTreeSet<u32> = held.iter().flat_map(|h| h.gpus.iter().copied()).collect();
    // A MIG device cannot be one of several GPUs of a replica: CUDA shows a process one.
    let refusal = |g: &AllocatableGpu| {
        g.refused.clone().or_else(|| {
            (g.single && per_replica > 1).then(|| {
                format!("is a MIG device: a replica of {per_replica} GPUs cannot span MIG devices")
            })
        })
    };
    let refused: Vec<(u32, String)> = inventory
        .iter()
        .filter(|g| !taken.contains(&g.index))
        .filter_map(|g| Some((g.index, refusal(g)?)))
        .collect();
    let mut free: Vec<&AllocatableGpu> =
        inventory.iter().filter(|g| !taken.contains(&g.index) && refusal(g).is_none()).collect();
    free.sort_by_key(|g| g.index);
    let wanted = replicas as usize * per_replica as usize;
    if free.len() < wanted {
        let mut holders: Vec<Holder> =
            held.iter().filter(|h| !h.gpus.is_empty()).cloned().collect();
        holders.sort_by(|a, b| a.deployment.cmp(&b.deployment));
        return Err(AllocationError::NotEnough {
            wanted,
            replicas,
            per_replica,
            free: free.iter().map(|g| g.index).collect(),
            holders,
            refused,
        });
    }
    let mut sets = Vec::with_capacity(replicas as usize);
    for _ in 0..replicas {
        let chosen = pick_one(&free, per_replica as usize);
        free.retain(|g| !chosen.contains(&g.index));
        sets.push(chosen);
    }
    Ok(sets)
}

/// One replica's set: the tightest group that fits, by island, then NUMA node, else lowest.
fn pick_one(free: &[&AllocatableGpu], count: usize) -> Vec<u32> {
    if let Some(set) = best_group(free, count, |g| g.island, true) {
        return set;
    }
    if let Some(set) = best_group(free, count, |g| g.numa_node, false) {
        return set;
    }
    free.iter().take(count).map(|g| g.index).collect()
}

/// Among groups (by `key`) with at least `count` free GPUs, the one with the fewest free GPUs,
/// so large groups stay whole for larger replicas. Within an island, one NUMA node is preferred.
fn best_group(
    free: &[&AllocatableGpu],
    count: usize,
    key: fn(&AllocatableGpu) -> Option<u32>,
    prefer_numa_inside: bool,
) -> Option<Vec<u32>> {
    let mut groups: BTreeMap<u32, Vec<&AllocatableGpu>> = BTreeMap::new();
    for gpu in free {
        if let Some(k) = key(gpu) {
            groups.entry(k).or_default().push(gpu);
        }
    }
    let (_, members) =
        groups.into_iter().filter(|(_, m)| m.len() >= count).min_by_key(|(k, m)| (m.len(), *k))?;
    if prefer_numa_inside && let Some(set) = best_group(&members, count, |g| g.numa_node, false) {
        return Some(set);
    }
    Some(members.iter().take(count).map(|g| g.index).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(index: u32, numa: u32, island: u32) -> AllocatableGpu {
        AllocatableGpu {
            numa_node: Some(numa),
            island: Some(island),
            ..AllocatableGpu::plain(index)
        }
    }

    /// Two 4-GPU islands, each on its own NUMA node (an 8-GPU box with two NVLink/XGMI halves).
    fn two_islands() -> Vec<AllocatableGpu> {
        (0..8).map(|i| gpu(i, i / 4, i / 4)).collect()
    }

    fn holder(name: &str, gpus: &[u32]) -> Holder {
        Holder { deployment: name.into(), gpus: gpus.to_vec() }
    }

    #[test]
    fn replicas_get_disjoint_sets_inside_one_island() {
        let sets = allocate(&two_islands(), &[], 2, 4).unwrap();
        assert_eq!(sets, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    }

    #[test]
    fn held_gpus_are_skipped_and_a_partly_used_island_is_filled_first() {
        let sets = allocate(&two_islands(), &[holder("llama", &[0, 1])], 1, 2).unwrap();
        // Island 0 has 2 free, island 1 has 4: the tighter fit keeps island 1 whole.
        assert_eq!(sets, vec![vec![2, 3]]);
    }

    #[test]
    fn a_set_that_must_span_islands_takes_one_whole_island_when_it_can() {
        let held = [holder("a", &[0]), holder("b", &[5])];
        let err = allocate(&two_islands(), &held, 1, 4);
        // 3 + 3 free: no island fits 4, NUMA nodes match islands, so the lowest free indices.
        assert_eq!(err.unwrap(), vec![vec![1, 2, 3, 4]]);
    }

    #[test]
    fn one_numa_node_is_preferred_without_island_information() {
        let inventory: Vec<AllocatableGpu> = (0..4)
            .map(|i| AllocatableGpu {
                numa_node: Some(if i == 0 { 0 } else { 1 }),
                ..AllocatableGpu::plain(i)
            })
            .collect();
        assert_eq!(allocate(&inventory, &[], 1, 2).unwrap(), vec![vec![1, 2]]);
    }

    #[test]
    fn too_few_gpus_names_the_holders() {
        let held = [holder("llama", &[0, 1, 2, 3]), holder("qwen", &[4, 5])];
        let err = allocate(&two_islands(), &held, 2, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not enough free GPUs: 4 wanted (2 x 2), 2 free (6,7); `llama` holds 0,1,2,3, `qwen` holds 4,5"
        );
    }

    #[test]
    fn refused_gpus_are_never_placed_on_and_named() {
        let mut inventory = two_islands();
        inventory[1].refused = Some("failed: uncorrectable ECC errors: 2".into());
        inventory[2].refused = Some("unmanaged: pid 4242 python3 (71.2 GiB)".into());
        // Island 0 has two usable GPUs left, so a 2-GPU replica takes 0 and 3.
        assert_eq!(allocate(&inventory, &[], 1, 2).unwrap(), vec![vec![0, 3]]);
        let err =
            allocate(&inventory, &[holder("llama", &[4, 5, 6, 7])], 1, 4).unwrap_err().to_string();
        assert_eq!(
            err,
            "not enough free GPUs: 4 wanted (1 x 4), 2 free (0,3); `llama` holds 4,5,6,7; refused: \
             GPU 1 failed: uncorrectable ECC errors: 2; GPU 2 unmanaged: pid 4242 python3 (71.2 GiB)"
        );
    }

    #[test]
    fn cpu_only_replicas_need_no_gpus() {
        assert_eq!(allocate(&[], &[], 3, 0).unwrap(), vec![Vec::<u32>::new(); 3]);
    }

    #[test]
    fn labels_round_trip() {
        assert_eq!(parse_gpu_label(&gpu_label(&[0, 3, 7])), vec![0, 3, 7]);
        assert!(parse_gpu_label("").is_empty());
    }
}
