//! Signing in and out: attempts counted and locked per name, sessions and their principal,
//! a user's own sessions and preferences.

use super::*;

/// Where a sign-in goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    Done,
    /// The account has a second factor: ask for the code.
    Totp,
    /// A privileged role needs a second factor the account does not have yet.
    EnrolTotp,
}

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The session cookie's value; the database keeps only its hash.
    pub token: String,
    pub next: NextStep,
}

#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub(super) fn failure_delay(app: &App, failures: i32) -> Duration {
    let steps = failures.clamp(1, 16) as u32 - 1;
    Duration::from_millis((250u64 << steps).min(app.config().max_failure_delay_ms))
}

pub(super) fn bad_credentials() -> AppError {
    AppError::field("password", "wrong user name or password")
}

/// The key codes of the second factor are counted under: names hold no control
/// characters, so no name's own key can be this one.
pub(super) fn code_key(username: &str) -> String {
    format!("{username}\u{7f}code")
}

pub(super) fn lock_window_ms(app: &App) -> i64 {
    app.config().lock_minutes * 60_000
}

/// Claims one attempt for the name before any secret is checked (see
/// `store::claim_attempt`): a locked name answers `Locked` and nothing is checked.
pub(super) async fn claim_attempt(app: &App, username: &str) -> Result<i32> {
    let now = now_ms();
    match store::claim_attempt(app.store.conn(), username, now, app.config().lock_after_failures, lock_window_ms(app)).await? {
        store::Attempt::Claimed(n) => Ok(n),
        store::Attempt::Locked(until) => Err(AppError::Locked { retry_after_secs: ((until - now) / 1000).max(1) as u64 }),
    }
}

/// After a failed check: the same pause for every name, and the lock once the claimed
/// attempt was the last one allowed.
pub(super) async fn failed_attempt(app: &App, n: i32) -> AppError {
    tokio::time::sleep(failure_delay(app, n)).await;
    if n >= app.config().lock_after_failures { AppError::Locked { retry_after_secs: (app.config().lock_minutes * 60) as u64 } } else { bad_credentials() }
}

/// First step of sign-in. Known and unknown names take the same path: one attempt is
/// claimed per name, one password hash is checked, the same pause and the same lock follow.
pub async fn login(app: &App, username: &str, password: &str, meta: &ClientMeta) -> Result<LoginOutcome> {
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.chars().count() > 254 {
        verify_password(app, password, None);
        return Err(failed_attempt(app, 1).await);
    }
    let db = app.store.conn();
    let n = claim_attempt(app, &username).await?;
    let u = store::user_by_username(db, &username).await?;
    let ok = verify_password(app, password, u.as_ref().and_then(|u| u.password_hash.as_deref()));
    let anonymous = Principal { actor: "anonymous".into(), ..Principal::system() };
    let ok = ok && u.as_ref().is_some_and(|u| !u.disabled);
    let locked = n >= app.config().lock_after_failures;
    let Some(u) = u.clone().filter(|_| ok) else {
        let txn = app.store.write().await?;
        match &u {
            Some(u) => {
                let who = Principal { actor: format!("user:{}", u.id), ..anonymous };
                let company = person_company(&txn, u).await?;
                let reason = if u.disabled { "disabled" } else { "wrong password" };
                record(
                    app,
                    &txn,
                    &who,
                    "auth.login_failed",
                    "user",
                    Some(&u.id),
                    company.as_deref(),
                    json!({"reason": reason, "failures": n, "locked": locked, "ip": meta.ip}),
                )
                .await?;
            }
            None => {
                record(
                    app,
                    &txn,
                    &anonymous,
                    "auth.login_failed",
                    "user",
                    None,
                    None,
                    json!({"username": username, "reason": "unknown user", "failures": n, "locked": locked, "ip": meta.ip}),
                )
                .await?;
            }
        }
        txn.commit().await?;
        return Err(failed_attempt(app, n).await);
    };
    let who = Principal { actor: format!("user:{}", u.id), ..anonymous };
    let company = person_company(db, &u).await?;
    let access = access_of(db, &u.id).await?;
    let next = if u.totp_enabled {
        NextStep::Totp
    } else if access.needs_second_factor() {
        NextStep::EnrolTotp
    } else {
        NextStep::Done
    };
    let now = now_ms();
    let token = random_token(32);
    let txn = app.store.write().await?;
    store::clear_attempts(&txn, &username).await?;
    let mut am = u.clone().into_active_model();
    am.last_login_ms = Set(Some(now));
    am.update(&txn).await?;
    session::Model {
        id: token_hash(&token),
        user_id: u.id.clone(),
        csrf_token: random_token(24),
        second_factor_ok: next == NextStep::Done,
        created_ms: now,
        last_seen_ms: now,
        expires_ms: now + app.config().session_max_hours * 3_600_000,
        user_agent: meta.user_agent.as_deref().map(|s| s.chars().take(300).collect()),
        ip: meta.ip.clone(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    record(app, &txn, &who, "auth.login", "user", Some(&u.id), company.as_deref(), json!({"next": next, "ip": meta.ip})).await?;
    txn.commit().await?;
    Ok(LoginOutcome { token, next })
}

pub(super) async fn person_company(db: &impl ConnectionTrait, u: &user::Model) -> Result<Option<String>> {
    Ok(match &u.person_id {
        Some(p) => person::Entity::find_by_id(p.clone()).one(db).await?.map(|p| p.company_id),
        None => None,
    })
}

/// A session as the web layer needs it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub csrf_token: String,
    /// False until the second factor is given (or, for privileged roles, enrolled).
    pub complete: bool,
    pub needs_enrolment: bool,
}

/// Resolves a session cookie. Expired, unknown or disabled: `Unauthenticated`.
pub async fn session_principal(app: &App, token: &str) -> Result<(Principal, SessionInfo)> {
    let db = app.store.conn();
    let id = token_hash(token);
    let now = now_ms();
    // Read the generation before the database: a write committing meanwhile makes this
    // entry stale at once.
    let generation = app.store.generation();
    if let Some((p, Some(info))) = cached_principal(app, &id, generation, now) {
        return Ok((p, info));
    }
    let s = session::Entity::find_by_id(id.clone()).one(db).await?.ok_or(AppError::Unauthenticated)?;
    let idle_limit = app.config().session_idle_minutes * 60_000;
    if s.expires_ms <= now || now - s.last_seen_ms > idle_limit {
        session::Entity::delete_by_id(id).exec(db).await?;
        return Err(AppError::Unauthenticated);
    }
    let u = user::Entity::find_by_id(s.user_id.clone()).one(db).await?.ok_or(AppError::Unauthenticated)?;
    if u.disabled {
        return Err(AppError::Unauthenticated);
    }
    let access = access_of(db, &u.id).await?;
    // Touch at most once a minute: a write per request would be the hot path's cost.
    if now - s.last_seen_ms > 60_000 {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenMs, isms_store::sea_orm::sea_query::Expr::val(now))
            .filter(session::Column::Id.eq(s.id.clone()))
            .exec(db)
            .await?;
    }
    let needs_enrolment = !u.totp_enabled && access.needs_second_factor();
    let info = SessionInfo { id: s.id.clone(), csrf_token: s.csrf_token, complete: s.second_factor_ok && !needs_enrolment, needs_enrolment };
    let p = Principal {
        actor: format!("user:{}", u.id),
        user_id: Some(u.id),
        name: u.display_name,
        access,
        locale: u.locale,
        time_zone: u.time_zone,
        session_id: Some(s.id),
    };
    let expires = s.expires_ms.min(s.last_seen_ms.max(now) + idle_limit);
    app.shared::<Shared>().principals.put(id, generation, (p.clone(), Some(info.clone()), expires));
    Ok((p, info))
}

