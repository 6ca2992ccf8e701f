//! Checks that the ports a deployment needs are free before anything is made, so a taken port
//! is a clear error instead of a replica that crashes on bind.

use std::net::TcpListener;

use super::BackendError;

/// Fails on the first port in `ports` that cannot be bound on 127.0.0.1.
pub fn ensure_free(ports: impl IntoIterator<Item = u16>) -> Result<(), BackendError> {
    for port in ports {
        if let Err(err) = TcpListener::bind(("127.0.0.1", port)) {
            return Err(BackendError::PortTaken { port, detail: err.to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_port_is_reported_as_taken() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = ensure_free([port]).unwrap_err().to_string();
        assert!(err.contains(&format!("port {port} on 127.0.0.1 is already taken")), "{err}");
        drop(listener);
        assert!(ensure_free([port]).is_ok());
    }
}
