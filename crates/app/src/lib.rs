//! isms use cases. Each public function takes the acting principal, checks permission and
//! scope against `core`'s table, validates, and writes in one transaction together with its
//! audit entry. The web pages, the JSON API and the CLI all call these same functions.
//! What every domain shares (the `App`, `Principal`, errors, the audit entry, input fields,
//! the outbox, the writers) is the kernel's, re-exported here while domains move out.

pub mod audit;

pub use isms_assets as assets;
pub use isms_compliance as compliance;
pub use isms_compliance::{findings, risks};
pub use isms_incidents as incidents;
pub use isms_kernel::*;
pub use isms_monitoring as monitoring;
pub use isms_org::demo as org_demo;
pub use isms_org::{accounts, org, people, setup};
pub use isms_policies as policies;
