//! Writes a KFD topology tree the way the amdgpu driver lays it out under
//! `/sys/class/kfd/kfd/topology` (see `drivers/gpu/drm/amd/amdkfd/kfd_topology.c`):
//! `nodes/N/{gpu_id,name,properties}`, `nodes/N/mem_banks/K/properties`,
//! `nodes/N/io_links/K/properties`. CPU nodes come first, then the GPUs.

use std::fs;
use std::path::Path;

pub struct KfdGpu {
    pub gpu_id: u32,
    pub location_id: u32,
    pub render_minor: u32,
    pub numa: u32,
    pub vram_bytes: u64,
    pub unique_id: u64,
    /// The physical GPU (socket) this node is, or is a compute partition of.
    pub socket: u32,
    /// `num_xcc` and `simd_count`: 8 XCCs and 1216 SIMDs (304 CUs) for a whole MI300X.
    pub xcc: u32,
    pub simd: u32,
}

/// An 8x MI300X box (2 sockets): GPUs 0-3 on NUMA node 0, 4-7 on 1, every GPU pair on XGMI.
pub fn mi300x_8() -> Vec<KfdGpu> {
    let buses = [0x0c, 0x22, 0x38, 0x5c, 0x9f, 0xaf, 0xbf, 0xdf];
    let gpu_ids = [45412, 21281, 8732, 54012, 16281, 44298, 59201, 9902];
    (0..8)
        .map(|i| KfdGpu {
            gpu_id: gpu_ids[i],
            location_id: buses[i] << 8,
            render_minor: 128 + 8 * i as u32,
            numa: if i < 4 { 0 } else { 1 },
            // 192 GiB of HBM3, as the MI300X's frame-buffer bank reports it.
            vram_bytes: 206_141_652_992,
            unique_id: 0x6f1f_0a2b_3c4d_5e60 + i as u64,
            socket: i as u32,
            xcc: 8,
            simd: 1216,
        })
        .collect()
}

/// The same box in CPX compute / NPS4 memory partitioning, as the KFD shows it: 64 nodes, one
/// per XCP, in socket order. Each has one XCC (38 CUs, 152 SIMDs), its own render node, the
/// socket's `location_id` with its node id in the function bits (`kfd_topology.c`,
/// `kfd_topology_add_device`), and a memory bank of its share of one NPS4 domain (the domain's
/// 49075 MiB, as the amd-smi recording of the same layout reports it, divided by the two XCPs
/// sharing it: `amdgpu_amdkfd_xcp_memory_size`).
#[allow(dead_code)] // not every includer writes a partitioned tree
pub fn mi300x_8_cpx_nps4() -> Vec<KfdGpu> {
    let sockets = mi300x_8();
    (0..64u32)
        .map(|i| {
            let socket = &sockets[(i / 8) as usize];
            KfdGpu {
                gpu_id: socket.gpu_id + i % 8,
                location_id: socket.location_id | (i % 8),
                render_minor: 128 + i,
                numa: socket.numa,
                vram_bytes: 49075 * 1024 * 1024 / 2,
                unique_id: socket.unique_id,
                socket: i / 8,
                xcc: 1,
                simd: 152,
            }
        })
        .collect()
}

