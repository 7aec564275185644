//! The one typed settings struct: defaults, then a TOML file, then `ISMS_*` environment
//! variables, then command-line flags. Unknown keys are an error; the secret parts never
//! print.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A value that must not appear in logs or `config check` output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("\"\"") } else { f.write_str("\"***\"") }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Folder for the embedded database, the key file and backups.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://...`; empty: SQLite in `data_dir`.
    pub database_url: Secret,
    /// Where users reach this instance (decides cookie security and links).
    pub public_url: String,
    /// File holding the secret that keys the audit chain; default `data_dir/secret.key`.
    /// Instances sharing a database must share this file.
    pub secret_key_file: Option<PathBuf>,
    /// Where the audit chain's head is recorded every few seconds, outside the database;
    /// default `audit.checkpoint` beside the key file. `audit verify` checks the chain
    /// still holds it, so cutting the tail and rewriting the head does not go unseen.
    pub audit_checkpoint_file: Option<PathBuf>,
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info` or `isms=debug,info`.
    pub log_level: String,
    pub session_idle_minutes: i64,
    pub session_max_hours: i64,
    pub lock_after_failures: i32,
    pub lock_minutes: i64,
    pub max_body_mib: usize,
    /// Largest batch of events one request to `/api/v1/events` may carry, after
    /// decompression, in MiB.
    pub max_event_batch_mib: usize,
    /// Batches of events matched or waiting to be written at once; beyond it the receiver
    /// answers 429 with Retry-After, so memory stays bounded.
    pub max_inflight_batches: usize,
    pub metrics: bool,
    /// The bearer token `/metrics` asks for on the main listener; empty: not served there.
    pub metrics_token: Secret,
    /// A separate address serving `/metrics` alone, without a token (bind it where only
    /// the monitoring network reaches).
    pub metrics_listen: Option<SocketAddr>,
    pub database_max_connections: Option<u32>,
    /// Behind a reverse proxy that sets `X-Forwarded-For`: take the client address from it.
    pub trust_proxy: bool,
    /// Days ahead of a due date that owners are reminded (asset and document reviews).
    pub remind_days: i64,
    /// Raw events of the sources that keep them are deleted after this many days...
    pub raw_retention_days: i64,
    /// ...or, oldest first, when together they are larger than this many MiB.
    pub raw_retention_mib: i64,
    /// The SMTP server notifications are sent through; none when `mail.host` is empty.
    pub mail: MailConfig,
    /// Receivers of events such as a chat tool's incoming webhook (`[[webhooks]]`).
    pub webhooks: Vec<WebhookConfig>,
    /// Reporting duties besides the APPI and the GDPR (`[[regimes]]`).
    pub regimes: Vec<RegimeConfig>,
    /// Syslog listeners (`[[syslog]]`), each feeding one event source.
    pub syslog: Vec<SyslogConfig>,
    /// NATS server with JetStream (`nats://host:4222`): receivers queue batches of events
    /// there and workers (`isms worker`, and `serve` itself) evaluate them. Empty: events
    /// are evaluated where they are received.
    pub nats_url: String,
    /// The JetStream stream's name (its subjects are `<name>.<source id>`).
    pub nats_stream: String,
    /// Seconds a batch delivered to a worker may go unacknowledged before another worker
    /// gets it (how long a crashed worker's batches wait).
    pub nats_ack_wait_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// Address and port, e.g. `0.0.0.0:5514`.
    pub listen: SocketAddr,
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    /// The event source (by name, as created under Monitoring → Event sources).
    pub source: String,
    /// Largest message accepted, in KiB (default 64); longer ones become dead letters.
    #[serde(default = "default_max_message_kib")]
    pub max_message_kib: usize,
    /// For `tls`: PEM certificate chain and private key.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

