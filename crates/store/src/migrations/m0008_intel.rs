//! Threat intelligence: the feeds indicators come from (TAXII 2.1 collections pulled on a
//! schedule, or files imported by hand), the indicators with their TLP, confidence and
//! validity, and sightings: which indicator was seen where, how often, and in which alert.
//! Also suppressions: an analyst silences the alerts of one group (same rule or indicator,
//! same host, same company) with a reason until a date.

use super::columns::{code, fk, flag, id, index, ms, ref_id};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum EventSources {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum IntelFeeds {
    Table,
    Id,
    Name,
    Format,
    Url,
    Collection,
    Auth,
    Username,
    Secret,
    DefaultTlp,
    DefaultConfidence,
    IntervalMinutes,
    Enabled,
    Cursor,
    NextPullMs,
    ClaimedUntilMs,
    LastPullMs,
    LastOkMs,
    LastError,
    LastAdded,
    LastRefused,
    IndicatorCount,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Indicators {
    Table,
    Id,
    FeedId,
    Kind,
    Value,
    ExternalId,
    Name,
    Tlp,
    Confidence,
    ValidFromMs,
    ValidUntilMs,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum AlertSuppressions {
    Table,
    Id,
    GroupKey,
    CompanyId,
    AlertId,
    Title,
    Reason,
    ExpiresOn,
    CreatedBy,
    CreatedMs,
    LiftedMs,
    LiftedBy,
}
#[derive(DeriveIden)]
enum Sightings {
    Table,
    Id,
    SightingKey,
    IndicatorId,
    CompanyId,
    SourceId,
    AlertId,
    Observed,
    Count,
    FirstMs,
    LastMs,
    CreatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use IntelFeeds as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(id(F::Id))
                .col(ColumnDef::new(F::Name).string_len(120).not_null().unique_key())
                .col(code(F::Format))
                .col(ColumnDef::new(F::Url).string_len(2048))
                .col(ColumnDef::new(F::Collection).string_len(200))
                .col(code(F::Auth))
                .col(ColumnDef::new(F::Username).string_len(200))
                .col(ColumnDef::new(F::Secret).text())
                .col(code(F::DefaultTlp))
                .col(ColumnDef::new(F::DefaultConfidence).integer().not_null().default(50))
                .col(ColumnDef::new(F::IntervalMinutes).integer())
                .col(flag(F::Enabled))
                .col(ColumnDef::new(F::Cursor).string_len(64))
                .col(ColumnDef::new(F::NextPullMs).big_integer())
                .col(ColumnDef::new(F::ClaimedUntilMs).big_integer())
                .col(ColumnDef::new(F::LastPullMs).big_integer())
                .col(ColumnDef::new(F::LastOkMs).big_integer())
                .col(ColumnDef::new(F::LastError).text())
                .col(ColumnDef::new(F::LastAdded).big_integer().not_null().default(0))
                .col(ColumnDef::new(F::LastRefused).text().not_null().default(""))
                .col(ColumnDef::new(F::IndicatorCount).big_integer().not_null().default(0))
                .col(ref_id(F::CreatedBy))
                .col(ms(F::CreatedMs))
                .col(ms(F::UpdatedMs))
                .to_owned(),
        )
        .await?;

        use Indicators as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(id(I::Id))
                .col(ref_id(I::FeedId).not_null())
                .col(code(I::Kind))
                .col(ColumnDef::new(I::Value).string_len(2048).not_null())
                .col(ColumnDef::new(I::ExternalId).string_len(120))
                .col(ColumnDef::new(I::Name).string_len(300).not_null().default(""))
                .col(code(I::Tlp))
                .col(ColumnDef::new(I::Confidence).integer().not_null())
                .col(ColumnDef::new(I::ValidFromMs).big_integer())
                .col(ColumnDef::new(I::ValidUntilMs).big_integer())
                .col(ms(I::CreatedMs))
                .col(ms(I::UpdatedMs))
                .foreign_key(&mut fk(I::Table, I::FeedId, F::Table, F::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_indicators_feed_value", I::Table, &["feed_id", "kind", "value"]).unique().to_owned()).await?;
        m.create_index(index("ix_indicators_value", I::Table, &["value"])).await?;

        use Sightings as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(id(S::Id))
                .col(ColumnDef::new(S::SightingKey).string_len(80).not_null().unique_key())
                .col(ref_id(S::IndicatorId).not_null())
                .col(ref_id(S::CompanyId))
                .col(ref_id(S::SourceId))
                .col(ref_id(S::AlertId))
                .col(ColumnDef::new(S::Observed).string_len(2048).not_null())
                .col(ColumnDef::new(S::Count).big_integer().not_null().default(0))
                .col(ms(S::FirstMs))
                .col(ms(S::LastMs))
                .col(ms(S::CreatedMs))
                .foreign_key(&mut fk(S::Table, S::IndicatorId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(S::Table, S::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(S::Table, S::SourceId, EventSources::Table, EventSources::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(S::Table, S::AlertId, Alerts::Table, Alerts::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sightings_indicator", S::Table, &["indicator_id"])).await?;
        m.create_index(index("ix_sightings_alert", S::Table, &["alert_id"])).await?;
        m.create_index(index("ix_sightings_last", S::Table, &["last_ms"])).await?;

        use AlertSuppressions as X;
        m.create_table(
            Table::create()
                .table(X::Table)
                .col(id(X::Id))
                .col(ColumnDef::new(X::GroupKey).string_len(700).not_null())
                .col(ref_id(X::CompanyId))
                .col(ref_id(X::AlertId))
                .col(ColumnDef::new(X::Title).string_len(300).not_null())
                .col(ColumnDef::new(X::Reason).text().not_null())
                .col(ColumnDef::new(X::ExpiresOn).string_len(10).not_null())
                .col(ref_id(X::CreatedBy))
                .col(ms(X::CreatedMs))
                .col(ColumnDef::new(X::LiftedMs).big_integer())
                .col(ref_id(X::LiftedBy))
                .foreign_key(&mut fk(X::Table, X::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(X::Table, X::AlertId, Alerts::Table, Alerts::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(X::Table, X::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_alert_suppressions_group", X::Table, &["group_key"])).await?;
        Ok(())
    }
}
