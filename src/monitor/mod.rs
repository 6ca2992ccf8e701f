//! Live data: pollers for endpoints and GPUs, and the bounded history they keep.

pub mod gpu_history;
pub mod gpu_poller;
pub mod ring;

pub use ring::Ring;
