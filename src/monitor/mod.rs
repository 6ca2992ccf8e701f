//! Live data: pollers for endpoints and GPUs, and the bounded history they keep.

pub mod ring;

pub use ring::Ring;
