//! Watching a rollout until every replica answers `/health`, reporting each state change.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Backend, BackendError, ProgressTx, now_rfc3339};
use crate::model::{BackendEvent, BackendEventKind, Deployment, ReplicaState};

/// Polls `backend.get(name)` until `replicas` replicas are ready, the timeout passes, or a
/// replica exits (an engine that died will not come back by waiting).
pub async fn wait_ready(
    backend: &dyn Backend,
    name: &str,
    timeout: Duration,
    progress: ProgressTx,
) -> Result<Deployment, BackendError> {
    let started = Instant::now();
    let mut seen: BTreeMap<u32, ReplicaState> = BTreeMap::new();
    loop {
        let deployment = backend.get(name).await?;
        for replica in &deployment.replicas {
            if seen.insert(replica.index, replica.state) != Some(replica.state)
                && let Some(tx) = &progress
            {
                let _ = tx.send(BackendEvent {
                    when: now_rfc3339(),
                    backend: backend.name().to_string(),
                    deployment: name.to_string(),
                    replica: Some(replica.index),
                    kind: BackendEventKind::State { state: replica.state },
                    message: format!("{} {}", replica.name, replica.state),
                });
            }
        }
        if let Some(dead) = deployment
            .replicas
            .iter()
            .find(|r| matches!(r.state, ReplicaState::Exited | ReplicaState::Failed))
        {
            return Err(BackendError::Other(format!(
                "replica {} of `{name}` {}{} before it became ready",
                dead.index,
                dead.state,
                dead.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
            )));
        }
        if !deployment.replicas.is_empty()
            && deployment.ready_replicas() == deployment.replicas.len()
        {
            return Ok(deployment);
        }
        if started.elapsed() > timeout {
            return Err(BackendError::Other(format!(
                "`{name}`: {} replicas ready after {}s",
                deployment.ready_summary(),
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
