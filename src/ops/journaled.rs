//! Every mutation journaled once: a `Backend` wrapped so `create`, `scale`, `delete` and
//! `restart` append their outcome to the journal whoever calls them (CLI or console).

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::backend::journal::{self, JournalEntry};
use crate::backend::{Backend, BackendError, BoxStream, LogLine, LogOptions, ProgressTx};
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

impl Backend for Journaled {
    fn place_on(&self, gpus: Vec<crate::backend::AllocatableGpu>) {
        self.inner.place_on(gpus)
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn health(&self) -> BoxFuture<'_, BackendHealth> {
        self.inner.health()
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<Deployment>, BackendError>> {
        self.inner.list()
    }
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        self.inner.get(name)
    }
    fn create<'a>(
        &'a self,
        spec: &'a DeploymentSpec,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(async move {
            let result = self.inner.create(spec, progress).await;
            let recipe =
                spec.recipe_id.as_deref().map(|r| format!(", recipe {r}")).unwrap_or_default();
            self.record(
                "deploy",
                format!("{} ({} x {}{recipe})", spec.name, spec.replicas, spec.model),
                &result,
            )
            .await;
            result
        })
    }
    fn scale<'a>(
        &'a self,
        name: &'a str,
        replicas: u32,
        progress: ProgressTx,
    ) -> BoxFuture<'a, Result<Deployment, BackendError>> {
        Box::pin(async move {
            let result = self.inner.scale(name, replicas, progress).await;
            self.record("scale", format!("{name} -> {replicas} replicas"), &result).await;
            result
        })
    }
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let result = self.inner.delete(name).await;
            self.record("rm", name.to_string(), &result).await;
            result
        })
    }
    fn restart<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let result = self.inner.restart(name).await;
            self.record("restart", name.to_string(), &result).await;
            result
        })
    }
    fn logs<'a>(
        &'a self,
        name: &'a str,
        options: LogOptions,
    ) -> BoxFuture<'a, Result<BoxStream<Result<LogLine, BackendError>>, BackendError>> {
        self.inner.logs(name, options)
    }
    fn events<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, Result<BoxStream<BackendEvent>, BackendError>> {
        self.inner.events(name)
    }
    fn render(&self, spec: &DeploymentSpec) -> Result<serde_json::Value, BackendError> {
        self.inner.render(spec)
    }
    fn image_presence<'a>(
        &'a self,
        image: &'a str,
    ) -> BoxFuture<'a, Result<crate::backend::ImagePresence, BackendError>> {
        self.inner.image_presence(image)
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
