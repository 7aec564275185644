//! On-call rotations: who answers for new alerts, in turn, with covers standing in; and
//! the pages sent for each alert, with the time the next escalation is due. Also the
//! recent raw events of the sources that keep them, for search, pruned by age and size.

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
enum Alerts {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum OncallRotations {
    Table,
    Id,
    Name,
    CompanyId,
    MinSeverity,
    AckMinutes,
    ShiftHours,
    AnchorMs,
    LeadUserId,
    Enabled,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum OncallMembers {
    Table,
    Id,
    RotationId,
    Position,
    UserId,
}
#[derive(DeriveIden)]
enum OncallCovers {
    Table,
    Id,
    RotationId,
    UserId,
    FromMs,
    UntilMs,
    Reason,
    CreatedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum EventSources {
    Table,
    Id,
    KeepRaw,
}
#[derive(DeriveIden)]
enum RawEvents {
    Table,
    Id,
    CompanyId,
    SourceId,
    ReceivedMs,
    EventMs,
    Host,
    UserName,
    Body,
    Bytes,
}
#[derive(DeriveIden)]
enum AlertPages {
    Table,
    Id,
    AlertId,
    RotationId,
    CompanyId,
    UserId,
    Reason,
    PagedMs,
    EscalateMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use OncallRotations as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ColumnDef::new(R::Name).string_len(120).not_null().unique_key())
                .col(ref_id(R::CompanyId))
                .col(code(R::MinSeverity))
                .col(ColumnDef::new(R::AckMinutes).integer().not_null())
                .col(ColumnDef::new(R::ShiftHours).integer().not_null())
                .col(ms(R::AnchorMs))
                .col(ref_id(R::LeadUserId))
                .col(flag(R::Enabled))
                .col(ref_id(R::CreatedBy))
                .col(ms(R::CreatedMs))
                .col(ms(R::UpdatedMs))
                .foreign_key(&mut fk(R::Table, R::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(R::Table, R::LeadUserId, Users::Table, Users::Id))
                .foreign_key(&mut fk(R::Table, R::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;

        use OncallMembers as M;
        m.create_table(
            Table::create()
                .table(M::Table)
                .col(id(M::Id))
                .col(ref_id(M::RotationId).not_null())
                .col(ColumnDef::new(M::Position).integer().not_null())
                .col(ref_id(M::UserId).not_null())
                .foreign_key(&mut fk(M::Table, M::RotationId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(M::Table, M::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_oncall_members_position", M::Table, &["rotation_id", "position"]).unique().to_owned()).await?;

        use OncallCovers as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ref_id(C::RotationId).not_null())
                .col(ref_id(C::UserId).not_null())
                .col(ms(C::FromMs))
                .col(ms(C::UntilMs))
                .col(ColumnDef::new(C::Reason).text().not_null())
                .col(ref_id(C::CreatedBy))
                .col(ms(C::CreatedMs))
                .foreign_key(&mut fk(C::Table, C::RotationId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(C::Table, C::UserId, Users::Table, Users::Id))
                .foreign_key(&mut fk(C::Table, C::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_oncall_covers_rotation", C::Table, &["rotation_id", "until_ms"])).await?;

        use AlertPages as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ref_id(P::AlertId).not_null())
                .col(ref_id(P::RotationId))
                .col(ref_id(P::CompanyId))
                .col(ref_id(P::UserId).not_null())
                .col(code(P::Reason))
                .col(ms(P::PagedMs))
                .col(ColumnDef::new(P::EscalateMs).big_integer())
                .foreign_key(&mut fk(P::Table, P::AlertId, Alerts::Table, Alerts::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(P::Table, P::RotationId, R::Table, R::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(P::Table, P::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(P::Table, P::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_alert_pages_alert", P::Table, &["alert_id"])).await?;
        m.create_index(index("ix_alert_pages_escalate", P::Table, &["escalate_ms"])).await?;

        m.alter_table(Table::alter().table(EventSources::Table).add_column(flag(EventSources::KeepRaw)).to_owned()).await?;
        use RawEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(id(E::Id))
                .col(ref_id(E::CompanyId))
                .col(ref_id(E::SourceId).not_null())
                .col(ms(E::ReceivedMs))
                .col(ms(E::EventMs))
                .col(ColumnDef::new(E::Host).string_len(255).not_null())
                .col(ColumnDef::new(E::UserName).string_len(255).not_null())
                .col(ColumnDef::new(E::Body).text().not_null())
                .col(ColumnDef::new(E::Bytes).integer().not_null())
                .foreign_key(&mut fk(E::Table, E::SourceId, EventSources::Table, EventSources::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        // Pruning walks the oldest first and adds up sizes from the index alone.
        m.create_index(index("ix_raw_events_received", E::Table, &["received_ms", "bytes"])).await?;
        m.create_index(index("ix_raw_events_time", E::Table, &["event_ms"])).await?;
        Ok(())
    }
}
