//! Versioned migrations, applied at start and by `isms migrate`. A migration, once
//! released, is never edited: a change is a new file.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait};
use sea_orm_migration::prelude::*;

mod columns;
mod m0001_foundation;
mod m0002_assets;
mod m0003_policies;
mod m0004_incidents;
mod m0005_compliance;
mod m0006_monitoring;
mod m0007_ingest;
mod m0008_intel;
mod m0009_oncall_raw_events;
mod m0010_sign_in_throttle;
mod m0011_foreign_key_indexes;
mod m0012_duty_outcomes;
mod m0013_notice_tasks;
mod m0014_alert_titles;
mod m0015_training;
mod m0016_training_rule;
mod m0017_drills;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_assets::Migration),
            Box::new(m0003_policies::Migration),
            Box::new(m0004_incidents::Migration),
            Box::new(m0005_compliance::Migration),
            Box::new(m0006_monitoring::Migration),
            Box::new(m0007_ingest::Migration),
            Box::new(m0008_intel::Migration),
            Box::new(m0009_oncall_raw_events::Migration),
            Box::new(m0010_sign_in_throttle::Migration),
            Box::new(m0011_foreign_key_indexes::Migration),
            Box::new(m0012_duty_outcomes::Migration),
            Box::new(m0013_notice_tasks::Migration),
            Box::new(m0014_alert_titles::Migration),
            Box::new(m0015_training::Migration),
            Box::new(m0016_training_rule::Migration),
            Box::new(m0017_drills::Migration),
        ]
    }
}

/// An arbitrary constant that names the migration lock among PostgreSQL advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x6973_6d73_0001;

pub async fn run(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")).await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}

/// Names of applied and pending migrations, for `isms migrate --status`.
pub async fn status(db: &DatabaseConnection) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let applied = Migrator::get_applied_migrations(db).await?.iter().map(|m| m.name().to_owned()).collect();
    let pending = Migrator::get_pending_migrations(db).await?.iter().map(|m| m.name().to_owned()).collect();
    Ok((applied, pending))
}
