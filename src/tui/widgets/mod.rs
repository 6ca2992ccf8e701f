//! Reusable pieces every view draws with.

pub mod confirm;
pub mod form;
pub mod form_view;
pub mod gauge;
pub mod log_pane;
pub mod picker;
pub mod table;
pub mod table_column;
pub mod table_layout;
pub mod text_input;
pub mod units;

pub use confirm::ConfirmDialog;
pub use form::{Form, FormField};
pub use log_pane::LogPane;
pub use table::{Column, DataTable, Fit, SortKey, TableCell, TableRow};
pub use table_layout::{Cut, cut_line, text_width};
