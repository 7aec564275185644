//! The pages.

pub mod policies;
