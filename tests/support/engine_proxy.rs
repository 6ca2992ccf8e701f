//! A stand-in for "the Docker daemon stopped mid-operation" that does not stop the shared
//! engine: a unix-socket proxy to the real engine that, when a request containing a trigger
//! string passes, drops every connection and refuses new ones (for a while, or until `up`).
//! `wedge` makes it a wedged engine instead: connections are accepted and requests read, and
//! nothing is ever answered, until `unwedge`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// The request text that takes the engine down, and for how long (`None`: until `up`).
type Trigger = Arc<Mutex<Option<(String, Option<Duration>)>>>;

pub struct EngineProxy {
    pub socket: PathBuf,
    down: watch::Sender<bool>,
    trigger: Trigger,
    wedged: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl EngineProxy {
    pub fn start(engine_socket: &str) -> EngineProxy {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let (down, _) = watch::channel(false);
        let trigger: Trigger = Arc::new(Mutex::new(None));
        let engine = engine_socket.to_string();
        let (wedged, _) = watch::channel(false);
        let (down_tx, trig, wedged_tx) = (down.clone(), trigger.clone(), wedged.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *down_tx.borrow() {
                    drop(client); // the "daemon" is down: connection closed at once
                    continue;
                }
                let Ok(upstream) = UnixStream::connect(&engine).await else { continue };
                tokio::spawn(pipe(
                    client,
                    upstream,
                    down_tx.clone(),
                    trig.clone(),
                    wedged_tx.subscribe(),
                ));
            }
        });
        EngineProxy { socket, down, trigger, wedged, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The next request containing `needle` takes the engine down (for `down_for`, or until `up`).
    pub fn fail_on(&self, needle: &str, down_for: Option<Duration>) {
        *self.trigger.lock().unwrap() = Some((needle.to_string(), down_for));
    }

    pub fn up(&self) {
        self.down.send_replace(false);
    }

    /// From now on requests are read and never answered (the connection stays open).
    pub fn wedge(&self) {
        self.wedged.send_replace(true);
    }

    /// Answers again; the connections that were held are closed.
    pub fn unwedge(&self) {
        self.wedged.send_replace(false);
    }
}

async fn pipe(
    mut client: UnixStream,
    mut upstream: UnixStream,
    down: watch::Sender<bool>,
    trigger: Trigger,
    mut wedged: watch::Receiver<bool>,
) {
    let mut down_rx = down.subscribe();
    let mut from_client = vec![0u8; 64 * 1024];
    let mut from_engine = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = client.read(&mut from_client) => {
                let Ok(n) = read else { return };
                if n == 0 { return; }
                if *wedged.borrow() {
                    // Swallowed: held open with no answer until unwedged, then closed.
                    let _ = wedged.wait_for(|w| !*w).await;
                    return;
                }
                let text = String::from_utf8_lossy(&from_client[..n]).to_string();
                let fired = {
                    let mut guard = trigger.lock().unwrap();
                    match guard.as_ref() {
                        Some((needle, _)) if text.contains(needle.as_str()) => guard.take(),
                        _ => None,
                    }
                };
                if let Some((_, down_for)) = fired {
                    down.send_replace(true);
                    if let Some(after) = down_for {
                        let again = down.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            again.send_replace(false);
                        });
                    }
                    return;
                }
                if upstream.write_all(&from_client[..n]).await.is_err() { return; }
            }
            read = upstream.read(&mut from_engine) => {
                let Ok(n) = read else { return };
                if n == 0 { return; }
                if client.write_all(&from_engine[..n]).await.is_err() { return; }
            }
            changed = down_rx.changed() => {
                if changed.is_err() || *down_rx.borrow() { return; }
            }
        }
    }
}
