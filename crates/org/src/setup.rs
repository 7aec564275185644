//! First start: while no account exists, a one-time setup link creates the first
//! administrator. The link's token is kept only as a hash and expires.

use crate::accounts::{self, GrantView, NewUser, UserView};
use isms_core::Role;
use isms_kernel::{App, AppError, Principal, Result, random_token, token_hash};
use isms_store::{accounts as store, now_ms, settings};

const KEY: &str = "setup_token";
const LIFETIME_MS: i64 = 24 * 3_600_000;

/// When no account exists, issues a fresh setup token (replacing an older one) and
/// returns it; otherwise `None`.
pub async fn ensure_setup_token(app: &App) -> Result<Option<String>> {
    if store::count_users(app.store.conn()).await? > 0 {
        return Ok(None);
    }
    let token = random_token(24);
    let txn = app.store.write().await?;
    settings::put(&txn, KEY, &format!("{}:{}", token_hash(&token), now_ms() + LIFETIME_MS)).await?;
    txn.commit().await?;
    Ok(Some(token))
}

async fn token_valid(app: &App, db: &impl isms_store::sea_orm::ConnectionTrait, token: &str) -> Result<bool> {
    let _ = app;
    let Some(v) = settings::get(db, KEY).await? else { return Ok(false) };
    let Some((hash, exp)) = v.split_once(':') else { return Ok(false) };
    let exp: i64 = exp.parse().unwrap_or(0);
    Ok(exp > now_ms() && hash == token_hash(token) && store::count_users(db).await? == 0)
}

pub async fn is_valid(app: &App, token: &str) -> Result<bool> {
    token_valid(app, app.store.conn(), token).await
}

/// Creates the first administrator (group-wide). They enrol a second factor at first sign-in.
pub async fn complete(app: &App, token: &str, username: &str, display_name: &str, password: &str) -> Result<UserView> {
    if !is_valid(app, token).await? {
        return Err(AppError::NotFound);
    }
    let system = Principal::system();
    let v = accounts::create_user(
        app,
        &system,
        NewUser {
            username: username.into(),
            display_name: display_name.into(),
            password: password.into(),
            person_id: None,
            grants: vec![GrantView { role: Role::SystemAdministrator, company_id: None, expires_on: None }],
        },
    )
    .await?;
    let txn = app.store.write().await?;
    settings::delete(&txn, KEY).await?;
    txn.commit().await?;
    Ok(v)
}
