//! The application kernel: what every domain's use cases stand on. The `App` (store,
//! settings, instance secret, caches and each domain's shared state), the acting
//! `Principal` and its permission checks, `AppError`, the audit entry written inside the
//! caller's transaction, input fields, the notification outbox, and the CSV, XLSX and PDF
//! writers. No domain lives here, and no domain imports another's helpers: what two
//! domains need is here or in `core`.

pub mod cache;
pub mod crypto;
pub mod history;
pub mod input;
pub mod jobs;
pub mod notify;
pub mod order;
pub mod pdf;
pub mod sheet;

use isms_core::{Access, FieldError, Permission, Scope};
use isms_store::Store;
use isms_store::sea_orm::{DbErr, SqlErr};
use std::sync::Arc;

/// Everything the use cases need, built once at start and shared.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    inner: Arc<Inner>,
}

struct Inner {
    config: AppConfig,
    audit_key: Vec<u8>,
    caches: cache::Caches,
    fields: crypto::FieldCipher,
    /// What a domain keeps in memory for this instance (its compiled rules, its caches),
    /// one value per type, made on first use.
    shared: std::sync::RwLock<std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

/// Settings of the use cases (the binary fills them from its configuration).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Idle lifetime of a browser session.
    pub session_idle_minutes: i64,
    /// Absolute lifetime of a browser session.
    pub session_max_hours: i64,
    /// Failed sign-ins before the account locks.
    pub lock_after_failures: i32,
    pub lock_minutes: i64,
    /// Cost of password hashing; tests lower it, production keeps the default.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Longest pause after a failed sign-in.
    pub max_failure_delay_ms: u64,
    pub issuer: String,
    /// Whether an SMTP server is configured: notifications to people with an address are
    /// then queued for e-mail too.
    pub mail_enabled: bool,
    /// Days ahead of a due date that owners are reminded (asset and document reviews).
    pub remind_days: i64,
    /// Receivers of events (chat tools, on-call systems) and what each wants.
    pub webhooks: Vec<notify::HookConfig>,
    /// Reporting duties added to the APPI and the GDPR.
    pub regimes: Vec<isms_core::incidents::clocks::Regime>,
    /// How long raw events are kept, by age and by size.
    pub raw_retention: RawRetention,
    /// Where the audit chain's head is recorded outside the database (see `audit`).
    pub checkpoint_file: Option<std::path::PathBuf>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 60,
            session_max_hours: 12,
            lock_after_failures: 5,
            lock_minutes: 15,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_failure_delay_ms: 4_000,
            issuer: "isms".into(),
            mail_enabled: false,
            remind_days: 30,
            webhooks: vec![],
            regimes: vec![],
            raw_retention: RawRetention::default(),
            checkpoint_file: None,
        }
    }
}

impl App {
    /// `audit_key` is the instance secret from outside the database: it keys the audit
    /// chain, and the field-encryption key is derived from it.
    pub fn new(store: Store, config: AppConfig, audit_key: Vec<u8>) -> Self {
        let fields = crypto::FieldCipher::new(&audit_key);
        Self { store, inner: Arc::new(Inner { config, audit_key, caches: cache::Caches::default(), fields, shared: Default::default() }) }
    }

    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    pub fn audit_key(&self) -> &[u8] {
        &self.inner.audit_key
    }

    /// Encrypts and decrypts sensitive fields with the instance's key.
    pub fn fields(&self) -> &crypto::FieldCipher {
        &self.inner.fields
    }

    pub fn caches(&self) -> &cache::Caches {
        &self.inner.caches
    }

    /// The value of type `T` this instance shares among requests (a domain's compiled
    /// state or caches), made with `Default` on first use. Each domain keeps its own type
    /// private, so no other domain reaches into it.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let key = std::any::TypeId::of::<T>();
        if let Some(v) = self.inner.shared.read().ok().and_then(|m| m.get(&key).cloned())
            && let Ok(v) = v.downcast::<T>()
        {
            return v;
        }
        let mut map = match self.inner.shared.write() {
            Ok(m) => m,
            // A panic while the map was held cannot leave it half-written (one insert).
            Err(poisoned) => poisoned.into_inner(),
        };
        let v = map.entry(key).or_insert_with(|| Arc::new(T::default())).clone();
        // The entry under `TypeId::of::<T>()` was made as a `T`.
        v.downcast::<T>().unwrap_or_else(|_| Arc::new(T::default()))
    }
}

/// Who is acting: a signed-in user, an API token or the system itself (CLI, demo loader).
#[derive(Debug, Clone)]
pub struct Principal {
    /// As recorded in the audit trail: `user:<id>`, `token:<id>` or `system`.
    pub actor: String,
    pub user_id: Option<String>,
    pub name: String,
    pub access: Access,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// The session this request came with, if any.
    pub session_id: Option<String>,
}

