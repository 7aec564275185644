//! Accounts: sign-in with Argon2id passwords and a TOTP second factor, server-side
//! sessions, growing delays and a temporary lock after failed attempts, administration of
//! users and their role grants, and API tokens for integrations.

use crate::{App, AppError, Principal, Result, random_token, record, token_hash};
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use isms_core::org::Name;
use isms_core::{Access, CompanyId, FieldError, Grant, Permission, Role, Scope, UserId};
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

const MIN_PASSWORD: usize = 12;

fn argon(app: &App) -> Argon2<'static> {
    let c = app.config();
    // The configured numbers are checked at start (config check); fall back to defaults.
    let params = Params::new(c.argon2_memory_kib, c.argon2_iterations, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether a password will do: 12 to 256 characters, none of the user's own words or the
/// product's name, and hard to guess by the `zxcvbn` estimator (score 3 of 4: out of reach
/// of an online attack and slow against a stolen hash). The reason is a catalog code, so
/// each language says it in its own words.
pub fn check_password_policy(password: &str, username: &str, own_words: &[&str]) -> std::result::Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(FieldError::coded("password", "password-short", format!("must be at least {MIN_PASSWORD} characters")).arg("min", MIN_PASSWORD.to_string()));
    }
    if n > 256 {
        return Err(FieldError::coded("password", "password-long", "must be at most 256 characters"));
    }
    let lower = password.to_lowercase();
    // The name before an address's @ counts as the user name too.
    let name = username.to_lowercase();
    let local = name.split('@').next().unwrap_or("");
    // Names are words apart: "Hanako Yamada" catches "yamada hanako 1990" too.
    let words: Vec<String> =
        own_words.iter().flat_map(|w| w.split(|c: char| !c.is_alphanumeric())).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect();
    if [name.as_str(), local].into_iter().chain(words.iter().map(String::as_str)).any(|w| w.chars().count() >= 3 && lower.contains(w)) {
        return Err(FieldError::coded("password", "password-username", "must not contain the user name or your own name"));
    }
    let product = ["isms"];
    if product.iter().any(|w| lower.contains(w)) {
        return Err(FieldError::coded("password", "password-product", "must not contain the product's name"));
    }
    let mut inputs: Vec<&str> = vec![&name, local, "isms"];
    inputs.extend(words.iter().map(String::as_str));
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    use zxcvbn::feedback::Warning as W;
    let refusal = match estimate.feedback().and_then(|f| f.warning()) {
        Some(W::ThisIsATop10Password | W::ThisIsATop100Password | W::ThisIsACommonPassword | W::ThisIsSimilarToACommonlyUsedPassword) => {
            FieldError::coded("password", "password-common", "is one of the passwords attackers try first")
        }
        Some(W::StraightRowsOfKeysAreEasyToGuess | W::ShortKeyboardPatternsAreEasyToGuess) => {
            FieldError::coded("password", "password-keyboard", "is a pattern of neighbouring keys")
        }
        Some(W::RepeatsLikeAaaAreEasyToGuess | W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => {
            FieldError::coded("password", "password-repeats", "repeats characters or groups of them")
        }
        Some(W::SequencesLikeAbcAreEasyToGuess) => FieldError::coded("password", "password-sequence", "is a sequence such as abc or 1234"),
        Some(W::RecentYearsAreEasyToGuess | W::DatesAreOftenEasyToGuess) => FieldError::coded("password", "password-dates", "rests on a date or a year"),
        Some(W::AWordByItselfIsEasyToGuess | W::NamesAndSurnamesByThemselvesAreEasyToGuess | W::CommonNamesAndSurnamesAreEasyToGuess) => {
            FieldError::coded("password", "password-words", "rests on a common word or name")
        }
        _ => FieldError::coded("password", "password-weak", "is too easy to guess"),
    };
    Err(refusal)
}

