//! What has the keyboard: the console's modes, among them the overlays a domain opens (a
//! confirm dialog, a form, a pager, a picker, the logs), and what each dialog, form or picker
//! is for, so that its answer goes back to the domain that opened it.

use crate::tui::widgets::text_input::TextInput;
use crate::tui::widgets::{ConfirmDialog, Form};

/// What has the keyboard right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Command {
        input: TextInput,
        candidates: Vec<String>,
    },
    Filter {
        input: TextInput,
    },
    Help {
        scroll: u16,
    },
    Confirm(ConfirmDialog, ConfirmPurpose),
    Form(Form, FormPurpose),
    /// A scrollable text: a rendered config to review (Enter creates) or the journal.
    Pager(Box<Pager>),
    /// The logs of `deploy.logs`.
    Logs,
    /// Choosing a context (`:ctx`) or a namespace (`:ns`).
    Pick(crate::tui::widgets::picker::Picker, PickPurpose),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pager {
    pub title: String,
    pub pane: crate::tui::widgets::LogPane,
    /// Set when Enter creates this deployment (the create wizard's review step).
    pub create: Option<(String, Box<crate::model::DeploymentSpec>)>,
}

/// What a picker is choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickPurpose {
    Context,
    Namespace,
    /// The create wizard's recipe for the model (`create_form`).
    CreateRecipe,
}

/// What a confirmed dialog does.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmPurpose {
    /// Delete from the cache; `in_use_checked` once the second question (the model is
    /// served by a deployment) has been answered too.
    DeleteCache { plan: Box<crate::cache::DeletePlan>, in_use_checked: bool },
    /// Tear down a deployment (every replica) on a backend.
    DeleteDeployment { backend: String, name: String },
    /// Scale a deployment to 0 replicas (it is kept, stopped): asked like a delete.
    ScaleToZero { backend: String, name: String },
}

/// What a submitted form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormPurpose {
    EditRecipe { id: String },
    Pull,
    Create,
    Scale { backend: String, name: String },
}