fn default_max_message_kib() -> usize {
    64
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeConfig {
    /// Short code, e.g. `UK-ICO`.
    pub code: String,
    /// As shown on the case.
    pub name: String,
    /// `personal_data`, `appi_duty`, `eu_residents`, `sensitive` or `more_than_1000`.
    pub trigger: String,
    /// Hours from awareness to the deadline.
    pub hours: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum HookFormat {
    /// `{"text": ...}`, which chat tools' incoming webhooks take.
    #[default]
    Chat,
    /// The event as JSON.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    /// The receiver's address; often holds a token, so it is a secret.
    pub url: Secret,
    /// Event kinds it wants, e.g. `incident-reported`, `incident-escalated`,
    /// `incident-clock-due`, `incident-clock-overdue`; `*` for all.
    pub events: Vec<String>,
    #[serde(default)]
    pub format: HookFormat,
    /// `ja` or `en`.
    #[serde(default = "default_hook_language")]
    pub language: String,
}

fn default_hook_language() -> String {
    "ja".into()
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (SMTPS) or `none` (a relay on the same host only).
    pub security: MailSecurity,
    pub username: String,
    pub password: Secret,
    /// The sender, e.g. `isms <isms@example.com>`.
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: MailSecurity::Starttls,
            username: String::new(),
            password: Secret::default(),
            from: String::new(),
            timeout_secs: 30,
        }
    }
}

impl MailConfig {
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: Secret::default(),
            public_url: String::new(),
            secret_key_file: None,
            audit_checkpoint_file: None,
            log_format: LogFormat::Text,
            log_level: "info,sea_orm_migration=warn,sqlx=warn".into(),
            session_idle_minutes: 60,
            session_max_hours: 12,
            lock_after_failures: 5,
            lock_minutes: 15,
            max_body_mib: 32,
            max_event_batch_mib: 16,
            max_inflight_batches: 64,
            metrics: true,
            metrics_token: Secret::default(),
            metrics_listen: None,
            database_max_connections: None,
            trust_proxy: false,
            remind_days: 30,
            raw_retention_days: 7,
            raw_retention_mib: 1024,
            mail: MailConfig::default(),
            webhooks: vec![],
            regimes: vec![],
            syslog: vec![],
            nats_url: String::new(),
            nats_stream: "ISMS_EVENTS".into(),
            nats_ack_wait_secs: 60,
        }
    }
}

/// Environment variables that are read (as `ISMS_<KEY>`).
const ENV_KEYS: [&str; 27] = [
    "nats_url",
    "nats_stream",
    "nats_ack_wait_secs",
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "secret_key_file",
    "audit_checkpoint_file",
    "log_format",
    "log_level",
    "session_idle_minutes",
    "session_max_hours",
    "lock_after_failures",
    "lock_minutes",
    "max_body_mib",
    "max_event_batch_mib",
    "max_inflight_batches",
    "metrics",
    "metrics_token",
    "metrics_listen",
    "database_max_connections",
    "trust_proxy",
    "remind_days",
    "raw_retention_days",
    "raw_retention_mib",
    "config",
];

/// Overrides from flags; only what was given.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_url: Option<String>,
}

