//! Compliance and risk: frameworks as trees of requirements, mappings between them, the
//! group's controls with their evidence and the requirements they satisfy, the Statement
//! of Applicability's decisions per scope, and the risk register with its treatment
//! actions, and the findings raised when a review or an action falls overdue.

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
enum InformationAssets {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Frameworks {
    Table,
    Id,
    Code,
    Name,
    Version,
    Publisher,
    Description,
    Builtin,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Requirements {
    Table,
    Id,
    FrameworkId,
    Ref,
    ParentId,
    Depth,
    Position,
    Leaf,
    Title,
    TitleJa,
    Description,
}
#[derive(DeriveIden)]
enum RequirementMappings {
    Table,
    FromId,
    ToId,
    Relation,
}
#[derive(DeriveIden)]
enum Controls {
    Table,
    Id,
    Code,
    Title,
    Description,
    CompanyId,
    OwnerId,
    Status,
    ReviewMonths,
    ReviewDue,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum ControlCompanies {
    Table,
    ControlId,
    CompanyId,
}
#[derive(DeriveIden)]
enum ControlRequirements {
    Table,
    ControlId,
    RequirementId,
}
#[derive(DeriveIden)]
enum ControlEvidence {
    Table,
    Id,
    ControlId,
    Kind,
    Title,
    Url,
    FileName,
    ContentType,
    Size,
    Sha256,
    Data,
    EvidenceOn,
    AddedBy,
    AddedMs,
}
#[derive(DeriveIden)]
enum SoaEntries {
    Table,
    Scope,
    RequirementId,
    FrameworkId,
    Applicable,
    Justification,
    UpdatedBy,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Risks {
    Table,
    Id,
    Ref,
    Title,
    Description,
    CompanyId,
    OwnerId,
    Threat,
    Vulnerability,
    InherentLikelihood,
    InherentImpact,
    InherentScore,
    ResidualLikelihood,
    ResidualImpact,
    ResidualScore,
    ResidualReason,
    Treatment,
    Plan,
    Status,
    AcceptedBy,
    AcceptedMs,
    AcceptanceReason,
    AcceptanceExpires,
    ReviewDue,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum RiskAssets {
    Table,
    RiskId,
    AssetId,
}
#[derive(DeriveIden)]
enum RiskControls {
    Table,
    RiskId,
    ControlId,
}
#[derive(DeriveIden)]
enum ReviewFindings {
    Table,
    Id,
    Key,
    Source,
    RecordId,
    CompanyId,
    Title,
    DueOn,
    OpenedMs,
    ClosedMs,
}
#[derive(DeriveIden)]
enum RiskActions {
    Table,
    Id,
    RiskId,
    Title,
    ControlId,
    OwnerId,
    DueOn,
    DoneMs,
    CreatedBy,
    CreatedMs,
}

fn date(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(10).to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().default("").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Frameworks as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(id(F::Id))
                .col(ColumnDef::new(F::Code).string_len(40).not_null().unique_key())
                .col(ColumnDef::new(F::Name).string_len(200).not_null())
                .col(ColumnDef::new(F::Version).string_len(40).not_null().default(""))
                .col(ColumnDef::new(F::Publisher).string_len(200).not_null().default(""))
                .col(text(F::Description))
                .col(flag(F::Builtin))
                .col(ms(F::CreatedMs))
                .col(ms(F::UpdatedMs))
                .to_owned(),
        )
        .await?;

        use Requirements as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ref_id(R::FrameworkId).not_null())
                .col(ColumnDef::new(R::Ref).string_len(64).not_null())
                .col(ref_id(R::ParentId))
                .col(ColumnDef::new(R::Depth).small_integer().not_null())
                .col(ColumnDef::new(R::Position).integer().not_null())
                .col(flag(R::Leaf))
                .col(ColumnDef::new(R::Title).string_len(500).not_null())
                .col(ColumnDef::new(R::TitleJa).string_len(500).not_null().default(""))
                .col(text(R::Description))
                .foreign_key(&mut fk(R::Table, R::FrameworkId, F::Table, F::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(R::Table, R::ParentId, R::Table, R::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_requirements_ref", R::Table, &["framework_id", "ref"]).unique().to_owned()).await?;
        m.create_index(index("ix_requirements_position", R::Table, &["framework_id", "position"])).await?;
        m.create_index(index("ix_requirements_parent", R::Table, &["parent_id"])).await?;

        use RequirementMappings as RM;
        m.create_table(
            Table::create()
                .table(RM::Table)
                .col(ref_id(RM::FromId).not_null())
                .col(ref_id(RM::ToId).not_null())
                .col(code(RM::Relation))
                .primary_key(Index::create().col(RM::FromId).col(RM::ToId))
                .foreign_key(&mut fk(RM::Table, RM::FromId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(RM::Table, RM::ToId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_requirement_mappings_to", RM::Table, &["to_id"])).await?;

        use Controls as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ColumnDef::new(C::Code).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(C::Title).string_len(300).not_null())
                .col(text(C::Description))
                .col(ref_id(C::CompanyId))
                .col(ref_id(C::OwnerId))
                .col(code(C::Status))
                .col(ColumnDef::new(C::ReviewMonths).integer().not_null())
                .col(date(C::ReviewDue))
                .col(ms(C::CreatedMs))
                .col(ms(C::UpdatedMs))
                .foreign_key(&mut fk(C::Table, C::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(C::Table, C::OwnerId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_controls_company", C::Table, &["company_id"])).await?;
        m.create_index(index("ix_controls_owner", C::Table, &["owner_id"])).await?;
        m.create_index(index("ix_controls_review", C::Table, &["review_due"])).await?;

        use ControlCompanies as CC;
        m.create_table(
            Table::create()
                .table(CC::Table)
                .col(ref_id(CC::ControlId).not_null())
                .col(ref_id(CC::CompanyId).not_null())
                .primary_key(Index::create().col(CC::ControlId).col(CC::CompanyId))
                .foreign_key(&mut fk(CC::Table, CC::ControlId, C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(CC::Table, CC::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_control_companies_company", CC::Table, &["company_id"])).await?;

        use ControlRequirements as CR;
        m.create_table(
            Table::create()
                .table(CR::Table)
                .col(ref_id(CR::ControlId).not_null())
                .col(ref_id(CR::RequirementId).not_null())
                .primary_key(Index::create().col(CR::ControlId).col(CR::RequirementId))
                .foreign_key(&mut fk(CR::Table, CR::ControlId, C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(CR::Table, CR::RequirementId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_control_requirements_requirement", CR::Table, &["requirement_id"])).await?;

        use ControlEvidence as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(id(E::Id))
                .col(ref_id(E::ControlId).not_null())
                .col(code(E::Kind))
                .col(ColumnDef::new(E::Title).string_len(300).not_null())
                .col(ColumnDef::new(E::Url).string_len(2000).not_null().default(""))
                .col(ColumnDef::new(E::FileName).string_len(200).not_null().default(""))
                .col(ColumnDef::new(E::ContentType).string_len(100).not_null().default(""))
                .col(ColumnDef::new(E::Size).big_integer().not_null().default(0))
                .col(ColumnDef::new(E::Sha256).string_len(64).not_null().default(""))
                .col(ColumnDef::new(E::Data).blob())
                .col(date(E::EvidenceOn).not_null())
                .col(ref_id(E::AddedBy))
                .col(ms(E::AddedMs))
                .foreign_key(&mut fk(E::Table, E::ControlId, C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(E::Table, E::AddedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_control_evidence_control", E::Table, &["control_id", "evidence_on"])).await?;
        m.create_index(index("ix_control_evidence_added_by", E::Table, &["added_by"])).await?;

        use SoaEntries as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(ColumnDef::new(S::Scope).string_len(36).not_null())
                .col(ref_id(S::RequirementId).not_null())
                .col(ref_id(S::FrameworkId).not_null())
                .col(ColumnDef::new(S::Applicable).boolean().not_null())
                .col(text(S::Justification))
                .col(ref_id(S::UpdatedBy))
                .col(ms(S::UpdatedMs))
                .primary_key(Index::create().col(S::Scope).col(S::RequirementId))
                .foreign_key(&mut fk(S::Table, S::RequirementId, R::Table, R::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(S::Table, S::FrameworkId, F::Table, F::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(S::Table, S::UpdatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_soa_entries_framework", S::Table, &["framework_id", "scope"])).await?;
        m.create_index(index("ix_soa_entries_requirement", S::Table, &["requirement_id"])).await?;
        m.create_index(index("ix_soa_entries_updated_by", S::Table, &["updated_by"])).await?;

        use Risks as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(id(K::Id))
                .col(ColumnDef::new(K::Ref).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(K::Title).string_len(300).not_null())
                .col(text(K::Description))
                .col(ref_id(K::CompanyId).not_null())
                .col(ref_id(K::OwnerId))
                .col(text(K::Threat))
                .col(text(K::Vulnerability))
                .col(ColumnDef::new(K::InherentLikelihood).small_integer().not_null())
                .col(ColumnDef::new(K::InherentImpact).small_integer().not_null())
                .col(ColumnDef::new(K::InherentScore).integer().not_null())
                .col(ColumnDef::new(K::ResidualLikelihood).small_integer().not_null())
                .col(ColumnDef::new(K::ResidualImpact).small_integer().not_null())
                .col(ColumnDef::new(K::ResidualScore).integer().not_null())
                .col(text(K::ResidualReason))
                .col(code(K::Treatment))
                .col(text(K::Plan))
                .col(code(K::Status))
                .col(ref_id(K::AcceptedBy))
                .col(ColumnDef::new(K::AcceptedMs).big_integer())
                .col(text(K::AcceptanceReason))
                .col(date(K::AcceptanceExpires))
                .col(date(K::ReviewDue))
                .col(ms(K::CreatedMs))
                .col(ms(K::UpdatedMs))
                .foreign_key(&mut fk(K::Table, K::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(K::Table, K::OwnerId, People::Table, People::Id))
                .foreign_key(&mut fk(K::Table, K::AcceptedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        // Lists walk an index in their order (residual score, then reference, both
        // descending), alone or within a company.
        for (name, cols) in [
            ("ix_risks_company", &["company_id", "residual_score", "ref"][..]),
            ("ix_risks_residual", &["residual_score", "ref"]),
            ("ix_risks_status", &["status", "residual_score", "ref"]),
            ("ix_risks_owner", &["owner_id"]),
            ("ix_risks_review", &["review_due"]),
            ("ix_risks_accepted_by", &["accepted_by"]),
            ("ix_risks_cells", &["inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact"]),
        ] {
            m.create_index(index(name, K::Table, cols)).await?;
        }
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // Free-text search without a scan, as for information assets: a trigram index
            // kept by triggers. PostgreSQL searches with LIKE.
            let conn = m.get_connection();
            for sql in [
                "CREATE VIRTUAL TABLE risks_fts USING fts5(ref, title, threat, vulnerability, content='risks', content_rowid='rowid', tokenize='trigram')",
                "CREATE TRIGGER risks_fts_insert AFTER INSERT ON risks BEGIN \
                 INSERT INTO risks_fts(rowid, ref, title, threat, vulnerability) VALUES (new.rowid, new.ref, new.title, new.threat, new.vulnerability); END",
                "CREATE TRIGGER risks_fts_delete AFTER DELETE ON risks BEGIN \
                 INSERT INTO risks_fts(risks_fts, rowid, ref, title, threat, vulnerability) VALUES ('delete', old.rowid, old.ref, old.title, old.threat, old.vulnerability); END",
                "CREATE TRIGGER risks_fts_update AFTER UPDATE OF ref, title, threat, vulnerability ON risks BEGIN \
                 INSERT INTO risks_fts(risks_fts, rowid, ref, title, threat, vulnerability) VALUES ('delete', old.rowid, old.ref, old.title, old.threat, old.vulnerability); \
                 INSERT INTO risks_fts(rowid, ref, title, threat, vulnerability) VALUES (new.rowid, new.ref, new.title, new.threat, new.vulnerability); END",
            ] {
                conn.execute_unprepared(sql).await?;
            }
        }

        use RiskAssets as RA;
        m.create_table(
            Table::create()
                .table(RA::Table)
                .col(ref_id(RA::RiskId).not_null())
                .col(ref_id(RA::AssetId).not_null())
                .primary_key(Index::create().col(RA::RiskId).col(RA::AssetId))
                .foreign_key(&mut fk(RA::Table, RA::RiskId, K::Table, K::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(RA::Table, RA::AssetId, InformationAssets::Table, InformationAssets::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_risk_assets_asset", RA::Table, &["asset_id"])).await?;

        use RiskControls as RC;
        m.create_table(
            Table::create()
                .table(RC::Table)
                .col(ref_id(RC::RiskId).not_null())
                .col(ref_id(RC::ControlId).not_null())
                .primary_key(Index::create().col(RC::RiskId).col(RC::ControlId))
                .foreign_key(&mut fk(RC::Table, RC::RiskId, K::Table, K::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(RC::Table, RC::ControlId, C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_risk_controls_control", RC::Table, &["control_id"])).await?;

        use RiskActions as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ref_id(A::RiskId).not_null())
                .col(ColumnDef::new(A::Title).string_len(300).not_null())
                .col(ref_id(A::ControlId))
                .col(ref_id(A::OwnerId))
                .col(date(A::DueOn).not_null())
                .col(ColumnDef::new(A::DoneMs).big_integer())
                .col(ref_id(A::CreatedBy))
                .col(ms(A::CreatedMs))
                .foreign_key(&mut fk(A::Table, A::RiskId, K::Table, K::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(A::Table, A::ControlId, C::Table, C::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .foreign_key(&mut fk(A::Table, A::OwnerId, People::Table, People::Id))
                .foreign_key(&mut fk(A::Table, A::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_risk_actions_risk", A::Table, &["risk_id", "due_on"])).await?;
        m.create_index(index("ix_risk_actions_due", A::Table, &["due_on"])).await?;
        m.create_index(index("ix_risk_actions_control", A::Table, &["control_id"])).await?;
        m.create_index(index("ix_risk_actions_owner", A::Table, &["owner_id"])).await?;
        m.create_index(index("ix_risk_actions_created_by", A::Table, &["created_by"])).await?;

        use ReviewFindings as RF;
        m.create_table(
            Table::create()
                .table(RF::Table)
                .col(id(RF::Id))
                .col(ColumnDef::new(RF::Key).string_len(120).not_null().unique_key())
                .col(code(RF::Source))
                .col(ref_id(RF::RecordId).not_null())
                .col(ref_id(RF::CompanyId))
                .col(ColumnDef::new(RF::Title).string_len(400).not_null())
                .col(date(RF::DueOn).not_null())
                .col(ms(RF::OpenedMs))
                .col(ColumnDef::new(RF::ClosedMs).big_integer())
                .foreign_key(&mut fk(RF::Table, RF::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_review_findings_open", RF::Table, &["closed_ms", "due_on"])).await?;
        m.create_index(index("ix_review_findings_company", RF::Table, &["company_id"])).await?;
        m.create_index(index("ix_review_findings_record", RF::Table, &["record_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            m.get_connection().execute_unprepared("DROP TABLE IF EXISTS risks_fts").await?;
        }
        for t in [
            "review_findings",
            "risk_actions",
            "risk_controls",
            "risk_assets",
            "risks",
            "soa_entries",
            "control_evidence",
            "control_requirements",
            "control_companies",
            "controls",
            "requirement_mappings",
            "requirements",
            "frameworks",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
