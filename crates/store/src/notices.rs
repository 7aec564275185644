//! Notifications: one row per recipient and event, shown in the recipient's inbox and,
//! when the recipient has an e-mail address, delivered from this same row as an outbox.

pub mod notification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: Option<String>,
        pub person_id: Option<String>,
        /// What happened, naming the message (`asset-review-due`, `policy-approval`, ...).
        pub kind: String,
        /// The message's arguments as a JSON object.
        pub args: String,
        pub link: String,
        /// Set when the same reminder must not be sent twice (`asset-review:<id>:<date>`).
        pub dedup_key: Option<String>,
        pub created_ms: i64,
        pub read_ms: Option<i64>,
        /// none, pending, sending, sent or failed
        pub mail_status: String,
        pub mail_to: Option<String>,
        pub mail_attempts: i32,
        /// When the next delivery attempt may start (and, while sending, when the lease ends).
        pub next_attempt_ms: Option<i64>,
        pub mail_error: String,
        /// The task the notification asks for (`policy-approval:<version>`), when it asks.
        pub task_key: Option<String>,
        /// When that task was done; the notification is then read and shown as done.
        pub done_ms: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Events for chat tools and other receivers: one row per configured hook and event,
/// sent from here like the e-mail outbox. The hook's address stays in the configuration.
pub mod webhook {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The hook's name in the configuration.
        pub hook: String,
        pub kind: String,
        pub args: String,
        pub link: String,
        pub dedup_key: Option<String>,
        /// pending, sending, sent or failed
        pub status: String,
        pub attempts: i32,
        pub next_attempt_ms: Option<i64>,
        pub error: String,
        pub created_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
