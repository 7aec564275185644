//! Batches of events already evaluated, by the key their transport gave them (a JetStream
//! stream sequence): written in the same transaction as the batch's alerts, so a batch
//! delivered again after a crash is recognised and not counted twice.

use super::columns::ms;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IngestDone {
    Table,
    Key,
    DoneMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IngestDone::Table)
                .col(ColumnDef::new(IngestDone::Key).string_len(100).not_null().primary_key())
                .col(ms(IngestDone::DoneMs))
                .to_owned(),
        )
        .await?;
        m.create_index(super::columns::index("ix_ingest_done_ms", IngestDone::Table, &["done_ms"])).await?;
        Ok(())
    }
}
