//! Runs `Command`s as tokio tasks and sends their results back as `Event`s, so `App::update`
//! never waits on I/O.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::event::{Command, Event};
use super::theme::Theme;

#[derive(Debug, Clone)]
pub struct TaskRunner {
    events: mpsc::Sender<Event>,
    user_themes_dir: PathBuf,
    /// Extra recipe directories (config file, then `--recipes-dir`).
    recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    user_recipes_dir: PathBuf,
    endpoints: Option<super::endpoint_tasks::EndpointTasks>,
}

impl TaskRunner {
    pub fn new(
        events: mpsc::Sender<Event>,
        user_themes_dir: PathBuf,
        recipe_dirs: Vec<crate::recipes::load::RecipeDir>,
    ) -> TaskRunner {
        TaskRunner {
            events,
            user_themes_dir,
            recipe_dirs,
            user_recipes_dir: crate::paths::user_recipes_dir(),
            endpoints: None,
        }
    }

    /// Endpoint commands go to these tasks (without them they are dropped with a log line).
    pub fn with_endpoints(mut self, tasks: super::endpoint_tasks::EndpointTasks) -> TaskRunner {
        self.endpoints = Some(tasks);
        self
    }

    /// Runs `job` on the blocking pool and sends its event; a job that panics is reported as
    /// `on_panic` instead of taking the console down.
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
            let _ = events.send(event).await;
        });
    }

    pub fn run(&self, command: Command) {
        let events = self.events.clone();
        match command {
            Command::LoadTheme(name) => {
                let dir = self.user_themes_dir.clone();
                tokio::spawn(async move {
                    let lookup = name.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        Theme::load(&lookup, &dir).map_err(|e| e.to_string())
                    })
                    .await
                    .unwrap_or_else(|join| Err(format!("theme loader failed: {join}")));
                    let _ = events.send(Event::ThemeLoaded { name, result }).await;
                });
            }
            Command::LoadRecipes => {
                let dirs = self.recipe_dirs.clone();
                self.blocking(
                    move || {
                        Event::Recipes(std::sync::Arc::new(crate::recipes::load::load_library(
                            &dirs,
                        )))
                    },
                    |err| Event::RecipeSaved {
                        id: String::new(),
                        result: Err(format!("loading recipes failed: {err}")),
                    },
                );
            }
            Command::ScanCache { root } => self.scan_cache(root),
            Command::Deploy(command) => super::deploy_flow::run(command, self.events.clone()),
            Command::Cluster(command) => super::cluster_flow::run(command, self.events.clone()),
            Command::Pull { repo, revision, root, cancel } => {
                let events = self.events.clone();
                let runner = self.clone();
                tokio::spawn(async move {
                    let result = pull(&repo, &revision, &root, cancel, events.clone()).await;
                    let _ = events.send(Event::PullDone(result)).await;
                    runner.scan_cache(root);
                });
            }
            Command::DeleteFromCache { plan, root } => {
                let events = self.events.clone();
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
                    let _ = events.send(Event::CacheDeleted { repo, result }).await;
                    runner.scan_cache(root);
                });
            }
            Command::Endpoints(command) => match &self.endpoints {
                Some(tasks) => tasks.run(command),
                None => tracing::warn!("no endpoint tasks: {command:?} dropped"),
            },
            Command::SaveRecipe { id, yaml } => {
                // The recipe library's own save: validated, written through a temporary file.
                let dir = self.user_recipes_dir.clone();
                let dirs = self.recipe_dirs.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let result = tokio::task::spawn_blocking(move || {
                        crate::recipes::edit::save_user_recipe(&dir, &yaml)
                            .map_err(|err| err.to_string())
                    })
                    .await
                    .unwrap_or_else(|err| Err(err.to_string()));
                    let saved = result.is_ok();
                    let _ = events.send(Event::RecipeSaved { id, result }).await;
                    if saved {
                        let library = tokio::task::spawn_blocking(move || {
                            crate::recipes::load::load_library(&dirs)
                        })
                        .await;
                        if let Ok(library) = library {
                            let _ = events.send(Event::Recipes(std::sync::Arc::new(library))).await;
                        }
                    }
                });
            }
        }
    }
}

impl TaskRunner {
    fn scan_cache(&self, root: PathBuf) {
        self.blocking(
            move || {
                let result = match crate::cache::scan_cache_dir(&root) {
                    Ok(report) => Ok(std::sync::Arc::new(report)),
                    // No cache yet is an empty cache (the first pull creates it), not an error.
                    Err(crate::cache::ScanError::NotFound(_)) => {
                        Ok(std::sync::Arc::new(crate::model::cache::CacheReport {
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
}

/// Pulls a repo revision into the cache, forwarding progress snapshots as events.
async fn pull(
    repo: &str,
    revision: &str,
    root: &std::path::Path,
    cancel: tokio_util::sync::CancellationToken,
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
