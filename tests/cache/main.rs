//! The Hugging Face model cache: the scan against huggingface_hub's own, safe delete, pull from a
//! Hub stand-in, and a full disk. One test binary (each module was one of its own).

#[path = "../support/cache_tree.rs"]
mod cache_tree;
#[path = "../support/fake_hub.rs"]
mod fake_hub;

mod delete;
mod disk_full;
mod pull;
mod scan;
