//! The joins between the console's domains, in one place with one job: what each replica holds
//! onto the discovered GPUs (HELD BY), the models deployments serve onto the cache (its delete
//! guard), the replicas the backends list onto the endpoint monitor, and the rows each view
//! derives from all of that.
//!
//! Rows are derived state with ONE invalidation mechanism: an update that changes what a view
//! shows calls `App::invalidate` (all views, or only the Endpoints rows), and `App::update`
//! rebuilds what is stale once, as its last step (`rebuild`). Endpoint polls only mark their
//! rows stale; the next tick folds them into one rebuild (`on_tick`).

pub mod deployment_rows;

use std::collections::BTreeMap;

use crate::model::gpu::GpuClaim;
use crate::monitor::EndpointTarget;
use crate::tui::app::App;
use crate::tui::event::Command;
use crate::tui::features::deploy::DeployState;
use crate::tui::features::endpoints::view::{self as endpoints, Origin, Watched};
use crate::tui::features::{cache, endpoints as endpoint_actions, gpus, recipes};
use crate::tui::keymap::Action;
use crate::tui::views::ViewId;

/// Which derived rows are stale. `All` includes the Endpoints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stale {
    Endpoints,
    All,
}

impl App {
    /// Marks rows stale; `App::update` rebuilds them once before it returns.
    pub(crate) fn invalidate(&mut self, which: Stale) {
        self.stale = self.stale.max(Some(which));
    }
}

/// Rebuilds what `invalidate` marked stale (called by `App::update` and `App::start`).
pub(crate) fn rebuild(app: &mut App) {
    match app.stale.take() {
        Some(Stale::All) => all_rows(app),
        Some(Stale::Endpoints) => endpoint_rows(app),
        None => {}
    }
}

/// What each replica holds, for the GPUs view's HELD BY column.
pub fn gpu_claims(deploy: &DeployState) -> Vec<GpuClaim> {
    deploy
        .all()
        .flat_map(|d| {
            d.replicas.iter().map(|r| GpuClaim {
                deployment: d.name.clone(),
                replica: r.index,
                gpus: r.gpus.clone(),
            })
        })
        .filter(|claim| !claim.gpus.is_empty())
        .collect()
}

/// Models served by running deployments, for the cache view and its delete guard.
pub fn model_holds(deploy: &DeployState) -> Vec<crate::cache::ModelHold> {
    deploy
        .all()
        .map(|d| crate::cache::ModelHold {
            model: d.spec.model.clone(),
            deployment: d.name.clone(),
        })
        .collect()
}

/// A listing changed what the backends run: the models they serve guard cache deletes, and
/// every view's rows are stale.
pub(crate) fn deployments_changed(app: &mut App) {
    app.cache.holds = model_holds(&app.deploy);
    app.invalidate(Stale::All);
}

/// Rebuilds every view's rows from the domain state (after new data or a theme change, since
/// rows carry styled cells).
fn all_rows(app: &mut App) {
    let theme = app.theme.clone();
    if let Some(update) = app.gpus.update.clone() {
        // Join what the backends say each replica holds onto the discovered GPUs.
        let mut joined = (*update).clone();
        crate::model::gpu::assign_holders(&mut joined.snapshot.gpus, &gpu_claims(&app.deploy));
        let owners = crate::model::gpu::owners_of(app.deploy.all());
        crate::model::gpu::assign_process_owners(&mut joined.snapshot.gpus, &owners);
        app.gpus.joined = Some(std::sync::Arc::new(joined.snapshot.clone()));
        let view = app.view_state_mut(ViewId::Gpus);
        view.table.set_rows(gpus::rows(&joined, &theme));
        view.empty_note = gpus::empty_note(Some(&update));
    }
    let rows = cache::rows(&app.cache, &theme);
    let note = cache::empty_note(&app.cache);
    let view = app.view_state_mut(ViewId::Cache);
    view.table.set_rows(rows);
    view.empty_note = note;
    let rows = recipes::rows(&app.recipes, &theme);
    let note = recipes::empty_note(app.recipes.library.as_deref(), &app.recipes.read);
    let view = app.view_state_mut(ViewId::Recipes);
    view.table.set_rows(rows);
    view.empty_note = note;
    endpoint_rows(app);
    app.mark_dirty();
}