pub async fn logout(app: &App, who: &Principal) -> Result<()> {
    let Some(sid) = &who.session_id else { return Ok(()) };
    let txn = app.store.write().await?;
    session::Entity::delete_by_id(sid.clone()).exec(&txn).await?;
    record(app, &txn, who, "auth.logout", "session", None, None, json!({})).await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// A short handle; the full id is a hash of the cookie, useless as a cookie.
    pub id: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

pub async fn my_sessions(app: &App, who: &Principal) -> Result<Vec<SessionView>> {
    let uid = who.user_id.as_deref().ok_or(AppError::Forbidden)?;
    Ok(store::sessions_of(app.store.conn(), uid)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: who.session_id.as_deref() == Some(&s.id),
            id: s.id,
            created_ms: s.created_ms,
            last_seen_ms: s.last_seen_ms,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

pub async fn revoke_my_session(app: &App, who: &Principal, id: &str) -> Result<()> {
    let uid = who.user_id.as_deref().ok_or(AppError::Forbidden)?;
    let txn = app.store.write().await?;
    let s = session::Entity::find_by_id(id.to_owned()).one(&txn).await?.filter(|s| s.user_id == uid).ok_or(AppError::NotFound)?;
    session::Entity::delete_by_id(s.id.clone()).exec(&txn).await?;
    record(app, &txn, who, "auth.session_revoke", "session", None, None, json!({"user_agent": s.user_agent})).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn set_preferences(app: &App, who: &Principal, locale: Option<&str>, time_zone: Option<&str>) -> Result<()> {
    let uid = who.user_id.as_deref().ok_or(AppError::Forbidden)?;
    if let Some(l) = locale.filter(|l| !l.is_empty())
        && !["en", "ja"].contains(&l)
    {
        return Err(AppError::field("locale", "must be en or ja"));
    }
    if let Some(tz) = time_zone.filter(|t| !t.is_empty())
        && jiff::tz::TimeZone::get(tz).is_err()
    {
        return Err(AppError::field("time_zone", format!("`{tz}` is not a known time zone")));
    }
    let txn = app.store.write().await?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut am = u.into_active_model();
    am.locale = Set(locale.filter(|l| !l.is_empty()).map(str::to_owned));
    am.time_zone = Set(time_zone.filter(|l| !l.is_empty()).map(str::to_owned));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(app, &txn, who, "accounts.preferences", "user", Some(uid), None, json!({"locale": locale, "time_zone": time_zone})).await?;
    txn.commit().await?;
    Ok(())
}
