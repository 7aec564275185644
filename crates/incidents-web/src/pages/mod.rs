//! The pages.

pub mod incidents;
