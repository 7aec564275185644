//! The HTML pages, one module per domain, all drawn in one layout (`shell`).

pub mod account;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod compliance;
pub mod home;
pub mod incidents;
pub mod intel;
pub mod monitoring;
pub mod notices;
pub mod oncall;
pub mod org;
pub mod people;
pub mod policies;
pub mod review_findings;
pub mod risks;
pub mod shell;
pub mod users;
