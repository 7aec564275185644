//! The `isms` binary: the server and the operator's commands (migrations, imports,
//! backups, audit verification, configuration check).

mod config;
mod hunt;
mod serve;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use config::{FlagOverrides, LogFormat, Settings};
use indicatif::{ProgressBar, ProgressStyle};
use isms_app::{App, AppConfig, Principal};
use isms_store::{Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(name = "isms", version, about = "Information-security and personal-information protection management for a corporate group")]
struct Cli {
    /// TOML configuration file (also ISMS_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Address and port to listen on (also ISMS_LISTEN).
    #[arg(long, global = true)]
    listen: Option<std::net::SocketAddr>,
    /// Data folder (also ISMS_DATA_DIR).
    #[arg(long = "data", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... (also ISMS_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Log format: text or json (also ISMS_LOG_FORMAT).
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// NATS server with JetStream for scale-out (also ISMS_NATS_URL).
    #[arg(long, global = true)]
    nats_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (applies pending migrations first).
    Serve {
        /// Load the demo group (a fictional airline group) if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate {
        /// Only list applied and pending migrations.
        #[arg(long)]
        status: bool,
    },
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Asset register tools.
    Assets {
        #[command(subcommand)]
        what: AssetsWhat,
    },
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Write a consistent copy of the SQLite database while it runs.
    Backup { file: PathBuf },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore {
        file: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        what: ConfigWhat,
    },
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        what: AdminWhat,
    },
    /// Evaluate batches of events queued on NATS JetStream (needs `--nats-url`): any
    /// number of workers, on any machine sharing the database, share one durable consumer.
    Worker,
    /// Run Sigma rules over log files (JSON lines, JSON arrays, EVTX). Exit status 0:
    /// something was found, 1: nothing, 2: an input could not be read.
    Hunt(hunt::HuntArgs),
}

