//! Integration tests of the HTTP layer: the real server on a free port with a fresh
//! database, each test run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

mod assets;
mod audit;
mod auth;
mod compliance;
mod forms;
mod fuzz;
mod incidents;
mod intel;
mod matrix;
mod monitoring;
mod notices;
mod oncall;
mod ops;
mod people;
mod policies;
mod raw;
mod security;

/// The value of the first hidden `_csrf` field in a page.
pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("page has a CSRF field") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

pub use isms_testkit::code_of;
