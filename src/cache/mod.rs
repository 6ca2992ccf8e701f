//! The Hugging Face hub cache: scan it (as `huggingface_hub.scan_cache_dir` does), delete
//! revisions or repos safely (plan, then execute), and pull repos from the Hub with progress.
//! The data types live in `crate::model::cache`.

pub mod delete;
mod dirfd;
mod folder_walk;
pub mod pyfmt;
pub mod scan;
mod scan_repo;
mod shared_store;

pub use delete::{DeleteError, DeletePlan, ModelHold, execute, plan_delete};
pub use pyfmt::format_size;
pub use scan::{ScanError, scan_cache_dir};
pub mod pull;
