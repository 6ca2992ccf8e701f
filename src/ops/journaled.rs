//! Every mutation journaled once: a `Backend` wrapped so `create`, `scale`, `delete` and
//! `restart` append their outcome to the journal whoever calls them (CLI or console).

use std::sync::Arc;

use crate::backend::journal::{self, JournalEntry};
use crate::backend::{
    AsyncBackend, Backend, BackendError, BoxStream, Lifecycle, LogLine, LogOptions, ProgressTx,
};
use crate::model::{BackendEvent, BackendHealth, Capabilities, Deployment, DeploymentSpec};

pub struct Journaled {
    inner: Arc<dyn Backend>,
    state_dir: std::path::PathBuf,
}

impl Journaled {
    pub fn wrap(inner: Arc<dyn Backend>, state_dir: &std::path::Path) -> Arc<dyn Backend> {
        Arc::new(Journaled { inner, state_dir: state_dir.to_path_buf() })
    }

    async fn record<T>(&self, action: &str, target: String, result: &Result<T, BackendError>) {
        let entry = JournalEntry::new(self.inner.name(), action, target, result);
        let dir = self.state_dir.clone();
        // A file append: off the async workers, and never fatal to the action itself.
        match tokio::task::spawn_blocking(move || journal::append(&dir, &entry)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!("journal not written: {err}"),
            Err(err) => tracing::warn!("journal writer failed: {err}"),
        }
    }
}

impl AsyncBackend for Journaled {
    fn place_on(&self, gpus: Vec<crate::backend::AllocatableGpu>) {
        self.inner.place_on(gpus)
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn health(&self) -> BackendHealth {
        self.inner.health().await
    }
    async fn list(&self) -> Result<Vec<Deployment>, BackendError> {
        self.inner.list().await
    }
    async fn get(&self, name: &str) -> Result<Deployment, BackendError> {
        self.inner.get(name).await
    }
    async fn logs(
        &self,
        name: &str,
        options: LogOptions,
    ) -> Result<BoxStream<Result<LogLine, BackendError>>, BackendError> {
        self.inner.logs(name, options).await
    }
    async fn events(&self, name: Option<&str>) -> Result<BoxStream<BackendEvent>, BackendError> {
        self.inner.events(name).await
    }
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        self.inner.render(spec)
    }
    async fn image_presence(
        &self,
        image: &str,
    ) -> Result<crate::backend::ImagePresence, BackendError> {
        self.inner.image_presence(image).await
    }
}

impl Lifecycle for Journaled {
    async fn create(
        &self,
        spec: &DeploymentSpec,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        let result = self.inner.create(spec, progress).await;
        let recipe = spec.recipe_id.as_deref().map(|r| format!(", recipe {r}")).unwrap_or_default();
        self.record(
            "deploy",
            format!("{} ({} x {}{recipe})", spec.name, spec.replicas, spec.model),
            &result,
        )
        .await;
        result
    }
    async fn scale(
        &self,
        name: &str,
        replicas: u32,
        progress: ProgressTx,
    ) -> Result<Deployment, BackendError> {
        let result = self.inner.scale(name, replicas, progress).await;
        self.record("scale", format!("{name} -> {replicas} replicas"), &result).await;
        result
    }
    async fn delete(&self, name: &str) -> Result<(), BackendError> {
        let result = self.inner.delete(name).await;
        self.record("rm", name.to_string(), &result).await;
        result
    }
    async fn restart(&self, name: &str) -> Result<(), BackendError> {
        let result = self.inner.restart(name).await;
        self.record("restart", name.to_string(), &result).await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_delete_is_journaled_once() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::backend::BackendOptions::new(dir.path());
        let backend = Journaled::wrap(
            crate::backend::registry::open("process", &options).unwrap(),
            dir.path(),
        );
        assert!(backend.delete("nothing-here").await.is_err());
        let journal = journal::read(dir.path()).unwrap();
        assert_eq!(journal.entries.len(), 1, "{:?}", journal.entries);
        assert_eq!(
            (journal.entries[0].action.as_str(), journal.entries[0].backend.as_str()),
            ("rm", "process")
        );
        assert!(journal.entries[0].result.starts_with("error:"));
    }
}