/// The Endpoints table: one row per watched URL, then one per deployment, both from the
/// histories (rows carry styled cells and the time in state).
fn endpoint_rows(app: &mut App) {
    app.endpoints.rows_stale = false;
    let mut rows = endpoints::rows(&app.endpoints, &app.theme);
    // A deployment's row adds up its replicas' newest numbers.
    rows.extend(deployment_rows::rows(&app.deploy, &app.endpoints, &app.theme));
    if let Some(snapshot) = app.gpus.joined.as_deref() {
        gpus::detail::flag_failed_gpus(&mut rows, app.deploy.all(), snapshot, &app.theme);
    }
    let mut note = deployment_rows::empty_note(&app.deploy);
    note.extend(endpoints::empty_note(&app.endpoints.settings).into_iter().skip(1));
    let view = app.view_state_mut(ViewId::Endpoints);
    // Row actions only when there is a row to act on (the footer lists them); create always.
    view.actions =
        if rows.is_empty() { vec![Action::Create] } else { endpoint_actions::ROW_ACTIONS.to_vec() };
    view.table.set_rows(rows);
    view.empty_note = note;
}

/// Rebuilds the Endpoints table if polls arrived since it was built. A poll only stores its
/// numbers in the history and marks the rows stale: rebuilding (clone, filter, re-sort every
/// row) on each poll cost about 2 ms with 500 deployments listed, more than a core for 2,000
/// replicas at 1 Hz; once per clock tick it costs the same whatever the number of replicas.
pub fn flush(app: &mut App) {
    if app.endpoints.rows_stale {
        endpoint_rows(app);
    }
}

/// The clock tick (1 s, the default poll interval): the polls since the last tick become one
/// rebuild of the table, and one redraw when the Endpoints view is on screen.
pub(crate) fn on_tick(app: &mut App) {
    if app.endpoints.rows_stale {
        flush(app);
        if app.view == ViewId::Endpoints {
            app.mark_dirty();
        }
    }
}

/// Keeps the endpoint monitor watching exactly the replicas the backends list: each replica's
/// history id is `deploy:NAME` for replica 0 (the row's id) and `deploy:NAME/I`. Its numbers
/// show in its deployment's row (`deployment_rows::rows`); the panes use the id.
pub(crate) fn watch_replicas(app: &mut App) -> Vec<Command> {
    let wanted: BTreeMap<String, String> = app
        .deploy
        .all()
        .flat_map(|d| {
            d.replicas.iter().map(move |r| (deployment_rows::replica_id(&d.name, r.index), r.url()))
        })
        .collect();
    let mut commands = Vec::new();
    let stale: Vec<String> = app
        .endpoints
        .watched
        .iter()
        .filter(|(id, w)| w.origin == Origin::Deployment && wanted.get(*id) != Some(&w.url))
        .map(|(id, _)| id.clone())
        .collect();
    for id in stale {
        // A replica that went away.
        app.endpoints.watched.remove(&id);
        app.endpoints.histories.remove(&id);
        commands.push(Command::Endpoints(endpoint_actions::EndpointCommand::Unwatch(id)));
    }
    for (id, url) in wanted {
        if let std::collections::btree_map::Entry::Vacant(entry) =
            app.endpoints.watched.entry(id.clone())
        {
            let target = EndpointTarget { id, ..EndpointTarget::from_url(&url) };
            entry.insert(Watched { url: target.base_url.clone(), origin: Origin::Deployment });
            commands.push(Command::Endpoints(endpoint_actions::EndpointCommand::Watch(target)));
        }
    }
    commands
}