pub fn hash_password(app: &App, password: &str) -> Result<String> {
    argon(app).hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

fn verify_password(app: &App, password: &str, phc: Option<&str>) -> bool {
    // Without a stored hash, still spend the same effort on a hash made with the same
    // parameters, so timing does not reveal which user names exist.
    let shared = app.shared::<Shared>();
    let stored = phc.unwrap_or_else(|| shared.dummy_hash.get_or_init(|| hash_password(app, "no such user, no such password").unwrap_or_default()));
    match PasswordHash::new(stored) {
        Ok(h) => argon(app).verify_password(password.as_bytes(), &h).is_ok() && phc.is_some(),
        Err(_) => false,
    }
}

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

fn failure_delay(app: &App, failures: i32) -> Duration {
    let steps = failures.clamp(1, 16) as u32 - 1;
    Duration::from_millis((250u64 << steps).min(app.config().max_failure_delay_ms))
}

fn bad_credentials() -> AppError {
    AppError::field("password", "wrong user name or password")
}

/// The key codes of the second factor are counted under: names hold no control
/// characters, so no name's own key can be this one.
fn code_key(username: &str) -> String {
    format!("{username}\u{7f}code")
}

fn lock_window_ms(app: &App) -> i64 {
    app.config().lock_minutes * 60_000
}

/// Claims one attempt for the name before any secret is checked (see
/// `store::claim_attempt`): a locked name answers `Locked` and nothing is checked.
async fn claim_attempt(app: &App, username: &str) -> Result<i32> {
    let now = now_ms();
    match store::claim_attempt(app.store.conn(), username, now, app.config().lock_after_failures, lock_window_ms(app)).await? {
        store::Attempt::Claimed(n) => Ok(n),
        store::Attempt::Locked(until) => Err(AppError::Locked { retry_after_secs: ((until - now) / 1000).max(1) as u64 }),
    }
}

/// After a failed check: the same pause for every name, and the lock once the claimed
/// attempt was the last one allowed.
async fn failed_attempt(app: &App, n: i32) -> AppError {
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

async fn person_company(db: &impl ConnectionTrait, u: &user::Model) -> Result<Option<String>> {
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

fn totp_for(app: &App, secret_b32: &str, account: &str) -> Result<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).map_err(|e| AppError::Internal(format!("totp secret: {e:?}")))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account.to_owned())
        .with_issuer(Some(app.config().issuer.clone()))
        .build()
        .map_err(|e| AppError::Internal(format!("totp: {e:?}")))
}

/// The time step of a valid code, if it is valid and newer than the last one used
/// (so an observed code cannot be replayed).
fn check_code(totp: &totp_rs::Totp, code: &str, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 {
        return None;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    // One step of clock drift either way.
    [now.saturating_sub(30), now, now + 30]
        .into_iter()
        .map(|t| (t / 30) as i64)
        .filter(|step| last_step.is_none_or(|l| *step > l))
        .find(|step| totp.generate(*step as u64 * 30).to_string() == code)
}

/// Second step of sign-in: the code from the authenticator app. Guesses are counted
/// like passwords (claimed before the code is checked), and a code's time step is
/// claimed by one conditional update, so of codes sent at once exactly one can win.
pub async fn verify_totp(app: &App, who: &Principal, code: &str) -> Result<()> {
    let uid = who.user_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let sid = who.session_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(app.store.conn()).await?.ok_or(AppError::Unauthenticated)?;
    let sealed = u.totp_secret.as_deref().filter(|_| u.totp_enabled).ok_or(AppError::Forbidden)?;
    let key = code_key(&u.username);
    let n = match claim_attempt(app, &key).await {
        Ok(n) => n,
        Err(e) => {
            session::Entity::delete_many().filter(session::Column::Id.eq(sid.to_owned())).exec(app.store.conn()).await?;
            return Err(e);
        }
    };
    let secret = app.fields().open(sealed)?;
    let step = check_code(&totp_for(app, &secret, &u.username)?, code, u.totp_last_step);
    let txn = app.store.write().await?;
    if let Some(step) = step
        && claim_step(&txn, uid, step).await?
    {
        session::Entity::update_many()
            .col_expr(session::Column::SecondFactorOk, isms_store::sea_orm::sea_query::Expr::val(true))
            .filter(session::Column::Id.eq(sid.to_owned()))
            .exec(&txn)
            .await?;
        store::clear_attempts(&txn, &key).await?;
        record(app, &txn, who, "auth.totp_ok", "user", Some(uid), None, json!({})).await?;
        txn.commit().await?;
        return Ok(());
    }
    let lock = n >= app.config().lock_after_failures;
    if lock {
        session::Entity::delete_many().filter(session::Column::Id.eq(sid.to_owned())).exec(&txn).await?;
    }
    record(app, &txn, who, "auth.totp_failed", "user", Some(uid), None, json!({"failures": n, "locked": lock})).await?;
    txn.commit().await?;
    match failed_attempt(app, n).await {
        AppError::Invalid(_) => Err(AppError::field("code", "the code is not valid")),
        other => Err(other),
    }
}

/// Takes a code's time step for the account if no later or equal step was taken: the
/// one write that decides which of several submissions of a code wins.
async fn claim_step(db: &impl ConnectionTrait, user_id: &str, step: i64) -> Result<bool> {
    use isms_store::sea_orm::{Condition, sea_query::Expr};
    let res = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::val(step))
        .filter(user::Column::Id.eq(user_id.to_owned()))
        .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// What the enrolment page shows: the secret for manual entry and the otpauth URL for a QR code.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub secret: String,
    pub url: String,
}

