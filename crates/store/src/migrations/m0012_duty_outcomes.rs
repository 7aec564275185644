//! A case's legal clocks and playbook tasks end in one of two ways: done, or (a clock)
//! not applicable / (a task) cancelled, each with its reason. A case closes only when
//! none is left open, so the way each ended is kept beside it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentClocks {
    Table,
    Outcome,
}
#[derive(DeriveIden)]
enum IncidentTasks {
    Table,
    Outcome,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table(IncidentClocks::Table)
                .add_column(ColumnDef::new(IncidentClocks::Outcome).string_len(40).not_null().default("done"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(IncidentTasks::Table).add_column(ColumnDef::new(IncidentTasks::Outcome).string_len(40).not_null().default("done")).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(IncidentTasks::Table).add_column(ColumnDef::new(IncidentTasks::Reason).text().not_null().default("")).to_owned())
            .await?;
        Ok(())
    }
}
