//! The pages that belong to no module: the dashboard and the audit trail.

pub mod audit;
pub mod home;

pub use isms_webkit::shell;
