//! Every foreign key gets an index that starts with its column: deleting or looking up
//! the referenced row (an event source, a rule, a user, a rotation) then never scans the
//! referencing table. The monitoring and on-call tables lacked them (found by the schema
//! test). Nullable references are indexed only where set, so the many alerts without an
//! incident or an assignee cost nothing to write.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column): the references that had no index.
const MISSING: [(&str, &str); 22] = [
    ("rule_overrides", "source_id"),
    ("rule_overrides", "company_id"),
    ("alerts", "incident_id"),
    ("alerts", "assignee_id"),
    ("alerts", "rule_id"),
    ("alerts", "source_id"),
    ("dead_letters", "source_id"),
    ("sightings", "source_id"),
    ("sightings", "company_id"),
    ("alert_suppressions", "created_by"),
    ("alert_suppressions", "alert_id"),
    ("alert_suppressions", "company_id"),
    ("oncall_rotations", "created_by"),
    ("oncall_rotations", "lead_user_id"),
    ("oncall_rotations", "company_id"),
    ("oncall_members", "user_id"),
    ("oncall_covers", "created_by"),
    ("oncall_covers", "user_id"),
    ("alert_pages", "user_id"),
    ("alert_pages", "company_id"),
    ("alert_pages", "rotation_id"),
    ("raw_events", "source_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (table, column) in MISSING {
            // Partial indexes read the same on SQLite and PostgreSQL.
            db.execute_unprepared(&format!("CREATE INDEX IF NOT EXISTS ix_{table}_{column} ON {table} ({column}) WHERE {column} IS NOT NULL")).await?;
        }
        Ok(())
    }
}
