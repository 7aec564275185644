//! Alerts raised by a threat indicator or a silent source kept an English sentence as
//! their title ("Threat indicator ipv4 …", "Source … is silent"). They now keep what the
//! sentence was about — the match, the source's name — and pages say it in the reader's
//! language. This rewrites the titles already kept.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // SUBSTR and LENGTH count characters on both SQLite and PostgreSQL.
        db.execute_unprepared("UPDATE alerts SET title = SUBSTR(title, 18) WHERE kind = 'indicator' AND title LIKE 'Threat indicator %'").await?;
        db.execute_unprepared("UPDATE alerts SET title = SUBSTR(title, 8, LENGTH(title) - 17) WHERE kind = 'silence' AND title LIKE 'Source % is silent'")
            .await?;
        Ok(())
    }
}