/// The amdgpu driver's partition files in each socket's PCI device directory under `root`
/// (`/sys/bus/pci/devices/<bus id>/current_compute_partition`, `current_memory_partition`).
#[allow(dead_code)]
pub fn write_partition_modes(root: &Path, gpus: &[KfdGpu], compute: &str, memory: &str) {
    for gpu in gpus {
        let bus = (gpu.location_id >> 8) & 0xff;
        let dir = root.join(format!("0000:{bus:02x}:00.0"));
        write(&dir.join("current_compute_partition"), &format!("{compute}\n"));
        write(&dir.join("current_memory_partition"), &format!("{memory}\n"));
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

pub fn write_tree(root: &Path, cpu_nodes: u32, gpus: &[KfdGpu], xgmi_mesh: bool) {
    // The kernel's counter of topology rebuilds, next to `nodes/`.
    write(&root.join("generation_id"), "1\n");
    let nodes = root.join("nodes");
    for cpu in 0..cpu_nodes {
        let dir = nodes.join(cpu.to_string());
        write(&dir.join("gpu_id"), "0\n");
        write(&dir.join("name"), "\n");
        write(
            &dir.join("properties"),
            &format!(
                "cpu_cores_count 96\nsimd_count 0\nmem_banks_count 1\ncaches_count 0\nio_links_count {}\np2p_links_count 0\ncpu_core_id_base {}\nsimd_id_base 0\nmax_waves_per_simd 0\nlds_size_in_kb 0\ngds_size_in_kb 0\nnum_gws 0\nwave_front_size 0\narray_count 0\nsimd_arrays_per_engine 0\ncu_per_simd_array 0\nsimd_per_cu 0\nmax_slots_scratch_cu 0\ngfx_target_version 0\nvendor_id 0\ndevice_id 0\nlocation_id 0\ndomain 0\ndrm_render_minor 0\nhive_id 0\nnum_sdma_engines 0\nnum_sdma_xgmi_engines 0\nnum_sdma_queues_per_engine 0\nnum_cp_queues 0\nmax_engine_clk_ccompute 3700\n",
                cpu_nodes - 1 + gpus.iter().filter(|g| g.numa == cpu).count() as u32,
                cpu * 96
            ),
        );
        write(
            &dir.join("mem_banks/0/properties"),
            "heap_type 0\nsize_in_bytes 811014868992\nflags 0\nwidth 64\nmem_clk_max 4800\n",
        );
    }
    let partitioned = gpus.iter().any(|g| gpus.iter().filter(|h| h.socket == g.socket).count() > 1);
    for (i, gpu) in gpus.iter().enumerate() {
        let node = cpu_nodes + i as u32;
        let dir = nodes.join(node.to_string());
        write(&dir.join("gpu_id"), &format!("{}\n", gpu.gpu_id));
        write(&dir.join("name"), "ip discovery\n");
        let links = if xgmi_mesh { gpus.len() } else { 1 };
        write(
            &dir.join("properties"),
            &format!(
                "cpu_cores_count 0\nsimd_count {}\nmem_banks_count 1\ncaches_count 544\nio_links_count {links}\np2p_links_count 0\ncpu_core_id_base 0\nsimd_id_base 2147487744\nmax_waves_per_simd 8\nlds_size_in_kb 64\ngds_size_in_kb 0\nnum_gws 64\nwave_front_size 64\narray_count 32\nsimd_arrays_per_engine 1\ncu_per_simd_array 10\nsimd_per_cu 4\nmax_slots_scratch_cu 32\ngfx_target_version 90402\nvendor_id 4098\ndevice_id 29857\nlocation_id {}\ndomain 0\ndrm_render_minor {}\nhive_id 4513618289123\nnum_sdma_engines 2\nnum_sdma_xgmi_engines 14\nnum_sdma_queues_per_engine 8\nnum_cp_queues 64\nmax_engine_clk_fcompute 2100\nlocal_mem_size 0\nfw_version 157\ncapability 746185344\ndebug_prop 1495\nsdma_fw_version 19\nunique_id {}\nnum_xcc {}\nmax_engine_clk_ccompute 3700\n",
                gpu.simd, gpu.location_id, gpu.render_minor, gpu.unique_id, gpu.xcc
            ),
        );
        write(
            &dir.join("mem_banks/0/properties"),
            &format!(
                "heap_type 1\nsize_in_bytes {}\nflags 0\nwidth 8192\nmem_clk_max 1300\n",
                gpu.vram_bytes
            ),
        );
        write(
            &dir.join("io_links/0/properties"),
            &format!(
                "type 2\nversion_major 0\nversion_minor 0\nnode_from {node}\nnode_to {}\nweight 20\nmin_latency 0\nmax_latency 0\nmin_bandwidth 0\nmax_bandwidth 0\nrecommended_transfer_size 0\nrecommended_sdma_engine_id_mask 0\nflags 3\n",
                gpu.numa
            ),
        );
        if xgmi_mesh {
            let mut k = 1;
            for (j, peer) in gpus.iter().enumerate() {
                if j == i {
                    continue;
                }
                // `kfd_fill_gpu_xgmi_link_to_gpu`: whole GPUs weigh 15 per hop with the TA's
                // bandwidth; partitions of one socket 13 (KFD_CRAT_INTRA_SOCKET_WEIGHT) with
                // the memory bandwidth 819200 MB/s, of other sockets 2 * 13 + 15 and none.
                let (weight, min_bw, max_bw) = if !partitioned {
                    (15, 312500, 64000)
                } else if peer.socket == gpu.socket {
                    (13, 819200, 819200)
                } else {
                    (41, 0, 0)
                };
                write(
                    &dir.join(format!("io_links/{k}/properties")),
                    &format!(
                        "type 11\nversion_major 0\nversion_minor 0\nnode_from {node}\nnode_to {}\nweight {weight}\nmin_latency 0\nmax_latency 0\nmin_bandwidth {min_bw}\nmax_bandwidth {max_bw}\nrecommended_transfer_size 0\nrecommended_sdma_engine_id_mask 0\nflags 1\n",
                        cpu_nodes + j as u32
                    ),
                );
                k += 1;
            }
        }
    }
}
