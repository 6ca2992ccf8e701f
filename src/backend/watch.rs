//! Events by polling, for backends without an event stream of their own (the process backend):
//! list every `interval` and report each replica whose state changed, appeared or went away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{Backend, BoxStream, now_rfc3339};
use crate::model::{BackendEvent, BackendEventKind, ReplicaState};

type Seen = BTreeMap<(String, u32), ReplicaState>;

pub fn poll_events(
    backend: Arc<dyn Backend>,
    only: Option<String>,
    interval: Duration,
) -> BoxStream<BackendEvent> {
    let start: (Arc<dyn Backend>, Option<Seen>, Vec<BackendEvent>) = (backend, None, Vec::new());
    futures::stream::unfold(start, move |(backend, mut seen, mut queue)| {
        let only = only.clone();
        async move {
            loop {
                if let Some(event) = queue.pop() {
                    return Some((event, (backend, seen, queue)));
                }
                if seen.is_some() {
                    tokio::time::sleep(interval).await;
                }
                let Ok(deployments) = backend.list().await else { continue };
                let mut now: Seen = BTreeMap::new();
                for deployment in
                    deployments.iter().filter(|d| only.as_ref().is_none_or(|o| *o == d.name))
                {
                    for replica in &deployment.replicas {
                        now.insert((deployment.name.clone(), replica.index), replica.state);
                    }
                }
                if let Some(before) = &seen {
                    let event = |(name, index): &(String, u32),
                                 kind: BackendEventKind,
                                 message: String| BackendEvent {
                        when: now_rfc3339(),
                        backend: backend.name().to_string(),
                        deployment: name.clone(),
                        replica: Some(*index),
                        kind,
                        message,
                    };
                    for (key, state) in &now {
                        if before.get(key) != Some(state) {
                            queue.push(event(
                                key,
                                BackendEventKind::State { state: *state },
                                format!("replica {} {state}", key.1),
                            ));
                        }
                    }
                    for key in before.keys().filter(|k| !now.contains_key(*k)) {
                        queue.push(event(
                            key,
                            BackendEventKind::Other { action: "removed".into() },
                            format!("replica {} removed", key.1),
                        ));
                    }
                    queue.reverse();
                }
                seen = Some(now);
            }
        }
    })
    .boxed()
}
