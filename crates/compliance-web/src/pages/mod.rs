//! The pages.

pub mod compliance;
pub mod review_findings;
pub mod risks;
