//! The pages.

pub mod intel;
pub mod monitoring;
pub mod oncall;