#[derive(Subcommand)]
enum ImportWhat {
    /// People from CSV (columns: see `isms import people --help`); all or nothing.
    People { file: PathBuf },
    /// Information assets from CSV or XLSX (the columns of the register's export); all or
    /// nothing. `--dry-run` checks the file and says what it would do.
    Assets {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    /// Sigma detection rules from a folder, `.yml` files or a ZIP archive (a SigmaHQ
    /// release); each file is kept only when every rule in it can be used.
    Rules { paths: Vec<PathBuf> },
    /// Threat-intelligence indicators from a file (STIX 2.1 bundle, MISP JSON or CSV export,
    /// or free text) into a feed, which is created as a file feed if it does not exist.
    Indicators {
        /// The feed's name.
        #[arg(long)]
        feed: String,
        /// stix, misp-json, misp-csv or text; recognised from the file when left out.
        #[arg(long)]
        format: Option<String>,
        /// TLP of indicators that carry none, for a feed created now.
        #[arg(long, default_value = "amber")]
        tlp: String,
        /// Remove the feed's indicators the file does not hold.
        #[arg(long)]
        replace: bool,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AssetsWhat {
    /// Re-check the whole register against the handling rules now and report the changes
    /// (the server does this at start and every six hours).
    Recheck,
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Walk the hash chain and report the first altered, removed or reordered entry.
    Verify,
}

#[derive(Subcommand)]
enum ConfigWhat {
    /// Load the configuration, report problems, and print the effective settings.
    Check,
}

#[derive(Subcommand)]
enum AdminWhat {
    /// Print a fresh one-time link that creates the first administrator (only while no account exists).
    SetupLink,
    /// Load the demo group into an empty database.
    Demo,
    /// Issue an API token on behalf of an account, for an integration set up on the
    /// server itself; printed once. Its role and companies stay within the account's.
    Token {
        /// The account the token acts for.
        #[arg(long)]
        user: String,
        /// The token's role (e.g. `ciso`, `employee`).
        #[arg(long)]
        role: String,
        /// Companies (ids) the token is limited to; none: group-wide.
        #[arg(long = "company")]
        companies: Vec<String>,
        /// Days until it expires (1–366).
        #[arg(long, default_value_t = 30)]
        days: i64,
        #[arg(long, default_value = "integration")]
        name: String,
    },
}

/// Prints an import's outcome: the counts, or every problem with its file and line.
fn report_import(
    file: &std::path::Path,
    r: Result<isms_app::people::ImportSummary, isms_app::people::ImportFailure>,
) -> anyhow::Result<std::process::ExitCode> {
    match r {
        Ok(sum) => {
            println!("imported {}: {} added, {} updated", file.display(), sum.created, sum.updated);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(isms_app::people::ImportFailure::Rows(errors)) => {
            eprintln!("{}: nothing imported; {} problem(s):", file.display(), errors.len());
            for e in errors {
                eprintln!("  {}:{e}", file.display());
            }
            Ok(std::process::ExitCode::from(1))
        }
        Err(isms_app::people::ImportFailure::App(e)) => bail!("{e}"),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let flags = FlagOverrides {
        listen: cli.listen,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.as_deref().map(|f| if f == "json" { LogFormat::Json } else { LogFormat::Text }),
        nats_url: cli.nats_url.clone(),
    };
    let settings = match Settings::load(cli.config.as_deref(), &flags) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error:\n{e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&settings);
    // Hunting works on files alone: no database, no runtime.
    if let Command::Hunt(args) = cli.command {
        return match hunt::run(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ISMS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&s.log_level));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match s.log_format {
        LogFormat::Json => b.json().init(),
        LogFormat::Text => b.init(),
    }
}

/// The secret that keys the audit chain: read from its file, created on first start.
fn load_key(s: &Settings) -> Result<Vec<u8>> {
    let path = s.key_file();
    if path.exists() {
        let k = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if k.len() < 32 {
            bail!("{} holds {} bytes; a key needs at least 32", path.display(), k.len());
        }
        return Ok(k);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = isms_app::random_token(48).into_bytes();
    write_private(&path, &key)?;
    tracing::info!(path = %path.display(), "created the audit key file; keep it with your backups");
    Ok(key)
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}

async fn open(s: &Settings) -> Result<App> {
    std::fs::create_dir_all(&s.data_dir).with_context(|| format!("creating the data folder {}", s.data_dir.display()))?;
    let url = s.database_url();
    let store = Store::connect(&url, StoreOptions { pg_schema: None, max_connections: s.database_max_connections })
        .await
        .with_context(|| format!("connecting to {}", isms_store::redact_url(&url)))?;
    store.migrate().await.context("applying migrations")?;
    let key = load_key(s)?;
    let cfg = AppConfig {
        session_idle_minutes: s.session_idle_minutes,
        session_max_hours: s.session_max_hours,
        lock_after_failures: s.lock_after_failures,
        lock_minutes: s.lock_minutes,
        mail_enabled: s.mail.enabled(),
        remind_days: s.remind_days,
        raw_retention: isms_app::monitoring::raw::Retention { days: s.raw_retention_days, max_bytes: s.raw_retention_mib * 1024 * 1024 },
        checkpoint_file: Some(s.checkpoint_file()),
        webhooks: s.webhooks.iter().map(|h| isms_app::notify::HookConfig { name: h.name.clone(), events: h.events.clone() }).collect(),
        regimes: s
            .regimes
            .iter()
            .filter_map(|r| {
                // Checked when the settings were loaded.
                let trigger = isms_core::incidents::clocks::RegimeTrigger::parse(&r.trigger).ok()?;
                let code = isms_core::policies::parse_code(&r.code).ok()?;
                Some(isms_core::incidents::clocks::Regime { code, name: r.name.trim().to_owned(), trigger, hours: r.hours })
            })
            .collect(),
        ..AppConfig::default()
    };
    OPENED.set(store.clone()).ok();
    Ok(App::new(store, cfg, key))
}

/// The database a command opened, closed when the command ends: with SQLite, closing the
/// last connection checkpoints the write-ahead log into the database and removes it, so a
/// large import leaves no log for the next start to read through.
static OPENED: std::sync::OnceLock<isms_store::Store> = std::sync::OnceLock::new();

async fn run(cmd: Command, s: Settings) -> Result<std::process::ExitCode> {
    let out = run_command(cmd, s).await;
    if let Some(store) = OPENED.get() {
        store.clone().close().await.ok();
    }
    out
}

async fn run_command(cmd: Command, s: Settings) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match cmd {
        Command::Serve { demo } => serve::serve(s, demo).await.map(|_| ExitCode::SUCCESS),
        Command::Worker => {
            if s.nats_url.is_empty() {
                bail!("a worker needs --nats-url (or nats_url in the configuration)");
            }
            let app = open(&s).await?;
            let bus = std::sync::Arc::new(isms_ingest::bus::Bus::connect(&s.nats_url, &s.nats_stream).await.map_err(anyhow::Error::msg)?);
            let pipeline = isms_app::monitoring::pipeline::Pipeline::start(
                app.clone(),
                isms_app::monitoring::pipeline::PipelineConfig { max_inflight: s.max_inflight_batches, ..Default::default() },
            );
            println!("isms worker consuming {} on {}", s.nats_stream, s.nats_url);
            tokio::select! {
                r = isms_ingest::bus::run_worker(app, pipeline, bus, std::time::Duration::from_secs(s.nats_ack_wait_secs)) => r.map_err(anyhow::Error::msg)?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { status } => {
            std::fs::create_dir_all(&s.data_dir)?;
            let url = s.database_url();
            let store = Store::connect(&url, StoreOptions::default()).await.with_context(|| format!("connecting to {}", isms_store::redact_url(&url)))?;
            if !status {
                store.migrate().await.context("applying migrations")?;
            }
            let (applied, pending) = isms_store::migrations::status(store.conn()).await?;
            for m in applied {
                println!("applied  {m}");
            }
            for m in &pending {
                println!("pending  {m}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what: ImportWhat::People { file } } => {
            let app = open(&s).await?;
            let data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let bar = ProgressBar::new(0);
            bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} people {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar()));
            let r = isms_app::people::import_csv(&app, &Principal::system(), &data, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
            bar.finish_and_clear();
            Ok(report_import(&file, r)?)
        }
        Command::Import { what: ImportWhat::Assets { file, dry_run } } => {
            let app = open(&s).await?;
            let data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if dry_run {
                return match isms_app::assets::transfer::preview(&app, &Principal::system(), &name, &data).await {
                    Ok(p) => {
                        println!("{}: would add {} and update {} assets; nothing written", file.display(), p.creates, p.updates);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => report_import(&file, Err(e)),
                };
            }
            let r = isms_app::assets::transfer::import(&app, &Principal::system(), &name, &data).await;
            Ok(report_import(&file, r)?)
        }
        Command::Import { what: ImportWhat::Indicators { feed, format, tlp, replace, file } } => {
            use isms_app::monitoring::intel;
            let app = open(&s).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("{}", file.display()))?;
            let sys = Principal::system();
            let id = match intel::list_feeds(&app, &sys).await?.into_iter().find(|f| f.name == feed) {
                Some(f) => f.id,
                None => {
                    let kind = format.clone().unwrap_or_else(|| isms_detect::intel::feed::Format::guess(&bytes).code().to_string());
                    intel::create_feed(&app, &sys, intel::FeedInput { name: feed.clone(), format: kind, default_tlp: tlp, enabled: true, ..Default::default() })
                        .await?
                        .id
                }
            };
            let started = std::time::Instant::now();
            let r = intel::import(&app, &sys, &id, &bytes, format.as_deref(), replace).await?;
            for x in &r.refused {
                eprintln!("{}: {x}", file.display());
            }
            println!(
                "indicators: {} added, {} updated, {} removed, {} refused, {} skipped ({} ms)",
                r.added,
                r.updated,
                r.removed,
                r.refused.len(),
                r.skipped,
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what: ImportWhat::Rules { paths } } => {
            let app = open(&s).await?;
            if paths.is_empty() {
                bail!("name at least one folder, rule file or ZIP archive");
            }
            let mut files = vec![];
            for p in &paths {
                if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
                    let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
                    files.extend(isms_app::monitoring::rules::files_from_zip(&bytes).map_err(|e| anyhow::anyhow!("{}: {e:?}", p.display()))?);
                } else {
                    for f in isms_detect::rule_files(p).with_context(|| format!("{}", p.display()))? {
                        let text = std::fs::read_to_string(&f).with_context(|| format!("{}", f.display()))?;
                        let name = f.strip_prefix(p).unwrap_or(&f).display().to_string();
                        files.push(isms_app::monitoring::rules::ImportFile { name: if name.is_empty() { f.display().to_string() } else { name }, text });
                    }
                }
            }
            let started = std::time::Instant::now();
            let r = isms_app::monitoring::rules::import(&app, &Principal::system(), files).await?;
            for f in &r.refused {
                eprintln!("{}:{}:{}: {}", f.file, f.line, f.column, f.reason);
            }
            println!(
                "rules: {} new, {} updated, {} unchanged, {} refused, {} kept as edited here, {} files skipped ({} ms)",
                r.created,
                r.updated,
                r.unchanged,
                r.refused.len(),
                r.kept_local.len(),
                r.skipped,
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Assets { what: AssetsWhat::Recheck } => {
            let app = open(&s).await?;
            let started = std::time::Instant::now();
            let r = isms_app::assets::conformance::recheck_all(&app, &Principal::system()).await?;
            println!(
                "re-checked {} assets in {} ms: {} findings opened, {} reopened, {} resolved, {} exceptions expired",
                r.assets,
                started.elapsed().as_millis(),
                r.opened,
                r.reopened,
                r.resolved,
                r.expired
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { what: AuditWhat::Verify } => {
            let app = open(&s).await?;
            let bar = ProgressBar::new(0);
            bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} entries").unwrap_or_else(|_| ProgressStyle::default_bar()));
            let start = Instant::now();
            let r = isms_app::audit::verify(&app, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            match r {
                Ok(n) => {
                    println!("ok: {n} entries verified in {:.2?}", start.elapsed());
                    Ok(ExitCode::SUCCESS)
                }
                Err(fault) => {
                    println!("FAILED: {fault}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Backup { file } => {
            let app = open(&s).await?;
            if !s.is_sqlite() {
                bail!("`isms backup` copies the embedded SQLite database; for PostgreSQL use pg_dump");
            }
            if file.exists() {
                bail!("{} exists already; choose a new file", file.display());
            }
            let path = file.to_str().context("the backup path is not valid UTF-8")?.replace('\'', "''");
            use isms_store::sea_orm::ConnectionTrait;
            app.store.conn().execute_unprepared(&format!("VACUUM INTO '{path}'")).await.context("writing the backup")?;
            println!("backup written to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, force } => restore(&s, &file, force).await.map(|_| ExitCode::SUCCESS),
        Command::Config { what: ConfigWhat::Check } => {
            println!("configuration is valid:");
            println!("{s:#?}");
            println!("database: {}", isms_store::redact_url(&s.database_url()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { what: AdminWhat::SetupLink } => {
            let app = open(&s).await?;
            match isms_app::setup::ensure_setup_token(&app).await? {
                Some(t) => println!("open {}/setup/{t} to create the first administrator", s.public_url()),
                None => println!("accounts exist already; sign in as an administrator instead"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Hunt(_) => unreachable!("handled before the runtime starts"),
        Command::Admin { what: AdminWhat::Token { user, role, companies, days, name } } => {
            let app = open(&s).await?;
            let role = role.parse::<isms_core::Role>().map_err(|e| anyhow::anyhow!("--role: {}", e.message))?;
            match isms_app::accounts::issue_token_for(&app, &user, isms_app::accounts::NewToken { name, role, companies, expires_in_days: days }).await {
                Ok((_, token)) => {
                    println!("{token}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(isms_app::AppError::Invalid(errors)) => {
                    for e in errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    Ok(ExitCode::from(2))
                }
                Err(isms_app::AppError::NotFound) => bail!("no account `{user}`"),
                Err(e) => Err(e.into()),
            }
        }
        Command::Admin { what: AdminWhat::Demo } => {
            let app = open(&s).await?;
            if isms_web::demo(&app).await? {
                println!("demo group loaded");
            } else {
                println!("the database holds companies already; nothing loaded");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn restore(s: &Settings, file: &Path, force: bool) -> Result<()> {
    let target = s.sqlite_path().context("`isms restore` replaces the embedded SQLite database; for PostgreSQL use pg_restore")?;
    if !file.exists() {
        bail!("{} does not exist", file.display());
    }
    if target.exists() && !force {
        bail!("{} exists; stop the server and pass --force to replace it", target.display());
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Copy beside the target and check the copy holds an isms schema; only then rename
    // it into place, so a bad file or a crash never leaves a broken database behind.
    let tmp = target.with_extension("db.restoring");
    std::fs::copy(file, &tmp).with_context(|| format!("copying to {}", tmp.display()))?;
    let check = async {
        let probe = Store::connect(&format!("sqlite://{}", tmp.display()), StoreOptions::default()).await.context("opening the backup")?;
        let (applied, _) = isms_store::migrations::status(probe.conn()).await.context("the file is not an isms database")?;
        probe.close().await?;
        if applied.is_empty() {
            bail!("{} holds no isms schema", file.display());
        }
        anyhow::Ok(())
    };
    if let Err(e) = check.await {
        for ext in ["db.restoring", "db.restoring-wal", "db.restoring-shm"] {
            let _ = std::fs::remove_file(target.with_extension(ext));
        }
        return Err(e);
    }
    for ext in ["db-wal", "db-shm", "db.restoring-wal", "db.restoring-shm"] {
        let _ = std::fs::remove_file(target.with_extension(ext));
    }
    std::fs::rename(&tmp, &target)?;
    println!("restored {} into {}", file.display(), target.display());
    Ok(())
}
