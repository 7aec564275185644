//! The second factor: TOTP codes, each time step used once, and enrolment.

use super::*;

pub(super) fn totp_for(app: &App, secret_b32: &str, account: &str) -> Result<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).map_err(|e| AppError::internal(format!("totp secret: {e:?}")))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account.to_owned())
        .with_issuer(Some(app.config().issuer.clone()))
        .build()
        .map_err(|e| AppError::internal(format!("totp: {e:?}")))
}

/// The time step of a valid code, if it is valid and newer than the last one used
/// (so an observed code cannot be replayed).
pub(super) fn check_code(totp: &totp_rs::Totp, code: &str, last_step: Option<i64>) -> Option<i64> {
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
pub(super) async fn claim_step(db: &impl ConnectionTrait, user_id: &str, step: i64) -> Result<bool> {
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
        return Err(AppError::conflict("second-factor-set", "a second factor is already set up"));
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
    let url = totp.to_url().map_err(|e| AppError::internal(format!("totp url for {username}: {e:?}")))?;
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
            let url = totp.to_url().map_err(|e| AppError::internal(format!("totp url: {e:?}")))?;
            Ok(Some(Enrolment { secret: s, url }))
        }
        _ => Ok(None),
    }
}

pub async fn confirm_enrolment(app: &App, who: &Principal, code: &str) -> Result<()> {
    let uid = who.user_id.as_deref().ok_or(AppError::Unauthenticated)?;
    let txn = app.store.write().await?;
    let u = user::Entity::find_by_id(uid.to_owned()).one(&txn).await?.ok_or(AppError::Unauthenticated)?;
    let sealed = u.totp_secret.clone().filter(|_| !u.totp_enabled).ok_or_else(|| AppError::conflict("no-enrolment", "no enrolment in progress"))?;
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
        return Err(AppError::conflict("no-enrolment", "no enrolment in progress"));
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
