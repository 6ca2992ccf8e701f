//! NVIDIA XID events from the kernel log: the driver prints
//! `NVRM: Xid (PCI:0000:3b:00): 79, pid=..., name=..., GPU has fallen off the bus.` for each.
//! Meanings follow NVIDIA's XID catalog (docs.nvidia.com/deploy/xid-errors). The log holds
//! everything since boot, so an XID stays a finding until the machine restarts.

use std::io::Read;
use std::path::Path;

use crate::model::gpu::{Gpu, HealthState};

/// The default source: the kernel's record device (readable by root or with
/// `kernel.dmesg_restrict=0`). `AIMDECK_KERNEL_LOG` points it at a file instead.
pub const DEFAULT_KERNEL_LOG: &str = "/dev/kmsg";

/// At most this much of the log is read each poll (the kernel ring buffer is usually 1 MiB).
const MAX_BYTES: usize = 4 << 20;

/// One XID line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XidEvent {
    /// `0000:3b:00` as printed (domain:bus:device, no function).
    pub pci: String,
    pub code: u32,
    pub line: String,
}

/// What a code means and how bad it is; `None` for codes that are an application's fault
/// (13 graphics exception, 31 page fault, 43 stopped channel, 45 preemptive cleanup).
pub fn meaning(code: u32) -> Option<(HealthState, &'static str)> {
    Some(match code {
        48 => (HealthState::Failed, "double-bit ECC error"),
        62 => (HealthState::Failed, "internal micro-controller halt"),
        63 => (HealthState::Degraded, "ECC page retirement or row remap recorded (reset to apply)"),
        64 => (HealthState::Failed, "ECC page retirement or row remap recording failed"),
        74 => (HealthState::Failed, "NVLink error"),
        79 => (HealthState::Failed, "GPU has fallen off the bus"),
        92 => (HealthState::Degraded, "high single-bit ECC error rate"),
        94 => (
            HealthState::Degraded,
            "contained ECC error (the application was stopped, the GPU serves on)",
        ),
        95 => (HealthState::Failed, "uncontained ECC error"),
        119 => (HealthState::Failed, "GSP RPC timeout"),
        120 => (HealthState::Failed, "GSP error"),
        _ => return None,
    })
}

const MARKER: &str = "NVRM: Xid (PCI:";

/// Every XID line in a kernel log (`/dev/kmsg` records or `dmesg` text). One substring search
/// over the whole log, not a search per line: a full 1 MiB ring buffer is read every poll.
pub fn parse(log: &str) -> Vec<XidEvent> {
    log.match_indices(MARKER)
        .filter_map(|(at, _)| {
            let start = log[..at].rfind('\n').map_or(0, |p| p + 1);
            let end = log[at..].find('\n').map_or(log.len(), |p| at + p);
            parse_line(&log[start..end])
        })
        .collect()
}

fn parse_line(line: &str) -> Option<XidEvent> {
    let rest = &line[line.find(MARKER)? + MARKER.len()..];
    let (pci, rest) = rest.split_once(')')?;
    let rest = rest.trim_start_matches(':').trim_start();
    let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(XidEvent {
        pci: pci.trim().to_ascii_lowercase(),
        code: code.parse().ok()?,
        line: line.trim().to_string(),
    })
}

/// Adds each event's finding to the GPU on that PCI device.
pub fn apply(gpus: &mut [Gpu], events: &[XidEvent]) {
    for event in events {
        let Some((severity, what)) = meaning(event.code) else { continue };
        let Some(gpu) = gpus
            .iter_mut()
            .find(|g| g.pci_bus_id.as_deref().is_some_and(|bus| bus.starts_with(&event.pci)))
        else {
            continue;
        };
        gpu.health.counter(&format!("xid.{}", event.code), event.line.clone());
        gpu.health.add(
            severity,
            format!("xid_{}", event.code),
            format!("XID {}: {what} (kernel log since boot)", event.code),
        );
    }
}

/// Reads the log without blocking: `/dev/kmsg` gives one record per read and `EAGAIN` at
/// the end. A log that cannot be opened (no permission) is `None`: no XID reading, not "no XIDs".
pub fn read(path: &Path) -> Option<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).ok()?;
    let mut log = Vec::new();
    let mut record = vec![0u8; 8192];
    while log.len() < MAX_BYTES {
        match file.read(&mut record) {
            Ok(0) => break,
            // A kmsg record ends in a newline; a plain file just comes in chunks.
            Ok(n) => log.extend_from_slice(&record[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            // EAGAIN: the end of the buffer; EPIPE: a record was overwritten while reading.
            Err(err) if err.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(_) => break,
        }
    }
    Some(String::from_utf8_lossy(&log).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuVendor;

    #[test]
    fn kmsg_and_dmesg_lines_are_read_and_joined_by_pci_device() {
        let log = "6,1234,5678901,-;NVRM: Xid (PCI:0000:3B:00): 79, pid=2201, name=python3, GPU has fallen off the bus.\n\
                   [ 812.55] NVRM: Xid (PCI:0000:5d:00): 13, pid=77, Graphics Exception\n\
                   [ 900.01] usb 1-1: new device\n";
        let events = parse(log);
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].pci.as_str(), events[0].code), ("0000:3b:00", 79));
        let mut gpus =
            vec![Gpu::new(0, GpuVendor::Nvidia, "H100"), Gpu::new(1, GpuVendor::Nvidia, "H100")];
        gpus[0].pci_bus_id = Some("0000:3b:00.0".into());
        gpus[1].pci_bus_id = Some("0000:5d:00.0".into());
        apply(&mut gpus, &events);
        assert_eq!(gpus[0].health.state, HealthState::Failed);
        assert_eq!(gpus[0].health.reasons[0].code, "xid_79");
        assert_eq!(gpus[1].health.state, HealthState::Unknown, "XID 13 is the application's fault");
    }
}
