//! Incidents: the case with its facts, the companies and assets it touches, the people
//! added to it (need to know), its timeline (notes may be encrypted) and its regulatory
//! clocks.

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
enum People {
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
    Ref,
    Title,
    Kind,
    Status,
    Severity,
    Impact,
    Exposure,
    CompanyId,
    Description,
    ReportedBy,
    ReporterPersonId,
    DiscoveredMs,
    ReportedMs,
    TriageMs,
    ContainedMs,
    EradicatedMs,
    RecoveredMs,
    ReviewMs,
    ClosedMs,
    PersonalData,
    CustomerData,
    Sensitive,
    FinancialRisk,
    UnlawfulPurpose,
    PeopleAffected,
    StronglyEncrypted,
    EuResidents,
    DataCategories,
    Techniques,
    Exercise,
    RootCause,
    Lessons,
    ActionsNote,
    CloseReason,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum IncidentCompanies {
    Table,
    IncidentId,
    CompanyId,
}
#[derive(DeriveIden)]
enum IncidentAssets {
    Table,
    IncidentId,
    TargetKind,
    TargetId,
}
#[derive(DeriveIden)]
enum IncidentMembers {
    Table,
    IncidentId,
    UserId,
    AddedBy,
    AddedMs,
}
#[derive(DeriveIden)]
enum IncidentEvents {
    Table,
    Id,
    IncidentId,
    AtMs,
    Actor,
    Kind,
    Text,
    Personal,
}
#[derive(DeriveIden)]
enum IncidentClocks {
    Table,
    Id,
    IncidentId,
    Kind,
    DueMs,
    DoneMs,
    DoneBy,
    Note,
}
#[derive(DeriveIden)]
enum IncidentActions {
    Table,
    Id,
    IncidentId,
    Title,
    OwnerId,
    DueOn,
    Status,
    DoneMs,
    VerifiedMs,
    VerifiedBy,
    Note,
    CreatedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum IncidentObservables {
    Table,
    Id,
    IncidentId,
    Kind,
    Value,
    Note,
    CreatedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum IncidentEvidence {
    Table,
    Id,
    IncidentId,
    FileName,
    ContentType,
    Size,
    Sha256,
    Data,
    Description,
    CollectedBy,
    CollectedMs,
}
#[derive(DeriveIden)]
enum Playbooks {
    Table,
    Id,
    Code,
    Version,
    Name,
    Kind,
    MinSeverity,
    Tasks,
    Latest,
    CreatedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum IncidentTasks {
    Table,
    Id,
    IncidentId,
    PlaybookId,
    Title,
    Role,
    DueMs,
    DoneMs,
    DoneBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum IncidentReleases {
    Table,
    Id,
    IncidentId,
    Kind,
    Language,
    Body,
    Status,
    DraftedBy,
    ApprovedBy,
    ApprovedMs,
    ReleasedMs,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Drills {
    Table,
    Id,
    Title,
    PlannedOn,
    CompanyId,
    IncidentId,
    Participants,
    Findings,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum EvidenceCustody {
    Table,
    Id,
    EvidenceId,
    AtMs,
    Actor,
    Action,
    Party,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Incidents as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(id(I::Id))
                .col(ColumnDef::new(I::Ref).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(I::Title).string_len(300).not_null())
                .col(code(I::Kind))
                .col(code(I::Status))
                .col(ColumnDef::new(I::Severity).small_integer())
                .col(ColumnDef::new(I::Impact).string_len(32))
                .col(ColumnDef::new(I::Exposure).string_len(32))
                .col(ref_id(I::CompanyId).not_null())
                .col(ColumnDef::new(I::Description).text().not_null().default(""))
                .col(ref_id(I::ReportedBy))
                .col(ref_id(I::ReporterPersonId))
                .col(ms(I::DiscoveredMs))
                .col(ms(I::ReportedMs))
                .col(ColumnDef::new(I::TriageMs).big_integer())
                .col(ColumnDef::new(I::ContainedMs).big_integer())
                .col(ColumnDef::new(I::EradicatedMs).big_integer())
                .col(ColumnDef::new(I::RecoveredMs).big_integer())
                .col(ColumnDef::new(I::ReviewMs).big_integer())
                .col(ColumnDef::new(I::ClosedMs).big_integer())
                .col(ColumnDef::new(I::PersonalData).boolean())
                .col(flag(I::CustomerData))
                .col(flag(I::Sensitive))
                .col(flag(I::FinancialRisk))
                .col(flag(I::UnlawfulPurpose))
                .col(ColumnDef::new(I::PeopleAffected).big_integer())
                .col(flag(I::StronglyEncrypted))
                .col(flag(I::EuResidents))
                .col(ColumnDef::new(I::DataCategories).text().not_null().default(""))
                .col(ColumnDef::new(I::Techniques).text().not_null().default(""))
                .col(flag(I::Exercise))
                .col(ColumnDef::new(I::RootCause).text().not_null().default(""))
                .col(ColumnDef::new(I::Lessons).text().not_null().default(""))
                .col(ColumnDef::new(I::ActionsNote).text().not_null().default(""))
                .col(ColumnDef::new(I::CloseReason).text().not_null().default(""))
                .col(ms(I::CreatedMs))
                .col(ms(I::UpdatedMs))
                .foreign_key(&mut fk(I::Table, I::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(I::Table, I::ReportedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(I::Table, I::ReporterPersonId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_incidents_reported", &["reported_ms", "id"][..]),
            ("ix_incidents_status", &["status", "reported_ms"]),
            ("ix_incidents_company", &["company_id", "reported_ms"]),
            ("ix_incidents_reporter", &["reported_by", "reported_ms"]),
            ("ix_incidents_reporter_person", &["reporter_person_id"]),
        ] {
            m.create_index(index(name, I::Table, cols)).await?;
        }

        use IncidentCompanies as IC;
        m.create_table(
            Table::create()
                .table(IC::Table)
                .col(ref_id(IC::IncidentId).not_null())
                .col(ref_id(IC::CompanyId).not_null())
                .primary_key(Index::create().col(IC::IncidentId).col(IC::CompanyId))
                .foreign_key(&mut fk(IC::Table, IC::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(IC::Table, IC::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_companies_company", IC::Table, &["company_id"])).await?;

        use IncidentAssets as IA;
        m.create_table(
            Table::create()
                .table(IA::Table)
                .col(ref_id(IA::IncidentId).not_null())
                .col(code(IA::TargetKind))
                .col(ref_id(IA::TargetId).not_null())
                .primary_key(Index::create().col(IA::IncidentId).col(IA::TargetKind).col(IA::TargetId))
                .foreign_key(&mut fk(IA::Table, IA::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_assets_target", IA::Table, &["target_kind", "target_id"])).await?;

        use IncidentMembers as IM;
        m.create_table(
            Table::create()
                .table(IM::Table)
                .col(ref_id(IM::IncidentId).not_null())
                .col(ref_id(IM::UserId).not_null())
                .col(ref_id(IM::AddedBy))
                .col(ms(IM::AddedMs))
                .primary_key(Index::create().col(IM::IncidentId).col(IM::UserId))
                .foreign_key(&mut fk(IM::Table, IM::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(IM::Table, IM::UserId, Users::Table, Users::Id))
                .foreign_key(&mut fk(IM::Table, IM::AddedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_members_user", IM::Table, &["user_id"])).await?;
        m.create_index(index("ix_incident_members_added_by", IM::Table, &["added_by"])).await?;

        use IncidentEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(id(E::Id))
                .col(ref_id(E::IncidentId).not_null())
                .col(ms(E::AtMs))
                .col(ref_id(E::Actor))
                .col(code(E::Kind))
                .col(ColumnDef::new(E::Text).text().not_null().default(""))
                .col(flag(E::Personal))
                .foreign_key(&mut fk(E::Table, E::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(E::Table, E::Actor, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_events_incident", E::Table, &["incident_id", "at_ms"])).await?;
        m.create_index(index("ix_incident_events_actor", E::Table, &["actor"])).await?;

        use IncidentClocks as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ref_id(C::IncidentId).not_null())
                .col(code(C::Kind))
                .col(ms(C::DueMs))
                .col(ColumnDef::new(C::DoneMs).big_integer())
                .col(ref_id(C::DoneBy))
                .col(ColumnDef::new(C::Note).text().not_null().default(""))
                .foreign_key(&mut fk(C::Table, C::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(C::Table, C::DoneBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_incident_clocks_kind", C::Table, &["incident_id", "kind"]).unique().to_owned()).await?;
        m.create_index(index("ix_incident_clocks_due", C::Table, &["done_ms", "due_ms"])).await?;
        m.create_index(index("ix_incident_clocks_done_by", C::Table, &["done_by"])).await?;

        use IncidentActions as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ref_id(A::IncidentId).not_null())
                .col(ColumnDef::new(A::Title).string_len(300).not_null())
                .col(ref_id(A::OwnerId))
                .col(ColumnDef::new(A::DueOn).string_len(10).not_null())
                .col(code(A::Status))
                .col(ColumnDef::new(A::DoneMs).big_integer())
                .col(ColumnDef::new(A::VerifiedMs).big_integer())
                .col(ref_id(A::VerifiedBy))
                .col(ColumnDef::new(A::Note).text().not_null().default(""))
                .col(ref_id(A::CreatedBy))
                .col(ms(A::CreatedMs))
                .foreign_key(&mut fk(A::Table, A::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(A::Table, A::OwnerId, People::Table, People::Id))
                .foreign_key(&mut fk(A::Table, A::VerifiedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(A::Table, A::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_actions_incident", A::Table, &["incident_id", "due_on"])).await?;
        m.create_index(index("ix_incident_actions_open", A::Table, &["status", "due_on"])).await?;
        m.create_index(index("ix_incident_actions_owner", A::Table, &["owner_id", "status"])).await?;
        m.create_index(index("ix_incident_actions_verified_by", A::Table, &["verified_by"])).await?;
        m.create_index(index("ix_incident_actions_created_by", A::Table, &["created_by"])).await?;

        use IncidentObservables as O;
        m.create_table(
            Table::create()
                .table(O::Table)
                .col(id(O::Id))
                .col(ref_id(O::IncidentId).not_null())
                .col(code(O::Kind))
                .col(ColumnDef::new(O::Value).string_len(2048).not_null())
                .col(ColumnDef::new(O::Note).text().not_null().default(""))
                .col(ref_id(O::CreatedBy))
                .col(ms(O::CreatedMs))
                .foreign_key(&mut fk(O::Table, O::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(O::Table, O::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_incident_observables_value", O::Table, &["incident_id", "kind", "value"]).unique().to_owned()).await?;
        // Threat monitoring looks indicators up by kind and value.
        m.create_index(index("ix_incident_observables_lookup", O::Table, &["kind", "value"])).await?;
        m.create_index(index("ix_incident_observables_created_by", O::Table, &["created_by"])).await?;

        use IncidentEvidence as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(id(V::Id))
                .col(ref_id(V::IncidentId).not_null())
                .col(ColumnDef::new(V::FileName).string_len(200).not_null())
                .col(ColumnDef::new(V::ContentType).string_len(100).not_null())
                .col(ColumnDef::new(V::Size).big_integer().not_null())
                .col(ColumnDef::new(V::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(V::Data).blob().not_null())
                .col(ColumnDef::new(V::Description).text().not_null().default(""))
                .col(ref_id(V::CollectedBy))
                .col(ms(V::CollectedMs))
                .foreign_key(&mut fk(V::Table, V::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(V::Table, V::CollectedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_evidence_incident", V::Table, &["incident_id", "collected_ms"])).await?;
        m.create_index(index("ix_incident_evidence_collected_by", V::Table, &["collected_by"])).await?;

        use EvidenceCustody as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(id(K::Id))
                .col(ref_id(K::EvidenceId).not_null())
                .col(ms(K::AtMs))
                .col(ref_id(K::Actor))
                .col(code(K::Action))
                .col(ColumnDef::new(K::Party).string_len(200).not_null().default(""))
                .col(ColumnDef::new(K::Note).text().not_null().default(""))
                .foreign_key(&mut fk(K::Table, K::EvidenceId, V::Table, V::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(K::Table, K::Actor, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_evidence_custody_evidence", K::Table, &["evidence_id", "at_ms"])).await?;
        m.create_index(index("ix_evidence_custody_actor", K::Table, &["actor"])).await?;

        use Playbooks as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ColumnDef::new(P::Code).string_len(32).not_null())
                .col(ColumnDef::new(P::Version).integer().not_null())
                .col(ColumnDef::new(P::Name).string_len(200).not_null())
                .col(ColumnDef::new(P::Kind).string_len(32))
                .col(ColumnDef::new(P::MinSeverity).small_integer().not_null().default(1))
                .col(ColumnDef::new(P::Tasks).text().not_null())
                .col(flag(P::Latest))
                .col(ref_id(P::CreatedBy))
                .col(ms(P::CreatedMs))
                .foreign_key(&mut fk(P::Table, P::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_playbooks_version", P::Table, &["code", "version"]).unique().to_owned()).await?;
        m.create_index(index("ix_playbooks_latest", P::Table, &["latest", "code"])).await?;
        m.create_index(index("ix_playbooks_created_by", P::Table, &["created_by"])).await?;

        use IncidentTasks as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(id(T::Id))
                .col(ref_id(T::IncidentId).not_null())
                .col(ref_id(T::PlaybookId))
                .col(ColumnDef::new(T::Title).string_len(300).not_null())
                .col(code(T::Role))
                .col(ms(T::DueMs))
                .col(ColumnDef::new(T::DoneMs).big_integer())
                .col(ref_id(T::DoneBy))
                .col(ms(T::CreatedMs))
                .foreign_key(&mut fk(T::Table, T::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(T::Table, T::PlaybookId, P::Table, P::Id))
                .foreign_key(&mut fk(T::Table, T::DoneBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_incident_tasks_incident", T::Table, &["incident_id", "due_ms"])).await?;
        m.create_index(index("ix_incident_tasks_playbook", T::Table, &["playbook_id"])).await?;
        m.create_index(index("ix_incident_tasks_done_by", T::Table, &["done_by"])).await?;

        use IncidentReleases as RL;
        m.create_table(
            Table::create()
                .table(RL::Table)
                .col(id(RL::Id))
                .col(ref_id(RL::IncidentId).not_null())
                .col(code(RL::Kind))
                .col(code(RL::Language))
                .col(ColumnDef::new(RL::Body).text().not_null())
                .col(code(RL::Status))
                .col(ref_id(RL::DraftedBy))
                .col(ref_id(RL::ApprovedBy))
                .col(ColumnDef::new(RL::ApprovedMs).big_integer())
                .col(ColumnDef::new(RL::ReleasedMs).big_integer())
                .col(ms(RL::CreatedMs))
                .col(ms(RL::UpdatedMs))
                .foreign_key(&mut fk(RL::Table, RL::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(RL::Table, RL::DraftedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(RL::Table, RL::ApprovedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_incident_releases_kind", RL::Table, &["incident_id", "kind", "language"]).unique().to_owned()).await?;
        m.create_index(index("ix_incident_releases_drafted_by", RL::Table, &["drafted_by"])).await?;
        m.create_index(index("ix_incident_releases_approved_by", RL::Table, &["approved_by"])).await?;

        use Drills as DR;
        m.create_table(
            Table::create()
                .table(DR::Table)
                .col(id(DR::Id))
                .col(ColumnDef::new(DR::Title).string_len(300).not_null())
                .col(ColumnDef::new(DR::PlannedOn).string_len(10).not_null())
                .col(ref_id(DR::CompanyId))
                .col(ref_id(DR::IncidentId))
                .col(ColumnDef::new(DR::Participants).text().not_null().default(""))
                .col(ColumnDef::new(DR::Findings).text().not_null().default(""))
                .col(ref_id(DR::CreatedBy))
                .col(ms(DR::CreatedMs))
                .col(ms(DR::UpdatedMs))
                .foreign_key(&mut fk(DR::Table, DR::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(DR::Table, DR::IncidentId, I::Table, I::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(DR::Table, DR::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_drills_planned", DR::Table, &["planned_on"])).await?;
        m.create_index(index("ix_drills_company", DR::Table, &["company_id"])).await?;
        m.create_index(index("ix_drills_incident", DR::Table, &["incident_id"])).await?;
        m.create_index(index("ix_drills_created_by", DR::Table, &["created_by"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "drills",
            "incident_releases",
            "incident_tasks",
            "playbooks",
            "evidence_custody",
            "incident_evidence",
            "incident_observables",
            "incident_actions",
            "incident_clocks",
            "incident_events",
            "incident_members",
            "incident_assets",
            "incident_companies",
            "incidents",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
