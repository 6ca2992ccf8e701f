//! Reusable pieces every view draws with.

pub mod confirm;
pub mod form;
pub mod form_view;
pub mod gauge;
pub mod log_pane;
pub mod picker;
pub mod table;
pub mod text_input;

pub use confirm::ConfirmDialog;
pub use form::{Form, FormField};
pub use log_pane::LogPane;
pub use table::{Column, DataTable, SortKey, TableCell, TableRow};
