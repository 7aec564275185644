//! Accounts: sign-in with Argon2id passwords and a TOTP second factor, server-side
//! sessions, growing delays and a temporary lock after failed attempts, administration of
//! users and their role grants, and API tokens for integrations.

mod passwords;
mod second_factor;
mod sign_in;
mod tokens;
mod users;

pub use passwords::*;
pub use second_factor::*;
pub use sign_in::*;
pub use tokens::*;
pub use users::*;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use isms_core::org::Name;
use isms_core::{Access, CompanyId, FieldError, Grant, Permission, Role, Scope, UserId};
use isms_kernel::{App, AppError, Principal, Result, random_token, record, token_hash};
use isms_store::accounts::{self as store, api_token, role_grant, session, user};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// What this instance keeps for sign-in: the principal behind a session or token hash
/// (for 5 seconds at most, and never past the session's end), and a password hash made
/// with this instance's parameters, checked when a name has none, so an unknown name
/// costs what a known one does.
struct Shared {
    principals: isms_kernel::cache::Keyed<(Principal, Option<SessionInfo>, i64)>,
    dummy_hash: std::sync::OnceLock<String>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared { principals: isms_kernel::cache::Keyed::new(std::time::Duration::from_secs(5)), dummy_hash: Default::default() }
    }
}

fn cached_principal(app: &App, key: &str, generation: u64, now_ms: i64) -> Option<(Principal, Option<SessionInfo>)> {
    let (p, s, expires_ms) = app.shared::<Shared>().principals.get(key, generation)?;
    (now_ms < expires_ms).then_some((p, s))
}

async fn access_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Access> {
    let now = now_ms();
    let grants = store::grants_of(db, user_id)
        .await?
        .into_iter()
        .filter(|g| g.expires_ms.is_none_or(|e| e > now))
        .filter_map(|g| {
            let role = g.role.parse::<Role>().ok()?;
            let company = match g.company_id {
                Some(c) => Some(c.parse::<CompanyId>().ok()?),
                None => None,
            };
            Some(Grant { role, company })
        })
        .collect();
    Ok(Access::new(grants))
}

/// Forgets sessions past their end and sign-in counts whose window has long passed.
pub async fn prune(app: &App) -> Result<u64> {
    Ok(store::prune(app.store.conn(), now_ms(), lock_window_ms(app)).await?)
}

/// The person behind each of these user ids (users without a person are left out).
pub async fn person_ids_of(app: &App, user_ids: Vec<String>) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in user_ids.chunks(500) {
        for u in user::Entity::find().filter(user::Column::Id.is_in(chunk.iter().cloned())).all(app.store.conn()).await? {
            if let Some(p) = u.person_id {
                out.insert(u.id, p);
            }
        }
    }
    Ok(out)
}

/// Display names of these accounts, for showing who approved or wrote a record the
/// reader already sees.
pub async fn display_names(app: &App, ids: &[String]) -> Result<std::collections::HashMap<String, String>> {
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for u in user::Entity::find().filter(user::Column::Id.is_in(ids.iter().cloned())).all(app.store.conn()).await? {
        out.insert(u.id, if u.display_name.is_empty() { u.username } else { u.display_name });
    }
    Ok(out)
}

/// The principal of a named account, for the operator's tools on the server itself (the
/// demo loader runs a document's approval as the accounts that would approve it, so the
/// audit trail shows who did what). Never reachable from HTTP.
pub async fn acting_as(app: &App, username: &str) -> Result<Principal> {
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = app.store.conn();
    let u = user::Entity::find().filter(user::Column::Username.eq(username)).one(db).await?.ok_or(AppError::NotFound)?;
    let access = access_of(db, &u.id).await?;
    Ok(Principal {
        actor: format!("user:{}", u.id),
        user_id: Some(u.id),
        name: u.display_name,
        access,
        locale: u.locale,
        time_zone: u.time_zone,
        session_id: None,
    })
}
