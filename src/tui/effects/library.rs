//! Effects on this host's files: themes, the recipe library, the Hugging Face cache (scan,
//! pull, delete). Blocking reads run on the blocking pool; a job that panics comes back as an
//! error event instead of taking the console down.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Effects;
use crate::tui::event::{Event, RunId};
use crate::tui::theme::Theme;

impl Effects {
    /// Runs `job` on the blocking pool and sends its event; a job that panics is reported as
    /// `on_panic` instead.
    fn blocking(
        &self,
        job: impl FnOnce() -> Event + Send + 'static,
        on_panic: impl FnOnce(String) -> Event + Send + 'static,
    ) {
        let events = self.events.clone();
        tokio::spawn(async move {
            let event = tokio::task::spawn_blocking(job)
                .await
                .unwrap_or_else(|err| on_panic(err.to_string()));
            Effects::send(&events, event).await;
        });
    }

    pub(super) fn load_theme(&self, name: String) {
        let dir = self.user_themes_dir.clone();
        let lookup = name.clone();
        let failed = name.clone();
        self.blocking(
            move || Event::ThemeLoaded {
                name,
                result: Theme::load(&lookup, &dir).map_err(|e| e.to_string()),
            },
            |join| Event::ThemeLoaded {
                name: failed,
                result: Err(format!("theme loader failed: {join}")),
            },
        );
    }

    pub(super) fn load_recipes(&self) {
        let dirs = self.recipe_dirs.clone();
        self.blocking(
            move || Event::Recipes(Arc::new(crate::recipes::load::load_library(&dirs))),
            |err| Event::RecipesFailed(format!("loading recipes failed: {err}")),
        );
    }

    /// The recipe library's own save (validated, written through a temporary file), then the
    /// library reloaded so the new recipe shows.
    pub(super) fn save_recipe(&self, id: String, yaml: String) {
        let dir = self.user_recipes_dir.clone();
        let runner = self.clone();
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || {
                crate::recipes::edit::save_user_recipe(&dir, &yaml).map_err(|err| err.to_string())
            })
            .await
            .unwrap_or_else(|err| Err(err.to_string()));
            let saved = result.is_ok();
            Effects::send(&runner.events, Event::RecipeSaved { id, result }).await;
            if saved {
                runner.load_recipes();
            }
        });
    }

    pub(super) fn scan_cache(&self, root: PathBuf) {
        self.blocking(
            move || {
                let result = match crate::cache::scan_cache_dir(&root) {
                    Ok(report) => Ok(Arc::new(report)),
                    // No cache yet is an empty cache (the first pull creates it), not an error.
                    Err(crate::cache::ScanError::NotFound(_)) => {
                        Ok(Arc::new(crate::model::cache::CacheReport {
                            root: root.clone(),
                            size_on_disk: 0,
                            incomplete_bytes: 0,
                            repos: Vec::new(),
                            warnings: Vec::new(),
                        }))
                    }
                    Err(err) => Err(err.to_string()),
                };
                Event::CacheScanned(result)
            },
            |err| Event::CacheScanned(Err(format!("cache scan failed: {err}"))),
        );
    }

    pub(super) fn delete_from_cache(&self, plan: Box<crate::cache::DeletePlan>, root: PathBuf) {
        let runner = self.clone();
        tokio::spawn(async move {
            let repo = plan.repo_id.clone();
            let execute_root = root.clone();
            let result = tokio::task::spawn_blocking(move || {
                crate::cache::execute(&plan, &execute_root)
                    .map(|()| plan.bytes_freed)
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|err| Err(err.to_string()));
            Effects::send(&runner.events, Event::CacheDeleted { repo, result }).await;
            runner.scan_cache(root);
        });
    }

    pub(super) fn pull(
        &self,
        repo: String,
        revision: String,
        root: PathBuf,
        run: RunId,
        cancel: CancellationToken,
    ) {
        let runner = self.clone();
        tokio::spawn(async move {
            let result = pull(&repo, &revision, &root, cancel, runner.events.clone()).await;
            runner.finisher().ended(run);
            Effects::send(&runner.events, Event::PullDone(result)).await;
            runner.scan_cache(root);
        });
    }
}

/// Pulls a repo revision into the cache, forwarding progress snapshots as events.
async fn pull(
    repo: &str,
    revision: &str,
    root: &std::path::Path,
    cancel: CancellationToken,
    events: mpsc::Sender<Event>,
) -> Result<crate::cache::pull::PullSummary, String> {
    use crate::cache::pull::{HubClient, PullRequest, endpoint_from_env, find_token};
    fn env(name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    let hub =
        HubClient::new(&endpoint_from_env(env), find_token(env)).map_err(|e| e.to_string())?;
    let request = PullRequest::new(repo, revision, root);
    let (progress_tx, mut progress_rx) = mpsc::channel(16);
    let forward = tokio::spawn(async move {
        while let Some(progress) = progress_rx.recv().await {
            if events.send(Event::PullProgress(progress)).await.is_err() {
                break;
            }
        }
    });
    let result = crate::cache::pull::pull(&hub, &request, Some(progress_tx), cancel)
        .await
        .map_err(|e| e.to_string());
    let _ = forward.await;
    result
}
