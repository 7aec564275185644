//! The pages.

pub mod assets;
