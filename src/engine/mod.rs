//! Serving engines: how to launch vLLM and SGLang from a `DeploymentSpec`.

pub mod launch;

pub use launch::{launch_command, LaunchCommand};