impl Settings {
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, String> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        let file = file.map(Path::to_path_buf).or_else(|| std::env::var_os("ISMS_CONFIG").map(PathBuf::from));
        if let Some(f) = &file {
            if !f.exists() {
                return Err(format!("config file {} does not exist", f.display()));
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        fig = fig.merge(Env::prefixed("ISMS_").only(&ENV_KEYS).ignore(&["config"]));
        fig = fig.merge(Serialized::defaults(flags));
        let s: Settings = fig.extract().map_err(|e| {
            let mut msgs = vec![];
            for err in e {
                let src = err.metadata.as_ref().map(|m| m.name.to_string()).unwrap_or_default();
                let key = err.path.join(".");
                msgs.push(format!(
                    "{}{}{}",
                    if src.is_empty() { String::new() } else { format!("{src}: ") },
                    if key.is_empty() { String::new() } else { format!("`{key}`: ") },
                    err.kind
                ));
            }
            msgs.join("\n")
        })?;
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> Result<(), String> {
        let u = &self.database_url.0;
        if !u.is_empty() && !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) {
            return Err("`database_url`: must start with sqlite:, postgres:// or postgresql://".into());
        }
        if !self.public_url.is_empty() && !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err("`public_url`: must start with http:// or https://".into());
        }
        if self.session_idle_minutes < 1 || self.session_max_hours < 1 {
            return Err("`session_idle_minutes` and `session_max_hours` must be at least 1".into());
        }
        if self.lock_after_failures < 1 || self.lock_minutes < 1 {
            return Err("`lock_after_failures` and `lock_minutes` must be at least 1".into());
        }
        if self.max_body_mib == 0 || self.max_body_mib > 1024 {
            return Err("`max_body_mib`: must be between 1 and 1024".into());
        }
        if !self.nats_url.is_empty() && !(self.nats_url.starts_with("nats://") || self.nats_url.starts_with("tls://")) {
            return Err("`nats_url`: must start with nats:// or tls://".into());
        }
        if !(1..=3600).contains(&self.nats_ack_wait_secs) {
            return Err("`nats_ack_wait_secs`: must be between 1 and 3600".into());
        }
        if self.max_event_batch_mib == 0 || self.max_event_batch_mib > 1024 {
            return Err("`max_event_batch_mib`: must be between 1 and 1024".into());
        }
        if !(1..=100_000).contains(&self.max_inflight_batches) {
            return Err("`max_inflight_batches`: must be between 1 and 100000".into());
        }
        for (i, l) in self.syslog.iter().enumerate() {
            let at = format!("`syslog[{i}]`");
            if !matches!(l.transport.as_str(), "udp" | "tcp" | "tls") {
                return Err(format!("{at}.transport: `{}` is not one of udp, tcp, tls", l.transport));
            }
            if l.source.trim().is_empty() {
                return Err(format!("{at}.source: is required (the name of an event source)"));
            }
            if !(1..=1024).contains(&l.max_message_kib) {
                return Err(format!("{at}.max_message_kib: must be between 1 and 1024"));
            }
            if l.transport == "tls" && (l.tls_cert.is_none() || l.tls_key.is_none()) {
                return Err(format!("{at}: tls needs tls_cert and tls_key"));
            }
        }
        if !(1..=365).contains(&self.remind_days) {
            return Err("`remind_days`: must be between 1 and 365".into());
        }
        if !(1..=3650).contains(&self.raw_retention_days) {
            return Err("`raw_retention_days`: must be between 1 and 3650".into());
        }
        if !(1..=16 * 1024 * 1024).contains(&self.raw_retention_mib) {
            return Err("`raw_retention_mib`: must be between 1 and 16777216".into());
        }
        if self.mail.enabled() {
            if self.mail.from.trim().is_empty() {
                return Err("`mail.from`: is required when `mail.host` is set".into());
            }
            if self.mail.port == 0 {
                return Err("`mail.port`: must be a port number".into());
            }
            if self.mail.timeout_secs == 0 || self.mail.timeout_secs > 600 {
                return Err("`mail.timeout_secs`: must be between 1 and 600".into());
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, h) in self.webhooks.iter().enumerate() {
            let at = format!("`webhooks[{i}]`");
            if h.name.trim().is_empty() || !names.insert(h.name.trim().to_owned()) {
                return Err(format!("{at}.name: must be given and unique"));
            }
            if !(h.url.0.starts_with("https://") || h.url.0.starts_with("http://")) {
                return Err(format!("{at}.url: must start with https:// or http://"));
            }
            if h.events.is_empty() {
                return Err(format!("{at}.events: name at least one event kind, or `*`"));
            }
            if !matches!(h.language.as_str(), "ja" | "en") {
                return Err(format!("{at}.language: must be ja or en"));
            }
        }
        let mut codes = std::collections::HashSet::new();
        for (i, r) in self.regimes.iter().enumerate() {
            let at = format!("`regimes[{i}]`");
            let code = isms_core::policies::parse_code(&r.code).map_err(|e| format!("{at}.code: {}", e.message))?;
            if !codes.insert(code) {
                return Err(format!("{at}.code: `{}` is given twice", r.code));
            }
            if r.name.trim().is_empty() {
                return Err(format!("{at}.name: is required"));
            }
            isms_core::incidents::clocks::RegimeTrigger::parse(&r.trigger).map_err(|e| format!("{at}.trigger: {}", e.message))?;
            if !(1..=24 * 365).contains(&r.hours) {
                return Err(format!("{at}.hours: must be between 1 and 8760"));
            }
        }
        if let Err(e) = self.log_level.parse::<tracing_subscriber::EnvFilter>() {
            return Err(format!("`log_level`: {e}"));
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.database_url.0.is_empty() { format!("sqlite://{}", self.data_dir.join("isms.db").display()) } else { self.database_url.0.clone() }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
    }

    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() { format!("http://{}", self.listen) } else { self.public_url.trim_end_matches('/').to_owned() }
    }

    pub fn checkpoint_file(&self) -> PathBuf {
        self.audit_checkpoint_file.clone().unwrap_or_else(|| self.key_file().with_file_name("audit.checkpoint"))
    }

    pub fn key_file(&self) -> PathBuf {
        self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:9000\"\nlisen = 1\n").unwrap();
        let e = Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err();
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\n").unwrap();
        let s = Settings::load(Some(&f), &FlagOverrides { data_dir: Some("/tmp/y".into()), ..Default::default() }).unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.data_dir, PathBuf::from("/tmp/y"));
        assert!(s.is_sqlite());
        assert_eq!(s.sqlite_path().unwrap(), PathBuf::from("/tmp/y/isms.db"));
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "database_url = \"mysql://x\"\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("database_url"));
        std::fs::write(&f, "listen = \"nowhere\"\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("listen"));
    }

