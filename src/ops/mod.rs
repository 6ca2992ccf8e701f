//! The application layer both front ends call: a `DeployRequest` (what the user asked) is
//! resolved into a `DeploymentSpec` in one place (`resolve`: the recipe applied, or chosen for
//! the target's GPUs, or derived, then the flags over it), checked against the live GPUs
//! (`preflight`), and created on a backend opened from one `BackendConfig`, whose mutations
//! are journaled by a decorator (`journaled`). No clap and no terminal types in here.

pub mod backends;
pub mod choose;
pub mod error;
pub mod gather;
pub mod journaled;
pub mod k8s;
pub mod preflight;
pub mod request;
pub mod resolve;
pub mod settings;
pub mod target;

pub use backends::BackendConfig;
pub use choose::RunnerUp;
pub use error::ResolveError;
pub use request::{DeployRequest, Environment, Overrides, Target};
pub use resolve::{Resolution, resolve};

#[cfg(test)]
mod tests;
