//! Tables of accounts: users, their role grants, server-side sessions and API tokens.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbErr, QueryOrder};

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub person_id: Option<String>,
        pub username: String,
        pub display_name: String,
        pub password_hash: Option<String>,
        pub totp_secret: Option<String>,
        pub totp_enabled: bool,
        /// The last 30-second step whose code was accepted: a code works once.
        pub totp_last_step: Option<i64>,
        pub disabled: bool,
        pub locale: Option<String>,
        pub time_zone: Option<String>,
        pub failed_logins: i32,
        pub locked_until_ms: Option<i64>,
        pub last_login_ms: Option<i64>,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod role_grant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "role_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub role: String,
        pub company_id: Option<String>,
        /// After this instant the grant no longer counts (e.g. an external auditor's access).
        pub expires_ms: Option<i64>,
        pub created_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    /// `id` is the SHA-256 of the cookie value: the database never holds a usable cookie.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub csrf_token: String,
        pub second_factor_ok: bool,
        pub created_ms: i64,
        pub last_seen_ms: i64,
        pub expires_ms: i64,
        pub user_agent: Option<String>,
        pub ip: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_token {
    use sea_orm::entity::prelude::*;

    /// `companies` is a JSON array of company ids; empty means group-wide.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub token_hash: String,
        pub issued_by: String,
        pub role: String,
        pub companies: String,
        pub expires_ms: i64,
        pub created_ms: i64,
        pub last_used_ms: Option<i64>,
        pub revoked: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn user_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find().filter(user::Column::Username.eq(username.to_lowercase())).one(db).await
}

pub async fn grants_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<role_grant::Model>, DbErr> {
    role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .order_by_asc(role_grant::Column::Role)
        .all(db)
        .await
}

pub async fn sessions_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .order_by_desc(session::Column::LastSeenMs)
        .all(db)
        .await
}

pub async fn count_users(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    user::Entity::find().count(db).await
}
