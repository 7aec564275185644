//! Sending profiles: the SMTP relay a drill goes out through (submission on 587 with
//! STARTTLS, or 465 with TLS from the first byte), its account and the envelope sender.
//! The password is sealed with the instance key and never shown again; an unencrypted
//! connection is allowed only to this machine (a local relay or a test sink).

use crate::{new_id, require_manages, require_reads};
use isms_core::FieldError;
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::drills::profile;
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::ExprTrait as _;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DrillProfile)]
pub struct Profile {
    pub id: String,
    pub company_id: Option<String>,
    pub name: String,
    pub host: String,
    pub port: i32,
    /// starttls, tls or none
    pub security: String,
    pub username: String,
    /// Whether a password is kept (it is never returned).
    pub has_password: bool,
    pub envelope_from: String,
    pub retired: bool,
}

impl From<profile::Model> for Profile {
    fn from(m: profile::Model) -> Self {
        Self {
            has_password: !m.password.is_empty(),
            id: m.id,
            company_id: m.company_id,
            name: m.name,
            host: m.host,
            port: m.port,
            security: m.security,
            username: m.username,
            envelope_from: m.envelope_from,
            retired: m.retired,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = DrillProfileInput)]
pub struct ProfileInput {
    /// Empty for the group's profile (which needs the permission group-wide).
    #[serde(default)]
    pub company_id: Option<String>,
    pub name: String,
    pub host: String,
    /// 587 unless given.
    #[serde(default)]
    pub port: Option<String>,
    /// starttls (the default), tls or none.
    #[serde(default)]
    pub security: String,
    #[serde(default)]
    pub username: String,
    /// Blank keeps the stored password when editing.
    #[serde(default)]
    pub password: String,
    pub envelope_from: String,
}

const SECURITY: &[&str] = &["starttls", "tls", "none"];

fn loopback(host: &str) -> bool {
    let h = host.trim().trim_matches(['[', ']']);
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && (h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok()
            || h.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')))
}

pub(crate) fn is_address(s: &str) -> bool {
    s.parse::<lettre::Address>().is_ok()
}

struct Valid {
    company_id: Option<String>,
    name: String,
    host: String,
    port: i32,
    security: String,
    username: String,
    envelope_from: String,
}

fn validate(input: &ProfileInput) -> Result<Valid> {
    let mut errors = vec![];
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let host = input.host.trim().to_ascii_lowercase();
    if host.is_empty() {
        errors.push(FieldError::coded("host", "required", "is required"));
    } else if !is_host(&host) {
        errors.push(FieldError::coded("host", "drill-host", format!("`{host}` is not a host name or address")).arg("value", host.clone()));
    }
    let port = isms_kernel::input::whole::<i32>(&mut errors, "port", input.port.as_deref().unwrap_or("")).unwrap_or(587);
    if !(1..=65535).contains(&port) {
        errors.push(FieldError::coded("port", "range", "must be between 1 and 65535").arg("min", "1").arg("max", "65535"));
    }
    let security = if input.security.trim().is_empty() { "starttls".to_owned() } else { input.security.trim().to_owned() };
    if !SECURITY.contains(&security.as_str()) {
        errors.push(
            FieldError::coded("security", "one-of", format!("`{security}` is not one of starttls, tls, none"))
                .arg("value", security.clone())
                .arg("expected", "starttls, tls, none"),
        );
    } else if security == "none" && !host.is_empty() && !loopback(&host) {
        errors.push(FieldError::coded("security", "drill-plain-remote", "an unencrypted connection is allowed only to this machine"));
    }
    let envelope_from = input.envelope_from.trim().to_owned();
    if envelope_from.is_empty() {
        errors.push(FieldError::coded("envelope_from", "required", "is required"));
    } else if !is_address(&envelope_from) {
        errors.push(FieldError::coded("envelope_from", "email", "is not an e-mail address").arg("value", envelope_from.clone()));
    }
    if input.username.chars().count() > 255 {
        errors.push(FieldError::coded("username", "too-long", "is longer than 255 characters").arg("max", "255"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Valid {
        company_id: isms_kernel::input::blank_to_none(&input.company_id),
        name,
        host,
        port,
        security,
        username: input.username.trim().to_owned(),
        envelope_from,
    })
}

/// The profiles `who` reads, the group's first.
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Profile>> {
    let within = who.within(isms_core::Permission::DrillsRead)?;
    let mut q = profile::Entity::find().order_by_asc(profile::Column::Name);
    if let Some(c) = within {
        q = q.filter(profile::Column::CompanyId.is_in(c).or(profile::Column::CompanyId.is_null()));
    }
    Ok(q.all(app.store.conn()).await?.into_iter().map(Profile::from).collect())
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Profile> {
    let m = profile::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    Ok(m.into())
}

pub async fn create(app: &App, who: &Principal, input: ProfileInput) -> Result<Profile> {
    require_manages(who, isms_kernel::input::blank_to_none(&input.company_id).as_deref())?;
    let v = validate(&input)?;
    let sealed = if input.password.is_empty() { String::new() } else { app.fields().seal(&input.password)? };
    let now = now_ms();
    let id = new_id();
    let txn = app.store.write().await?;
    let m = profile::ActiveModel {
        id: Set(id.clone()),
        company_id: Set(v.company_id.clone()),
        name: Set(v.name.clone()),
        host: Set(v.host.clone()),
        port: Set(v.port),
        security: Set(v.security.clone()),
        username: Set(v.username.clone()),
        password: Set(sealed),
        envelope_from: Set(v.envelope_from.clone()),
        retired: Set(false),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    // The password itself is never written to the trail; only that one is kept.
    record(
        app,
        &txn,
        who,
        "drills.profile.create",
        "drill_profile",
        Some(&id),
        v.company_id.as_deref(),
        json!({"name": v.name, "host": v.host, "port": v.port, "security": v.security, "username": v.username, "password": !input.password.is_empty()}),
    )
    .await?;
    txn.commit().await?;
    Ok(m.into())
}

pub async fn update(app: &App, who: &Principal, id: &str, input: ProfileInput) -> Result<Profile> {
    let txn = app.store.write().await?;
    let m = profile::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    require_manages(who, m.company_id.as_deref())?;
    // The owner stays: a company's profile does not become the group's by an edit.
    let v = validate(&ProfileInput { company_id: m.company_id.clone(), ..input.clone() })?;
    // A kept password goes only to the relay and account it was typed for: moving the
    // profile elsewhere asks for it again, so an edit cannot send it to another server.
    if !m.password.is_empty() && input.password.is_empty() && (v.host != m.host || v.port != m.port || v.username != m.username) {
        return Err(AppError::Invalid(vec![FieldError::coded("password", "drill-password-again", "enter the password again for the new server or account")]));
    }
    let company = m.company_id.clone();
    let mut am = m.into_active_model();
    am.name = Set(v.name.clone());
    am.host = Set(v.host.clone());
    am.port = Set(v.port);
    am.security = Set(v.security.clone());
    am.username = Set(v.username.clone());
    am.envelope_from = Set(v.envelope_from.clone());
    if !input.password.is_empty() {
        am.password = Set(app.fields().seal(&input.password)?);
    }
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "drills.profile.update",
        "drill_profile",
        Some(id),
        company.as_deref(),
        json!({"name": v.name, "host": v.host, "port": v.port, "security": v.security, "username": v.username, "password_changed": !input.password.is_empty()}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// The relay as a transport, with the password opened.
pub(crate) fn transport(app: &App, m: &profile::Model) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>> {
    use lettre::AsyncSmtpTransport as T;
    use lettre::transport::smtp::authentication::Credentials;
    let mut b = match m.security.as_str() {
        "tls" => T::<lettre::Tokio1Executor>::relay(&m.host).map_err(AppError::internal)?,
        "none" if loopback(&m.host) => T::<lettre::Tokio1Executor>::builder_dangerous(&m.host),
        "none" => return Err(AppError::conflict("drill-plain-remote", "an unencrypted connection is allowed only to this machine")),
        _ => T::<lettre::Tokio1Executor>::starttls_relay(&m.host).map_err(AppError::internal)?,
    };
    b = b.port(u16::try_from(m.port).unwrap_or(587)).timeout(Some(std::time::Duration::from_secs(30)));
    if !m.username.is_empty() {
        let pw = if m.password.is_empty() { String::new() } else { app.fields().open(&m.password)? };
        b = b.credentials(Credentials::new(m.username.clone(), pw));
    }
    Ok(b.build())
}