/// Starts (or restarts) second-factor enrolment with a fresh secret.
pub async fn begin_enrolment(app: &App, who: &Principal) -> Result<Enrolment> {
    let uid = who.user_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let txn = app.store.write().await?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(&txn).await?.ok_or(AppError::Unauthenticated)?;
    if u.totp_enabled {
        return Err(AppError::Conflict("a second factor is already set up".into()));
    }
    let secret = {
        use rand::Rng;
        let mut b = [0u8; 20];
        rand::rng().fill_bytes(&mut b);
        totp_rs::Secret::from(b.to_vec()).to_base32()
    };
    let totp = totp_for(app, &secret, &u.username)?;
    let username = u.username.clone();
    let mut am = u.into_active_model();
    am.totp_secret = Set(Some(app.fields().seal(&secret)?));
    am.update(&txn).await?;
    txn.commit().await?;
    let url = totp.to_url().map_err(|e| AppError::Internal(format!("totp url for {username}: {e:?}")))?;
    Ok(Enrolment { secret, url })
}

/// The secret of an enrolment in progress, to show it again (e.g. after a wrong code).
pub async fn pending_enrolment(app: &App, who: &Principal) -> Result<Option<Enrolment>> {
    let uid = who.user_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(app.store.conn()).await?.ok_or(AppError::Unauthenticated)?;
    match (&u.totp_secret, u.totp_enabled) {
        (Some(sealed), false) => {
            let s = app.fields().open(sealed)?;
            let totp = totp_for(app, &s, &u.username)?;
            let url = totp.to_url().map_err(|e| AppError::Internal(format!("totp url: {e:?}")))?;
            Ok(Some(Enrolment { secret: s, url }))
        }
        _ => Ok(None),
    }
}

pub async fn confirm_enrolment(app: &App, who: &Principal, code: &str) -> Result<()> {
    let uid = who.user_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let txn = app.store.write().await?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(&txn).await?.ok_or(AppError::Unauthenticated)?;
    let sealed = u.totp_secret.clone().filter(|_| !u.totp_enabled).ok_or_else(|| AppError::Conflict("no enrolment in progress".into()))?;
    let secret = app.fields().open(&sealed)?;
    let Some(step) = check_code(&totp_for(app, &secret, &u.username)?, code, None) else {
        return Err(AppError::field("code", "the code is not valid; check the time on your device"));
    };
    // Enabled only if still in progress with this very secret: a second confirmation
    // sent at once, or one racing a new enrolment, changes nothing.
    use isms_store::sea_orm::sea_query::Expr;
    let res = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabled, Expr::val(true))
        .col_expr(user::Column::TotpLastStep, Expr::val(step))
        .col_expr(user::Column::UpdatedMs, Expr::val(now_ms()))
        .filter(user::Column::Id.eq(uid.to_owned()))
        .filter(user::Column::TotpEnabled.eq(false))
        .filter(user::Column::TotpSecret.eq(sealed))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict("no enrolment in progress".into()));
    }
    if let Some(sid) = &who.session_id {
        session::Entity::update_many()
            .col_expr(session::Column::SecondFactorOk, Expr::val(true))
            .filter(session::Column::Id.eq(sid.clone()))
            .exec(&txn)
            .await?;
    }
    record(app, &txn, who, "auth.totp_enrolled", "user", Some(uid), None, json!({})).await?;
    txn.commit().await?;
    Ok(())
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

