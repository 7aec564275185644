//! Failed sign-ins are counted per user name in a table of their own, for names that
//! exist and names that do not alike, so an unknown name answers, waits and locks as a
//! known one does. Codes of the second factor are counted under a key of their own
//! (a name with a suffix no name may hold), so a known password buys no fresh guesses. A name is locked while its count is at the limit and its last
//! attempt is more recent than the lock's length, so the lock needs no column of its own.
//! The counters on `users` go: one counter, claimed atomically before a password is checked.

use super::columns::ms;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    FailedLogins,
    LockedUntilMs,
}
#[derive(DeriveIden)]
enum SignInThrottle {
    Table,
    Username,
    Failures,
    UpdatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use SignInThrottle as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(ColumnDef::new(T::Username).string_len(300).not_null().primary_key())
                .col(ColumnDef::new(T::Failures).integer().not_null().default(0))
                .col(ms(T::UpdatedMs))
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::FailedLogins).to_owned()).await?;
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::LockedUntilMs).to_owned()).await?;
        Ok(())
    }
}
