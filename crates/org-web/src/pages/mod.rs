//! The pages.

pub mod account;
pub mod auth;
pub mod notices;
pub mod org;
pub mod people;
pub mod users;