// ---- administration ----

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GrantView {
    pub role: Role,
    /// `None`: group-wide.
    pub company_id: Option<String>,
    /// Last day the grant counts (YYYY-MM-DD, UTC end of day); `None`: no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<String>,
    pub company_id: Option<String>,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub locked: bool,
    pub last_login_ms: Option<i64>,
    pub grants: Vec<GrantView>,
}

async fn user_view(app: &App, db: &impl ConnectionTrait, u: user::Model) -> Result<UserView> {
    let company_id = person_company(db, &u).await?;
    let locked =
        store::locked_names(db, vec![u.username.clone(), code_key(&u.username)], now_ms(), app.config().lock_after_failures, lock_window_ms(app)).await?;
    let grants = store::grants_of(db, &u.id)
        .await?
        .into_iter()
        .filter_map(|g| {
            let expires_on = g
                .expires_ms
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms - 1).ok())
                .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string());
            Some(GrantView { role: g.role.parse().ok()?, company_id: g.company_id, expires_on })
        })
        .collect();
    Ok(UserView {
        locked: !locked.is_empty(),
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        person_id: u.person_id,
        company_id,
        disabled: u.disabled,
        totp_enabled: u.totp_enabled,
        last_login_ms: u.last_login_ms,
        grants,
    })
}

/// Users whose person belongs to a company in scope; users without a person belong to the group.
pub async fn list_users(app: &App, who: &Principal) -> Result<Vec<UserView>> {
    let scope = who.access.scope(Permission::UsersRead);
    if scope.is_nothing() {
        return Err(AppError::Forbidden);
    }
    let db = app.store.conn();
    let mut out = vec![];
    for u in user::Entity::find().order_by_asc(user::Column::Username).all(db).await? {
        let v = user_view(app, db, u).await?;
        if covers(&scope, v.company_id.as_deref()) {
            out.push(v);
        }
    }
    Ok(out)
}

fn covers(scope: &Scope, company: Option<&str>) -> bool {
    scope.covers(company.and_then(|c| c.parse().ok()))
}

pub async fn get_user(app: &App, who: &Principal, id: &str) -> Result<UserView> {
    let db = app.store.conn();
    let u = user::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let v = user_view(app, db, u).await?;
    if !covers(&who.access.scope(Permission::UsersRead), v.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub grants: Vec<GrantView>,
}

/// May `who` hand out these grants? Group-wide grants need group-wide user management;
/// company grants need it for that company.
fn check_grants(who: &Principal, grants: &[GrantView]) -> Result<Vec<(Grant, Option<i64>)>> {
    let scope = who.access.scope(Permission::UsersManage);
    let mut out = vec![];
    for g in grants {
        let expires = match g.expires_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => {
                let date = isms_core::org::parse_date("expires_on", d)?.ok_or_else(|| AppError::coded("expires_on", "date", "is not a date"))?;
                // The grant lasts through the whole named day (UTC).
                let end = date.tomorrow().ok().and_then(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()).map(|z| z.timestamp().as_millisecond());
                Some(end.ok_or_else(|| AppError::coded("expires_on", "date", "is not a date"))?)
            }
        };
        let company = match &g.company_id {
            Some(c) => Some(c.parse::<CompanyId>().map_err(|_| AppError::field("grants", format!("`{c}` is not a company id")))?),
            None => None,
        };
        if !scope.covers(company) {
            return Err(AppError::Forbidden);
        }
        out.push((Grant { role: g.role, company }, expires));
    }
    Ok(out)
}