impl Principal {
    /// The system acting on an operator's command (CLI on the server itself).
    pub fn system() -> Self {
        Self {
            actor: "system".into(),
            user_id: None,
            name: "system".into(),
            // The operator on the server itself acts with every role's permissions: the
            // demo loader and imports create registers the administrator alone may not.
            access: Access::new(isms_core::Role::ALL.iter().map(|&role| isms_core::Grant { role, company: None }).collect()),
            locale: None,
            time_zone: None,
            session_id: None,
        }
    }

    /// The companies this principal reaches with `p`: `None` for all of them.
    pub fn within(&self, p: Permission) -> Result<Option<Vec<String>>, AppError> {
        match self.access.scope(p) {
            Scope::Group => Ok(None),
            Scope::Companies(set) => Ok(Some(set.iter().map(|c| c.to_string()).collect())),
            Scope::Nothing => Err(AppError::Forbidden),
        }
    }

    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.access.can(p) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// For a record owned by `company` (as stored: a company id, or `None` for the group).
    pub fn require_for(&self, p: Permission, company: Option<&str>) -> Result<(), AppError> {
        let company = match company {
            Some(c) => Some(c.parse().map_err(|_| AppError::Forbidden)?),
            None => None,
        };
        if self.access.can_for(p, company) { Ok(()) } else { Err(AppError::Forbidden) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign-in required")]
    Unauthenticated,
    #[error("not permitted")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The request clashes with the records as they are: `code` names the catalog message
    /// (`err-<code>`) the pages show, `message` is the English the API sends.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("too many failed attempts; try again later")]
    Locked { retry_after_secs: u64 },
    /// A fault of ours; the cause is kept for the log and never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A fault of ours, keeping its cause.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(cause.into())
    }

    /// A clash with the records as they are, with its catalog message `err-<code>`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A field error with a catalog message `err-<code>`.
    pub fn coded(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::coded(field, code, message)])
    }
}

impl AppError {
    /// Adds a message argument to a single field error.
    pub fn into_with_arg(self, name: &'static str, value: impl Into<String>) -> Self {
        match self {
            AppError::Invalid(mut v) if v.len() == 1 => {
                let e = v.remove(0).arg(name, value);
                AppError::Invalid(vec![e])
            }
            other => other,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("duplicate", "a record with this value already exists"),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                AppError::conflict("still-referred", "the record refers to one that does not exist, or is still referred to")
            }
            _ => AppError::internal(e),
        }
    }
}

/// One page of a list and how many match in all.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Appends an audit entry inside `txn`.
pub async fn record(
    app: &App,
    txn: &impl isms_store::sea_orm::ConnectionTrait,
    who: &Principal,
    action: &str,
    entity: &str,
    record_id: Option<&str>,
    company_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<i64> {
    // A token acts for its issuer: the entry names the token as actor and the account.
    let detail = match (&who.user_id, who.actor.starts_with("token:"), detail) {
        (Some(uid), true, serde_json::Value::Object(mut m)) => {
            m.insert("on_behalf_of".into(), serde_json::Value::String(format!("user:{uid}")));
            serde_json::Value::Object(m)
        }
        (_, _, d) => d,
    };
    Ok(isms_store::audit::append(
        txn,
        app.audit_key(),
        isms_store::audit::NewEntry {
            actor: who.actor.clone(),
            action: action.into(),
            entity: entity.into(),
            record_id: record_id.map(str::to_owned),
            company_id: company_id.map(str::to_owned),
            detail,
        },
    )
    .await?)
}

/// Checks an uploaded file kept as an opaque download (evidence): a plain name, not
/// empty, within `max` bytes. Returns the trimmed name.
pub fn plain_file<'a>(file_name: &'a str, bytes: &[u8], max: usize) -> Result<&'a str> {
    let name = file_name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(AppError::coded("file", "file-name", "is not a plain file name"));
    }
    if bytes.is_empty() {
        return Err(AppError::coded("file", "file-empty", "the file is empty"));
    }
    if bytes.len() > max {
        return Err(AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", (max / (1024 * 1024)).to_string()));
    }
    Ok(name)
}

/// Ids typed or chosen in a form: trimmed, blanks dropped, sorted, each once.
pub fn id_list(list: &[String]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
    v.sort();
    v.dedup();
    v
}

/// Random bytes as URL-safe base64, for tokens.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::Rng;
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 hex of a secret token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// How long raw events are kept, by age and by size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRetention {
    pub days: i64,
    pub max_bytes: i64,
}

impl Default for RawRetention {
    fn default() -> Self {
        RawRetention { days: 7, max_bytes: 1024 * 1024 * 1024 }
    }
}
