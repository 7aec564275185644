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

pub mod sign_in_throttle {
    use sea_orm::entity::prelude::*;

    /// Failed sign-ins per user name (known or not) within the lock's window.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sign_in_throttle")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        pub failures: i32,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What claiming a sign-in attempt gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// This attempt may check a password or code; it is the `n`th within the window.
    Claimed(i32),
    /// The name is locked until this instant; nothing may be checked.
    Locked(i64),
}

/// Claims one attempt for `username` before anything secret is checked: one atomic
/// increment that succeeds only below `limit`, so however many requests arrive at once,
/// at most `limit` passwords are checked per window. A count whose last attempt is older
/// than `window_ms` starts again (a lock ends the same way).
pub async fn claim_attempt(db: &impl ConnectionTrait, username: &str, now: i64, limit: i32, window_ms: i64) -> Result<Attempt, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
    use sign_in_throttle::{Column as C, Entity as T};
    let name = username.to_owned();
    T::insert(sign_in_throttle::ActiveModel { username: sea_orm::Set(name.clone()), failures: sea_orm::Set(0), updated_ms: sea_orm::Set(now) })
        .on_conflict(OnConflict::column(C::Username).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    T::update_many().col_expr(C::Failures, Expr::val(0)).filter(C::Username.eq(name.clone())).filter(C::UpdatedMs.lte(now - window_ms)).exec(db).await?;
    let claim = Query::update()
        .table(T)
        .value(C::Failures, Expr::col(C::Failures).add(1))
        .value(C::UpdatedMs, now)
        .and_where(Expr::col(C::Username).eq(name.clone()))
        .and_where(Expr::col(C::Failures).lt(limit))
        .returning(Query::returning().column(C::Failures))
        .to_owned();
    let backend = db.get_database_backend();
    if let Some(row) = db.query_one_raw(backend.build(&claim)).await? {
        return Ok(Attempt::Claimed(row.try_get::<i32>("", "failures")?));
    }
    let row = T::find_by_id(name).one(db).await?;
    Ok(Attempt::Locked(row.map_or(now, |r| r.updated_ms) + window_ms))
}

/// Forgets the failures of `username` (a successful sign-in, an administrator's reset).
pub async fn clear_attempts(db: &impl ConnectionTrait, username: &str) -> Result<(), DbErr> {
    sign_in_throttle::Entity::delete_by_id(username.to_owned()).exec(db).await?;
    Ok(())
}

/// The user names among `names` that are locked now.
pub async fn locked_names(
    db: &impl ConnectionTrait,
    names: Vec<String>,
    now: i64,
    limit: i32,
    window_ms: i64,
) -> Result<std::collections::HashSet<String>, DbErr> {
    use sign_in_throttle::{Column as C, Entity as T};
    let mut out = std::collections::HashSet::new();
    for chunk in names.chunks(500) {
        let rows =
            T::find().filter(C::Username.is_in(chunk.iter().cloned())).filter(C::Failures.gte(limit)).filter(C::UpdatedMs.gt(now - window_ms)).all(db).await?;
        out.extend(rows.into_iter().map(|r| r.username));
    }
    Ok(out)
}

/// Drops counts whose window has long passed and sessions past their end.
pub async fn prune(db: &impl ConnectionTrait, now: i64, window_ms: i64) -> Result<u64, DbErr> {
    let a = sign_in_throttle::Entity::delete_many().filter(sign_in_throttle::Column::UpdatedMs.lt(now - window_ms.max(86_400_000))).exec(db).await?;
    let b = session::Entity::delete_many().filter(session::Column::ExpiresMs.lt(now)).exec(db).await?;
    Ok(a.rows_affected + b.rows_affected)
}

/// Enabled accounts holding one of `roles` (unexpired) group-wide or, when `company` is
/// given, for that company.
pub async fn holders_of(db: &impl ConnectionTrait, roles: &[&str], company: Option<&str>, now: i64) -> Result<Vec<String>, DbErr> {
    use sea_orm::Condition;
    let mut scope = Condition::any().add(role_grant::Column::CompanyId.is_null());
    if let Some(c) = company {
        scope = scope.add(role_grant::Column::CompanyId.eq(c));
    }
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::Role.is_in(roles.iter().copied()))
        .filter(scope)
        .filter(Condition::any().add(role_grant::Column::ExpiresMs.is_null()).add(role_grant::Column::ExpiresMs.gt(now)))
        .all(db)
        .await?;
    let mut ids: Vec<String> = grants.into_iter().map(|g| g.user_id).collect();
    ids.sort();
    ids.dedup();
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids)).filter(user::Column::Disabled.eq(false)).all(db).await?.into_iter().map(|u| u.id).collect())
}

pub async fn user_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find().filter(user::Column::Username.eq(username.to_lowercase())).one(db).await
}

pub async fn grants_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<role_grant::Model>, DbErr> {
    role_grant::Entity::find().filter(role_grant::Column::UserId.eq(user_id)).order_by_asc(role_grant::Column::Role).all(db).await
}

pub async fn sessions_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find().filter(session::Column::UserId.eq(user_id)).order_by_desc(session::Column::LastSeenMs).all(db).await
}

pub async fn count_users(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    user::Entity::find().count(db).await
}