async fn write_grants(db: &impl ConnectionTrait, user_id: &str, grants: &[(Grant, Option<i64>)]) -> Result<()> {
    role_grant::Entity::delete_many().filter(role_grant::Column::UserId.eq(user_id.to_owned())).exec(db).await?;
    let now = now_ms();
    for (g, expires_ms) in grants {
        role_grant::Model {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            role: g.role.code().into(),
            company_id: g.company.map(|c| c.to_string()),
            expires_ms: *expires_ms,
            created_ms: now,
        }
        .into_active_model()
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn create_user(app: &App, who: &Principal, input: NewUser) -> Result<UserView> {
    who.require(Permission::UsersManage)?;
    let mut errors = vec![];
    let username = input.username.trim().to_lowercase();
    if username.is_empty() || username.len() > 254 || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(FieldError::coded("username", "username", "is required and may not contain spaces"));
    }
    let display = Name::parse("display_name", &input.display_name).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_password_policy(&input.password, &username, &[&input.display_name]) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let grants = check_grants(who, &input.grants)?;
    let person_id = input.person_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let hash = hash_password(app, &input.password)?;
    let txn = app.store.write().await?;
    let person_id = crate::people::resolve_person_ref(&txn, "person_id", person_id).await?;
    let company = match &person_id {
        Some(p) => {
            let p = person::Entity::find_by_id(p.clone()).one(&txn).await?.ok_or_else(|| AppError::coded("person_id", "no-person", "no such person"))?;
            who.require_for(Permission::UsersManage, Some(&p.company_id))?;
            Some(p.company_id)
        }
        None => {
            who.require_for(Permission::UsersManage, None)?;
            None
        }
    };
    let now = now_ms();
    let saved = user::Model {
        id: UserId::new().to_string(),
        person_id,
        username: username.clone(),
        display_name: display.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        password_hash: Some(hash),
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        disabled: false,
        locale: None,
        time_zone: None,
        last_login_ms: None,
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::coded("username", "username-taken", "this user name is taken, or the person already has an account"),
        other => other,
    })?;
    write_grants(&txn, &saved.id, &grants).await?;
    record(app, &txn, who, "accounts.user.create", "user", Some(&saved.id), company.as_deref(), json!({"username": username, "grants": input.grants})).await?;
    let v = user_view(app, &txn, saved).await?;
    txn.commit().await?;
    Ok(v)
}

/// The account `id` if `who` may manage it: their user management must reach the
/// company of the account's person and of every grant it holds (a group-wide grant needs
/// group-wide management). An account the caller cannot even read answers "not found".
async fn managed_user(who: &Principal, db: &impl ConnectionTrait, id: &str) -> Result<(user::Model, Option<String>)> {
    let u = user::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let company = person_company(db, &u).await?;
    if !covers(&who.access.scope(Permission::UsersRead), company.as_deref()) && !covers(&who.access.scope(Permission::UsersManage), company.as_deref()) {
        return Err(AppError::NotFound);
    }
    who.require_for(Permission::UsersManage, company.as_deref())?;
    if !who.access.manages(Permission::UsersManage, &held_grants(db, &u.id).await?) {
        return Err(AppError::Forbidden);
    }
    Ok((u, company))
}

