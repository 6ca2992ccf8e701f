//! The state of each tabbed view: a table of its resources and, while it has none, an honest
//! note of where it looked and how to get data.

use super::ViewId;
use crate::tui::keymap::Action;
use crate::tui::widgets::DataTable;

#[derive(Debug, Clone)]
pub struct ResourceView {
    pub id: ViewId,
    pub table: DataTable,
    /// Shown instead of the table while it has no rows.
    pub empty_note: Vec<String>,
    /// The row actions (create, delete, ...) this view supports now.
    pub actions: Vec<Action>,
}

impl ResourceView {
    /// `id`'s view among `views`: the console's and a domain's `Ctx` find it alike (the first
    /// view stands in for an id that has none).
    pub fn of(views: &[ResourceView], id: ViewId) -> &ResourceView {
        views.iter().find(|v| v.id == id).unwrap_or(&views[0])
    }

    pub fn new(id: ViewId) -> ResourceView {
        let (columns, empty_note) = match id {
            ViewId::Gpus => (
                crate::tui::features::gpus::columns(),
                crate::tui::features::gpus::empty_note(None),
            ),
            ViewId::Cache => (
                crate::tui::features::cache::columns(),
                vec!["Scanning the Hugging Face cache…".into()],
            ),
            ViewId::Recipes => (
                crate::tui::features::recipes::columns(),
                crate::tui::features::recipes::empty_note(None, &Default::default()),
            ),
            ViewId::Endpoints => (
                crate::tui::features::endpoints::view::columns(),
                crate::tui::features::endpoints::view::empty_note(
                    &crate::tui::features::endpoints::view::EndpointSettings::default(),
                ),
            ),
        };
        let actions = match id {
            // Row actions come with rows (`joins`); create needs none.
            ViewId::Endpoints => vec![Action::Create],
            other => offered(other).to_vec(),
        };
        ResourceView { id, table: DataTable::new(columns), empty_note, actions }
    }
}

/// Every row action a view has (the help lists them; the footer lists those usable now).
pub fn offered(id: ViewId) -> &'static [Action] {
    match id {
        ViewId::Gpus => &[Action::Topology],
        ViewId::Recipes => &[Action::Edit, Action::Create],
        ViewId::Endpoints => crate::tui::features::endpoints::ROW_ACTIONS,
        ViewId::Cache => &[Action::Pull, Action::Delete, Action::Cancel, Action::RecipesFor],
    }
}
