//! PCI addresses, the key that joins what different tools say about the same GPU.

/// `00000000:18:00.0` (nvidia-smi's 8-digit domain) and `0000:18:00.0` both become
/// `0000:18:00.0`, lower case.
pub fn normalize_bus_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    let mut parts = id.splitn(2, ':');
    match (parts.next(), parts.next()) {
        (Some(domain), Some(rest))
            if domain.len() > 4 && domain.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            format!("{}:{rest}", &domain[domain.len() - 4..])
        }
        (Some(domain), Some(rest)) if rest.matches(':').count() == 1 => {
            format!("{domain:0>4}:{rest}")
        }
        // Short form `18:00.0`: domain 0.
        (Some(_), Some(_)) => format!("0000:{id}"),
        _ => id,
    }
}

/// The address a KFD node reports as `domain` and `location_id` (bus << 8 | device << 3 | function).
pub fn bus_id_from_location(domain: u64, location_id: u64) -> String {
    let bus = (location_id >> 8) & 0xff;
    let device = (location_id >> 3) & 0x1f;
    let function = location_id & 0x7;
    format!("{domain:04x}:{bus:02x}:{device:02x}.{function:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_agree() {
        assert_eq!(normalize_bus_id("00000000:3B:00.0"), "0000:3b:00.0");
        assert_eq!(normalize_bus_id("0000:0c:00.0"), "0000:0c:00.0");
        assert_eq!(normalize_bus_id("0c:00.0"), "0000:0c:00.0");
        assert_eq!(bus_id_from_location(0, 0x0c00), "0000:0c:00.0");
        assert_eq!(bus_id_from_location(1, (0x9f << 8) | (2 << 3) | 1), "0001:9f:02.1");
    }
}