/// Every grant an account holds, expired ones included: managing an account needs scope
/// over all it ever may hold again.
async fn held_grants(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Grant>> {
    let mut out = vec![];
    for g in store::grants_of(db, user_id).await? {
        let role = g.role.parse::<Role>().map_err(|_| AppError::Internal(format!("unknown role {} in grants", g.role)))?;
        let company = match g.company_id {
            Some(c) => Some(c.parse::<CompanyId>().map_err(|_| AppError::Internal("bad company id in grants".into()))?),
            None => None,
        };
        out.push(Grant { role, company });
    }
    Ok(out)
}

pub async fn set_grants(app: &App, who: &Principal, id: &str, grants: Vec<GrantView>) -> Result<UserView> {
    let checked = check_grants(who, &grants)?;
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let held = held_grants(&txn, &u.id).await?;
    // Nobody raises their own grants: another administrator does. Giving some up is fine.
    if who.user_id.as_deref() == Some(u.id.as_str()) && checked.iter().any(|(g, _)| !held.contains(g)) {
        return Err(AppError::Forbidden);
    }
    let before = store::grants_of(&txn, &u.id).await?.into_iter().map(|g| json!({"role": g.role, "company_id": g.company_id})).collect::<Vec<_>>();
    write_grants(&txn, &u.id, &checked).await?;
    // A privileged role newly given is marked in the trail and told to the CISO and the grantee.
    let raised: Vec<&Grant> = checked.iter().map(|(g, _)| g).filter(|g| g.role.is_privileged() && !held.contains(g)).collect();
    let privileged: Vec<serde_json::Value> = raised.iter().map(|g| json!({"role": g.role.code(), "company_id": g.company.map(|c| c.to_string())})).collect();
    record(
        app,
        &txn,
        who,
        "accounts.user.grants",
        "user",
        Some(&u.id),
        company.as_deref(),
        json!({"before": before, "after": grants, "privileged_granted": privileged}),
    )
    .await?;
    if !raised.is_empty() {
        tell_privileged_grant(app, &txn, who, &u, &raised).await?;
    }
    let v = user_view(app, &txn, u).await?;
    txn.commit().await?;
    Ok(v)
}

/// Tells the grantee and every CISO whose scope covers the granted companies.
async fn tell_privileged_grant(app: &App, db: &impl ConnectionTrait, who: &Principal, grantee: &user::Model, raised: &[&Grant]) -> Result<()> {
    let roles: Vec<&str> = raised.iter().map(|g| g.role.code()).collect();
    let n = crate::notify::Notice::new(
        "privileged-grant",
        json!({"user": grantee.username, "roles": roles.join(", "), "by": who.name}),
        format!("/admin/users/{}", grantee.id),
    );
    crate::notify::to_user(app, db, &grantee.id, &n).await?;
    let companies: Vec<Option<String>> = raised.iter().map(|g| g.company.map(|c| c.to_string())).collect();
    let mut cisos = vec![];
    for c in &companies {
        cisos.extend(store::holders_of(db, &[Role::Ciso.code()], c.as_deref(), now_ms()).await?);
    }
    cisos.sort();
    cisos.dedup();
    for uid in cisos.iter().filter(|u| **u != grantee.id) {
        crate::notify::to_user(app, db, uid, &n).await?;
    }
    Ok(())
}

/// Sets a new password, ends the user's sessions and lifts a lock.
pub async fn reset_password(app: &App, who: &Principal, id: &str, password: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    check_password_policy(password, &u.username, &[&u.display_name])?;
    let hash = hash_password(app, password)?;
    let uid = u.id.clone();
    let username = u.username.clone();
    let mut am = u.into_active_model();
    am.password_hash = Set(Some(hash));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    store::clear_attempts(&txn, &username).await?;
    store::clear_attempts(&txn, &code_key(&username)).await?;
    session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    record(app, &txn, who, "accounts.user.reset_password", "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the second factor so the user enrols again at next sign-in (lost phone).
pub async fn reset_totp(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let uid = u.id.clone();
    let mut am = u.into_active_model();
    am.totp_enabled = Set(false);
    am.totp_secret = Set(None);
    am.totp_last_step = Set(None);
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    record(app, &txn, who, "accounts.user.reset_totp", "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn set_disabled(app: &App, who: &Principal, id: &str, disabled: bool) -> Result<()> {
    if who.user_id.as_deref() == Some(id) && disabled {
        return Err(AppError::Conflict("you cannot disable your own account".into()));
    }
    let txn = app.store.write().await?;
    let (u, company) = managed_user(who, &txn, id).await?;
    let uid = u.id.clone();
    let mut am = u.into_active_model();
    am.disabled = Set(disabled);
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    if disabled {
        session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(&txn).await?;
    }
    let action = if disabled { "accounts.user.disable" } else { "accounts.user.enable" };
    record(app, &txn, who, action, "user", Some(&uid), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

// ---- API tokens ----

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// Empty: group-wide.
    #[serde(default)]
    pub companies: Vec<String>,
    pub expires_in_days: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub companies: Vec<String>,
    pub issued_by: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked: bool,
}

impl From<api_token::Model> for TokenView {
    fn from(m: api_token::Model) -> Self {
        Self {
            companies: serde_json::from_str(&m.companies).unwrap_or_default(),
            id: m.id,
            name: m.name,
            role: m.role,
            issued_by: m.issued_by,
            created_ms: m.created_ms,
            expires_ms: m.expires_ms,
            last_used_ms: m.last_used_ms,
            revoked: m.revoked,
        }
    }
}

/// Issues a token. The plain token is returned once; only its hash is stored.
pub async fn create_token(app: &App, who: &Principal, input: NewToken) -> Result<(TokenView, String)> {
    who.require(Permission::UsersManage)?;
    let grants: Vec<GrantView> = if input.companies.is_empty() {
        vec![GrantView { role: input.role, company_id: None, expires_on: None }]
    } else {
        input.companies.iter().map(|c| GrantView { role: input.role, company_id: Some(c.clone()), expires_on: None }).collect()
    };
    check_grants(who, &grants)?;
    issue_token(app, who, who, input).await
}

/// Issues a token for the account `username` at the operator's command on the server
/// itself (`isms admin token`), never reachable from HTTP. The token stays within what
/// the account holds; the trail names the system as the one who issued it.
pub async fn issue_token_for(app: &App, username: &str, input: NewToken) -> Result<(TokenView, String)> {
    let holder = acting_as(app, username).await?;
    issue_token(app, &holder, &Principal::system(), input).await
}

async fn issue_token(app: &App, holder: &Principal, recorder: &Principal, input: NewToken) -> Result<(TokenView, String)> {
    let uid = holder.user_id.clone().ok_or(AppError::Forbidden)?;
    let name = Name::parse("name", &input.name)?;
    if !(1..=366).contains(&input.expires_in_days) {
        return Err(AppError::coded("expires_in_days", "days-range", "must be between 1 and 366"));
    }
    let companies: Vec<Option<CompanyId>> = if input.companies.is_empty() {
        vec![None]
    } else {
        input
            .companies
            .iter()
            .map(|c| c.parse::<CompanyId>().map(Some).map_err(|_| AppError::field("companies", format!("`{c}` is not a company id"))))
            .collect::<Result<_>>()?
    };
    // A token holds nothing its issuer does not: a CISO-role token from an administrator
    // would read what the administrator may not.
    if companies.into_iter().any(|company| !holder.access.permits(&Grant { role: input.role, company })) {
        return Err(AppError::coded("role", "token-beyond-issuer", "a token may not do more than you may"));
    }
    let token = format!("isms_{}", random_token(32));
    let now = now_ms();
    let txn = app.store.write().await?;
    let saved = api_token::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.as_str().into(),
        token_hash: token_hash(&token),
        issued_by: uid.clone(),
        role: input.role.code().into(),
        companies: serde_json::to_string(&input.companies).unwrap_or_else(|_| "[]".into()),
        expires_ms: now + input.expires_in_days * 86_400_000,
        created_ms: now,
        last_used_ms: None,
        revoked: false,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    record(
        app,
        &txn,
        recorder,
        "accounts.token.create",
        "api_token",
        Some(&saved.id),
        None,
        json!({"name": saved.name, "role": saved.role, "companies": input.companies, "expires_ms": saved.expires_ms, "for": format!("user:{uid}")}),
    )
    .await?;
    txn.commit().await?;
    Ok((saved.into(), token))
}

pub async fn list_tokens(app: &App, who: &Principal) -> Result<Vec<TokenView>> {
    who.require(Permission::UsersManage)?;
    let scope = who.access.scope(Permission::UsersManage);
    let all = api_token::Entity::find().order_by_desc(api_token::Column::CreatedMs).all(app.store.conn()).await?;
    Ok(all
        .into_iter()
        .map(TokenView::from)
        .filter(|t| match &scope {
            Scope::Group => true,
            // A company administrator sees tokens limited to their companies.
            _ => !t.companies.is_empty() && t.companies.iter().all(|c| covers(&scope, Some(c))),
        })
        .collect())
}

pub async fn revoke_token(app: &App, who: &Principal, id: &str) -> Result<()> {
    let visible = list_tokens(app, who).await?;
    if !visible.iter().any(|t| t.id == id) {
        return Err(AppError::NotFound);
    }
    let txn = app.store.write().await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::Revoked, isms_store::sea_orm::sea_query::Expr::val(true))
        .filter(api_token::Column::Id.eq(id.to_owned()))
        .exec(&txn)
        .await?;
    record(app, &txn, who, "accounts.token.revoke", "api_token", Some(id), None, json!({})).await?;
    txn.commit().await?;
    Ok(())
}

/// Resolves `Authorization: Bearer isms_...`.
pub async fn token_principal(app: &App, token: &str) -> Result<Principal> {
    let db = app.store.conn();
    let key = format!("token:{}", token_hash(token));
    let generation = app.store.generation();
    if let Some((p, None)) = cached_principal(app, &key, generation, now_ms()) {
        return Ok(p);
    }
    let t = api_token::Entity::find().filter(api_token::Column::TokenHash.eq(token_hash(token))).one(db).await?.ok_or(AppError::Unauthenticated)?;
    let now = now_ms();
    if t.revoked || t.expires_ms <= now {
        return Err(AppError::Unauthenticated);
    }
    let issuer = user::Entity::find_by_id(t.issued_by.clone()).one(db).await?.ok_or(AppError::Unauthenticated)?;
    if issuer.disabled {
        return Err(AppError::Unauthenticated);
    }
    let role: Role = t.role.parse().map_err(|_| AppError::Unauthenticated)?;
    let companies: Vec<String> = serde_json::from_str(&t.companies).unwrap_or_default();
    let grants: Vec<Grant> = if companies.is_empty() {
        vec![Grant { role, company: None }]
    } else {
        companies.iter().filter_map(|c| c.parse().ok()).map(|c| Grant { role, company: Some(c) }).collect()
    };
    // The token acts for its issuer, never beyond what the issuer holds today: a grant
    // the issuer has lost since is dropped from the token too.
    let issuer_access = access_of(db, &issuer.id).await?;
    let grants: Vec<Grant> = grants.into_iter().filter(|g| issuer_access.permits(g)).collect();
    if t.last_used_ms.is_none_or(|l| now - l > 60_000) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedMs, isms_store::sea_orm::sea_query::Expr::val(now))
            .filter(api_token::Column::Id.eq(t.id.clone()))
            .exec(db)
            .await?;
    }
    let p = Principal {
        actor: format!("token:{}", t.id),
        user_id: Some(issuer.id),
        name: t.name,
        access: Access::new(grants),
        locale: None,
        time_zone: None,
        session_id: None,
    };
    app.shared::<Shared>().principals.put(key, generation, (p.clone(), None, t.expires_ms));
    Ok(p)
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

#[cfg(test)]
mod tests {
    use super::check_password_policy;

    fn code(password: &str, user: &str) -> Option<&'static str> {
        check_password_policy(password, user, &["Hanako Yamada"]).err().map(|e| e.code)
    }

    #[test]
    fn weak_passwords_are_refused_with_their_reason() {
        assert_eq!(code("aaaaaaaaaaaa", "hanako"), Some("password-repeats"));
        assert!(matches!(code("1234567890123456", "hanako"), Some("password-common" | "password-sequence")));
        assert_eq!(code("abcdefghijklmn", "hanako"), Some("password-sequence"));
        assert_eq!(code("password12345", "hanako"), Some("password-common"));
        assert_eq!(code("qwertyuiopasdf", "hanako"), Some("password-common"));
        assert_eq!(code("hanako-secret-2026", "hanako"), Some("password-username"));
        assert_eq!(code("hanako.y@example.com!", "hanako.y@example.com"), Some("password-username"));
        assert_eq!(code("my isms password", "taro"), Some("password-product"));
        assert_eq!(code("short", "taro"), Some("password-short"));
        assert_eq!(code("Yamada Hanako 1990", "taro"), Some("password-username"), "built from the user's own name");
    }

    #[test]
    fn passphrases_pass() {
        for p in ["correct horse battery", "demo-password-2026", "a long enough password", "violet kettle 47 ferry"] {
            assert_eq!(code(p, "taro"), None, "{p}");
        }
    }
}
