//! The state of each tabbed view: a table of its resources and, while it has none, an honest
//! note of where it looked and how to get data.

use ratatui::layout::Constraint;

use super::ViewId;
use crate::tui::keymap::Action;
use crate::tui::widgets::{Column, DataTable};

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
    pub fn new(id: ViewId) -> ResourceView {
        let (columns, empty_note) = match id {
            ViewId::Gpus => (super::gpus::columns(), super::gpus::empty_note(None)),
            ViewId::Cache => (
                vec![
                    Column::new("REPO", Constraint::Min(30)),
                    Column::new("TYPE", Constraint::Length(8)),
                    Column::new("SIZE", Constraint::Length(10)),
                    Column::new("REVS", Constraint::Length(5)),
                    Column::new("LAST USED", Constraint::Length(12)),
                    Column::new("HELD BY", Constraint::Length(16)),
                ],
                vec![
                    "No model cache source is connected to this console yet.".into(),
                    "The Hugging Face cache is read from HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub.".into(),
                ],
            ),
            ViewId::Recipes => (super::recipes::columns(), super::recipes::empty_note(None)),
            ViewId::Endpoints => (
                super::endpoints::columns(),
                super::endpoints::empty_note(&super::endpoints::EndpointSettings::default()),
            ),
        };
        let actions = match id {
            ViewId::Gpus => vec![Action::Topology],
            ViewId::Recipes => vec![Action::Edit],
            _ => Vec::new(),
        };
        ResourceView { id, table: DataTable::new(columns), empty_note, actions }
    }
}
