//! Starts `aimdeck-sim` processes on 127.0.0.1 for the integration tests, and kills them when
//! the test ends (also when it fails).
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SimProcess {
    child: Child,
    pub port: u16,
}

impl SimProcess {
    /// A sim with these arguments on a free port of 127.0.0.1; does not wait for it.
    pub fn spawn(args: &[&str]) -> SimProcess {
        SimProcess::spawn_on(free_port(), args)
    }

    /// A sim on `port` (one a test already pointed something at); does not wait for it.
    pub fn spawn_on(port: u16, args: &[&str]) -> SimProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_aimdeck-sim"))
            .args(args)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aimdeck-sim starts");
        SimProcess { child, port }
    }

    /// A sim that is already listening.
    pub fn ready(args: &[&str]) -> SimProcess {
        let sim = SimProcess::spawn(args);
        sim.wait_listening(Duration::from_secs(10));
        sim
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn wait_listening(&self, limit: Duration) {
        let start = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while start.elapsed() < limit {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("aimdeck-sim on port {} did not listen within {limit:?}", self.port);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit on its own.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now (the OS picks it; the sim binds it a moment later).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// One blocking completion of `max_tokens` against a sim on `port` (plain HTTP/1.1, no client
/// library): steady traffic for tests that watch the numbers move. Errors are ignored.
pub fn complete_once(port: u16, model: &str, max_tokens: u32) {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return };
    let body = format!(r#"{{"model":"{model}","prompt":"hello there","max_tokens":{max_tokens}}}"#);
    let request = format!(
        "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes());
    let _ = stream.read_to_end(&mut Vec::new());
}
