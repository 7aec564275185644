//! A notification that asks for something ("please approve", "please read", "review
//! due") names the task it asks for; when the task is done — by its recipient or by
//! someone else — every notification about it is marked done, so inboxes stop asking.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    TaskKey,
    DoneMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Notifications::Table).add_column(ColumnDef::new(Notifications::TaskKey).string_len(200).null()).to_owned()).await?;
        m.alter_table(Table::alter().table(Notifications::Table).add_column(ColumnDef::new(Notifications::DoneMs).big_integer().null()).to_owned()).await?;
        m.create_index(Index::create().name("ix_notifications_task_key").table(Notifications::Table).col(Notifications::TaskKey).to_owned()).await?;
        Ok(())
    }
}
