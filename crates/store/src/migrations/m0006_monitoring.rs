//! Threat monitoring: the event sources that send events (each with its token, field
//! mapping and health), the group's detection rules and their per-company or per-source
//! overrides, alerts with the events that raised them, events kept aside as malformed, and
//! per-minute ingest counters.

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
enum Users {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum EventSources {
    Table,
    Id,
    Name,
    CompanyId,
    Kind,
    TokenHash,
    TokenHint,
    FieldMap,
    ExpectedSecs,
    Enabled,
    LastEventMs,
    EventsTotal,
    MalformedTotal,
    SilentSinceMs,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum DetectionRules {
    Table,
    Id,
    RuleUid,
    Title,
    Level,
    Status,
    Origin,
    FileName,
    Body,
    Enabled,
    Error,
    Tags,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum RuleOverrides {
    Table,
    Id,
    RuleId,
    CompanyId,
    SourceId,
    Field,
    Value,
    Reason,
    ExpiresOn,
    CreatedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    CompanyId,
    SourceId,
    RuleId,
    Kind,
    Title,
    Severity,
    Host,
    UserName,
    GroupKey,
    Count,
    FirstMs,
    LastMs,
    State,
    Resolution,
    AssigneeId,
    AcknowledgedMs,
    AcknowledgedBy,
    ClosedMs,
    ClosedBy,
    Note,
    IncidentId,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum AlertEvents {
    Table,
    AlertId,
    Seq,
    AtMs,
    Host,
    UserName,
    Raw,
}
#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    Id,
    SourceId,
    CompanyId,
    ReceivedMs,
    Reason,
    Raw,
}
#[derive(DeriveIden)]
enum IngestMinutes {
    Table,
    SourceId,
    Minute,
    Events,
    Malformed,
    Alerts,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().default("").to_owned()
}

fn count(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use EventSources as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(id(S::Id))
                .col(ColumnDef::new(S::Name).string_len(120).not_null().unique_key())
                .col(ref_id(S::CompanyId))
                .col(code(S::Kind))
                .col(ColumnDef::new(S::TokenHash).string_len(64).not_null().unique_key())
                .col(ColumnDef::new(S::TokenHint).string_len(16).not_null())
                .col(text(S::FieldMap))
                .col(ColumnDef::new(S::ExpectedSecs).big_integer())
                .col(flag(S::Enabled))
                .col(ColumnDef::new(S::LastEventMs).big_integer())
                .col(count(S::EventsTotal))
                .col(count(S::MalformedTotal))
                .col(ColumnDef::new(S::SilentSinceMs).big_integer())
                .col(ms(S::CreatedMs))
                .col(ms(S::UpdatedMs))
                .foreign_key(&mut fk(S::Table, S::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_event_sources_company", S::Table, &["company_id"])).await?;

        use DetectionRules as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ColumnDef::new(R::RuleUid).string_len(64))
                .col(ColumnDef::new(R::Title).string_len(300).not_null())
                .col(code(R::Level))
                .col(ColumnDef::new(R::Status).string_len(32).not_null().default(""))
                .col(code(R::Origin))
                .col(ColumnDef::new(R::FileName).string_len(300).not_null())
                .col(ColumnDef::new(R::Body).text().not_null())
                .col(flag(R::Enabled))
                .col(ColumnDef::new(R::Error).text())
                .col(text(R::Tags))
                .col(ref_id(R::CreatedBy))
                .col(ms(R::CreatedMs))
                .col(ms(R::UpdatedMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_detection_rules_file", R::Table, &["file_name"]).unique().to_owned()).await?;
        m.create_index(index("ix_detection_rules_uid", R::Table, &["rule_uid"])).await?;

        use RuleOverrides as O;
        m.create_table(
            Table::create()
                .table(O::Table)
                .col(id(O::Id))
                .col(ref_id(O::RuleId).not_null())
                .col(ref_id(O::CompanyId))
                .col(ref_id(O::SourceId))
                .col(ColumnDef::new(O::Field).string_len(200))
                .col(ColumnDef::new(O::Value).string_len(1000))
                .col(ColumnDef::new(O::Reason).text().not_null())
                .col(ColumnDef::new(O::ExpiresOn).string_len(10))
                .col(ref_id(O::CreatedBy))
                .col(ms(O::CreatedMs))
                .foreign_key(&mut fk(O::Table, O::RuleId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(O::Table, O::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(O::Table, O::SourceId, S::Table, S::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_rule_overrides_rule", O::Table, &["rule_id"])).await?;

        use Alerts as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ref_id(A::CompanyId))
                .col(ref_id(A::SourceId))
                .col(ref_id(A::RuleId))
                .col(code(A::Kind))
                .col(ColumnDef::new(A::Title).string_len(300).not_null())
                .col(code(A::Severity))
                .col(ColumnDef::new(A::Host).string_len(255).not_null().default(""))
                .col(ColumnDef::new(A::UserName).string_len(255).not_null().default(""))
                .col(ColumnDef::new(A::GroupKey).string_len(700).not_null())
                .col(count(A::Count))
                .col(ms(A::FirstMs))
                .col(ms(A::LastMs))
                .col(code(A::State))
                .col(ColumnDef::new(A::Resolution).string_len(32))
                .col(ref_id(A::AssigneeId))
                .col(ColumnDef::new(A::AcknowledgedMs).big_integer())
                .col(ref_id(A::AcknowledgedBy))
                .col(ColumnDef::new(A::ClosedMs).big_integer())
                .col(ref_id(A::ClosedBy))
                .col(text(A::Note))
                .col(ref_id(A::IncidentId))
                .col(ms(A::CreatedMs))
                .col(ms(A::UpdatedMs))
                .foreign_key(&mut fk(A::Table, A::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(A::Table, A::SourceId, S::Table, S::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(A::Table, A::RuleId, R::Table, R::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(A::Table, A::AssigneeId, Users::Table, Users::Id))
                .foreign_key(&mut fk(A::Table, A::IncidentId, Incidents::Table, Incidents::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_alerts_group", A::Table, &["group_key", "state"])).await?;
        m.create_index(index("ix_alerts_queue", A::Table, &["state", "last_ms"])).await?;
        m.create_index(index("ix_alerts_company", A::Table, &["company_id", "last_ms"])).await?;
        m.create_index(index("ix_alerts_last", A::Table, &["last_ms"])).await?;

        use AlertEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(ref_id(E::AlertId).not_null())
                .col(ColumnDef::new(E::Seq).integer().not_null())
                .col(ms(E::AtMs))
                .col(ColumnDef::new(E::Host).string_len(255).not_null().default(""))
                .col(ColumnDef::new(E::UserName).string_len(255).not_null().default(""))
                .col(ColumnDef::new(E::Raw).text().not_null())
                .primary_key(Index::create().col(E::AlertId).col(E::Seq))
                .foreign_key(&mut fk(E::Table, E::AlertId, A::Table, A::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;

        use DeadLetters as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(id(D::Id))
                .col(ref_id(D::SourceId))
                .col(ref_id(D::CompanyId))
                .col(ms(D::ReceivedMs))
                .col(ColumnDef::new(D::Reason).text().not_null())
                .col(ColumnDef::new(D::Raw).text().not_null())
                .foreign_key(&mut fk(D::Table, D::SourceId, S::Table, S::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_dead_letters_received", D::Table, &["received_ms"])).await?;

        use IngestMinutes as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(ref_id(I::SourceId).not_null())
                .col(ColumnDef::new(I::Minute).big_integer().not_null())
                .col(count(I::Events))
                .col(count(I::Malformed))
                .col(count(I::Alerts))
                .primary_key(Index::create().col(I::SourceId).col(I::Minute))
                .foreign_key(&mut fk(I::Table, I::SourceId, S::Table, S::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_ingest_minutes_minute", I::Table, &["minute"])).await?;
        Ok(())
    }
}
