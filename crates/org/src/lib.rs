//! The organisation and who may act in it: the group's companies and departments, the
//! people register (joiners, movers, leavers, imported from HR), user accounts with their
//! sign-in, second factor, role grants and API tokens, and the first administrator's setup.
//! Every other domain stands on this one.

pub mod accounts;
pub mod demo;
pub mod org;
pub mod people;
pub mod setup;

use isms_kernel::jobs::{HOUR, Job};

/// The accounts' background work: ended sessions and old sign-in counts forgotten.
pub fn jobs() -> Vec<Job> {
    vec![Job::new("accounts.prune", HOUR, "ended sessions and old sign-in counts forgotten", |app| Box::pin(async move { accounts::prune(&app).await }))]
}