    #[test]
    fn secrets_do_not_print() {
        let mut s = Settings { database_url: Secret("postgres://u:pw@h/db".into()), ..Default::default() };
        s.mail.password = Secret("smtp-secret".into());
        assert!(!format!("{s:?}").contains("pw"));
        assert!(!format!("{s:?}").contains("smtp-secret"));
    }

    #[test]
    fn webhooks_are_checked_and_their_addresses_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "[[webhooks]]\nname = \"csirt-chat\"\nurl = \"https://chat.example/hooks/T0K3N\"\nevents = [\"incident-reported\"]\n").unwrap();
        let s = Settings::load(Some(&f), &FlagOverrides::default()).unwrap();
        assert_eq!(s.webhooks[0].format, HookFormat::Chat);
        assert!(!format!("{s:?}").contains("T0K3N"));
        std::fs::write(&f, "[[webhooks]]\nname = \"x\"\nurl = \"ftp://x\"\nevents = [\"*\"]\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("webhooks[0]`.url"));
        std::fs::write(&f, "[[webhooks]]\nname = \"x\"\nurl = \"https://x\"\nevents = []\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("events"));
    }

    #[test]
    fn regimes_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "[[regimes]]\ncode = \"uk-ico\"\nname = \"UK ICO\"\ntrigger = \"eu_residents\"\nhours = 72\n").unwrap();
        assert_eq!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap().regimes.len(), 1);
        std::fs::write(&f, "[[regimes]]\ncode = \"x\"\nname = \"X\"\ntrigger = \"mars\"\nhours = 72\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("regimes[0]`.trigger"));
    }

    #[test]
    fn mail_section() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("isms.toml");
        std::fs::write(&f, "[mail]\nhost = \"smtp.example.com\"\nsecurity = \"tls\"\nport = 465\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("mail.from"));
        std::fs::write(&f, "[mail]\nhost = \"smtp.example.com\"\nfrom = \"isms <isms@example.com>\"\nsecurty = \"tls\"\n").unwrap();
        assert!(Settings::load(Some(&f), &FlagOverrides::default()).unwrap_err().contains("securty"));
        std::fs::write(&f, "[mail]\nhost = \"smtp.example.com\"\nfrom = \"isms <isms@example.com>\"\nsecurity = \"tls\"\nport = 465\n").unwrap();
        let s = Settings::load(Some(&f), &FlagOverrides::default()).unwrap();
        assert!(s.mail.enabled());
        assert_eq!(s.mail.security, MailSecurity::Tls);
    }
}
