//! Information assets: handling categories with their rules, supporting assets (systems,
//! cloud services, terminals, paper storage), information assets and their links, the
//! conformance findings, take-out requests and staged imports.

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
enum Departments {
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
enum HandlingCategories {
    Table,
    Id,
    Code,
    Name,
    NameJa,
    Description,
    CustomerInformation,
    PersonalInformation,
    NeedToKnow,
    AccessRoles,
    OnPremises,
    ApprovedCloud,
    Terminals,
    PaperLocked,
    TakeOut,
    RemoteWork,
    EmailOutside,
    RemovableMedia,
    EncryptAtRest,
    EncryptInTransit,
    Mfa,
    AccessLogging,
    RetentionMonths,
    Disposal,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum SupportingAssets {
    Table,
    Id,
    CompanyId,
    Kind,
    Name,
    Description,
    OwnerId,
    Location,
    InternetExposed,
    Mfa,
    AccessLogging,
    EncryptedAtRest,
    EncryptedInTransit,
    EndpointProtection,
    PatchedOn,
    ZeroTrust,
    Locked,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum CloudApprovals {
    Table,
    SupportId,
    CategoryId,
}
#[derive(DeriveIden)]
enum InformationAssets {
    Table,
    Id,
    CompanyId,
    DepartmentId,
    CategoryId,
    CustomerInformation,
    Name,
    Description,
    OwnerId,
    Medium,
    Volume,
    ReviewDue,
    ReviewMonths,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum AssetLinks {
    Table,
    AssetId,
    SupportId,
}
#[derive(DeriveIden)]
enum AssetFindings {
    Table,
    Id,
    Key,
    CompanyId,
    AssetId,
    SupportId,
    TakeoutId,
    Rule,
    Severity,
    CustomerInformation,
    Status,
    OpenedMs,
    ClosedMs,
    Reason,
    ApprovedBy,
    ExpiresOn,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Takeouts {
    Table,
    Id,
    CompanyId,
    CategoryId,
    AssetId,
    What,
    RequestedBy,
    Purpose,
    Medium,
    Destination,
    ReturnBy,
    Status,
    DecidedBy,
    DecidedMs,
    DecisionNote,
    ReturnedMs,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum StagedImports {
    Table,
    Id,
    UserId,
    Kind,
    FileName,
    Data,
    CreatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use HandlingCategories as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(id(H::Id))
                .col(ColumnDef::new(H::Code).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(H::Name).string_len(200).not_null())
                .col(ColumnDef::new(H::NameJa).string_len(200))
                .col(ColumnDef::new(H::Description).text().not_null().default(""))
                .col(flag(H::CustomerInformation))
                .col(flag(H::PersonalInformation))
                .col(flag(H::NeedToKnow))
                .col(ColumnDef::new(H::AccessRoles).string_len(400).not_null().default(""))
                .col(flag(H::OnPremises))
                .col(flag(H::ApprovedCloud))
                .col(flag(H::Terminals))
                .col(flag(H::PaperLocked))
                .col(code(H::TakeOut))
                .col(code(H::RemoteWork))
                .col(code(H::EmailOutside))
                .col(code(H::RemovableMedia))
                .col(flag(H::EncryptAtRest))
                .col(flag(H::EncryptInTransit))
                .col(flag(H::Mfa))
                .col(flag(H::AccessLogging))
                .col(ColumnDef::new(H::RetentionMonths).integer())
                .col(code(H::Disposal))
                .col(ms(H::CreatedMs))
                .col(ms(H::UpdatedMs))
                .to_owned(),
        )
        .await?;

        use SupportingAssets as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(id(S::Id))
                .col(ref_id(S::CompanyId).not_null())
                .col(code(S::Kind))
                .col(ColumnDef::new(S::Name).string_len(200).not_null())
                .col(ColumnDef::new(S::Description).text().not_null().default(""))
                .col(ref_id(S::OwnerId))
                .col(ColumnDef::new(S::Location).string_len(200).not_null().default(""))
                .col(flag(S::InternetExposed))
                .col(flag(S::Mfa))
                .col(flag(S::AccessLogging))
                .col(flag(S::EncryptedAtRest))
                .col(flag(S::EncryptedInTransit))
                .col(flag(S::EndpointProtection))
                .col(ColumnDef::new(S::PatchedOn).string_len(10))
                .col(flag(S::ZeroTrust))
                .col(flag(S::Locked))
                .col(ms(S::CreatedMs))
                .col(ms(S::UpdatedMs))
                .foreign_key(&mut fk(S::Table, S::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(S::Table, S::OwnerId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_supporting_assets_company_name", S::Table, &["company_id", "name"]).unique().to_owned()).await?;
        m.create_index(index("ix_supporting_assets_kind", S::Table, &["kind", "name"])).await?;
        m.create_index(index("ix_supporting_assets_owner", S::Table, &["owner_id"])).await?;

        m.create_table(
            Table::create()
                .table(CloudApprovals::Table)
                .col(ref_id(CloudApprovals::SupportId).not_null())
                .col(ref_id(CloudApprovals::CategoryId).not_null())
                .primary_key(Index::create().col(CloudApprovals::SupportId).col(CloudApprovals::CategoryId))
                .foreign_key(&mut fk(CloudApprovals::Table, CloudApprovals::SupportId, S::Table, S::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(CloudApprovals::Table, CloudApprovals::CategoryId, H::Table, H::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_cloud_approvals_category", CloudApprovals::Table, &["category_id"])).await?;

        use InformationAssets as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ref_id(A::CompanyId).not_null())
                .col(ref_id(A::DepartmentId))
                .col(ref_id(A::CategoryId).not_null())
                .col(flag(A::CustomerInformation))
                .col(ColumnDef::new(A::Name).string_len(200).not_null())
                .col(ColumnDef::new(A::Description).text().not_null().default(""))
                .col(ref_id(A::OwnerId))
                .col(code(A::Medium))
                .col(ColumnDef::new(A::Volume).big_integer())
                .col(ColumnDef::new(A::ReviewDue).string_len(10))
                .col(ColumnDef::new(A::ReviewMonths).integer().not_null().default(12))
                .col(ms(A::CreatedMs))
                .col(ms(A::UpdatedMs))
                .foreign_key(&mut fk(A::Table, A::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(A::Table, A::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(A::Table, A::CategoryId, H::Table, H::Id))
                .foreign_key(&mut fk(A::Table, A::OwnerId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_information_assets_company_name", A::Table, &["company_id", "name"]).unique().to_owned()).await?;
        // Each list order, alone or under the common filters, is an index walk: (filter,
        // sort column, id). `customer_information` is the category's flag kept on the asset
        // so the customer filter is one too.
        for (name, cols) in [
            ("ix_information_assets_name", &["name", "id"][..]),
            ("ix_information_assets_review", &["review_due", "id"]),
            ("ix_information_assets_company_name", &["company_id", "name", "id"]),
            ("ix_information_assets_company_review", &["company_id", "review_due", "id"]),
            ("ix_information_assets_category", &["category_id", "name", "id"]),
            ("ix_information_assets_category_review", &["category_id", "review_due", "id"]),
            ("ix_information_assets_company_category", &["company_id", "category_id", "name", "id"]),
            ("ix_information_assets_company_category_review", &["company_id", "category_id", "review_due", "id"]),
            ("ix_information_assets_customer", &["customer_information", "name", "id"]),
            ("ix_information_assets_customer_review", &["customer_information", "review_due", "id"]),
            ("ix_information_assets_department", &["department_id"]),
            ("ix_information_assets_owner", &["owner_id", "review_due"]),
        ] {
            m.create_index(index(name, A::Table, cols)).await?;
        }
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // Free-text search without a scan: a trigram index over name and description,
            // kept by triggers. PostgreSQL searches with LIKE (see store::assets).
            let conn = m.get_connection();
            conn.execute_unprepared(
                "CREATE VIRTUAL TABLE information_assets_fts USING fts5(name, description, content='information_assets', content_rowid='rowid', tokenize='trigram')",
            )
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER information_assets_fts_insert AFTER INSERT ON information_assets BEGIN \
                 INSERT INTO information_assets_fts(rowid, name, description) VALUES (new.rowid, new.name, new.description); END",
            )
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER information_assets_fts_delete AFTER DELETE ON information_assets BEGIN \
                 INSERT INTO information_assets_fts(information_assets_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description); END",
            )
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER information_assets_fts_update AFTER UPDATE OF name, description ON information_assets BEGIN \
                 INSERT INTO information_assets_fts(information_assets_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description); \
                 INSERT INTO information_assets_fts(rowid, name, description) VALUES (new.rowid, new.name, new.description); END",
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(AssetLinks::Table)
                .col(ref_id(AssetLinks::AssetId).not_null())
                .col(ref_id(AssetLinks::SupportId).not_null())
                .primary_key(Index::create().col(AssetLinks::AssetId).col(AssetLinks::SupportId))
                .foreign_key(&mut fk(AssetLinks::Table, AssetLinks::AssetId, A::Table, A::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(AssetLinks::Table, AssetLinks::SupportId, S::Table, S::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_asset_links_support", AssetLinks::Table, &["support_id"])).await?;

        use Takeouts as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(id(T::Id))
                .col(ref_id(T::CompanyId).not_null())
                .col(ref_id(T::CategoryId).not_null())
                .col(ref_id(T::AssetId))
                .col(ColumnDef::new(T::What).string_len(300).not_null())
                .col(ref_id(T::RequestedBy).not_null())
                .col(ColumnDef::new(T::Purpose).text().not_null())
                .col(code(T::Medium))
                .col(ColumnDef::new(T::Destination).string_len(200).not_null().default(""))
                .col(ColumnDef::new(T::ReturnBy).string_len(10).not_null())
                .col(ColumnDef::new(T::Status).string_len(16).not_null())
                .col(ref_id(T::DecidedBy))
                .col(ColumnDef::new(T::DecidedMs).big_integer())
                .col(ColumnDef::new(T::DecisionNote).text().not_null().default(""))
                .col(ColumnDef::new(T::ReturnedMs).big_integer())
                .col(ms(T::CreatedMs))
                .col(ms(T::UpdatedMs))
                .foreign_key(&mut fk(T::Table, T::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(T::Table, T::CategoryId, H::Table, H::Id))
                .foreign_key(&mut fk(T::Table, T::AssetId, A::Table, A::Id))
                .foreign_key(&mut fk(T::Table, T::RequestedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(T::Table, T::DecidedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_takeouts_company_status", T::Table, &["company_id", "status"])).await?;
        m.create_index(index("ix_takeouts_asset", T::Table, &["asset_id"])).await?;
        m.create_index(index("ix_takeouts_category", T::Table, &["category_id"])).await?;
        m.create_index(index("ix_takeouts_requested_by", T::Table, &["requested_by"])).await?;
        m.create_index(index("ix_takeouts_decided_by", T::Table, &["decided_by"])).await?;

        use AssetFindings as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(id(F::Id))
                .col(ColumnDef::new(F::Key).string_len(120).not_null().unique_key())
                .col(ref_id(F::CompanyId).not_null())
                .col(ref_id(F::AssetId))
                .col(ref_id(F::SupportId))
                .col(ref_id(F::TakeoutId))
                .col(code(F::Rule))
                .col(ColumnDef::new(F::Severity).small_integer().not_null())
                .col(flag(F::CustomerInformation))
                .col(ColumnDef::new(F::Status).string_len(16).not_null())
                .col(ms(F::OpenedMs))
                .col(ColumnDef::new(F::ClosedMs).big_integer())
                .col(ColumnDef::new(F::Reason).text().not_null().default(""))
                .col(ref_id(F::ApprovedBy))
                .col(ColumnDef::new(F::ExpiresOn).string_len(10))
                .col(ms(F::UpdatedMs))
                .foreign_key(&mut fk(F::Table, F::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(F::Table, F::AssetId, A::Table, A::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(F::Table, F::SupportId, S::Table, S::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(F::Table, F::TakeoutId, Takeouts::Table, Takeouts::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(F::Table, F::ApprovedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        // The findings list is ordered by severity, then age: one index walk per common filter.
        m.create_index(index("ix_asset_findings_status", F::Table, &["status", "severity", "opened_ms", "id"])).await?;
        m.create_index(index("ix_asset_findings_status_customer", F::Table, &["status", "customer_information", "severity", "opened_ms", "id"])).await?;
        m.create_index(index("ix_asset_findings_company_status", F::Table, &["company_id", "status", "severity", "opened_ms", "id"])).await?;
        m.create_index(index("ix_asset_findings_asset", F::Table, &["asset_id"])).await?;
        m.create_index(index("ix_asset_findings_support", F::Table, &["support_id"])).await?;
        m.create_index(index("ix_asset_findings_takeout", F::Table, &["takeout_id"])).await?;
        m.create_index(index("ix_asset_findings_approved_by", F::Table, &["approved_by"])).await?;

        m.create_table(
            Table::create()
                .table(StagedImports::Table)
                .col(id(StagedImports::Id))
                .col(ref_id(StagedImports::UserId).not_null())
                .col(code(StagedImports::Kind))
                .col(ColumnDef::new(StagedImports::FileName).string_len(200).not_null())
                .col(ColumnDef::new(StagedImports::Data).blob().not_null())
                .col(ms(StagedImports::CreatedMs))
                .foreign_key(&mut fk(StagedImports::Table, StagedImports::UserId, Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_staged_imports_user", StagedImports::Table, &["user_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            m.get_connection().execute_unprepared("DROP TABLE IF EXISTS information_assets_fts").await?;
        }
        for t in
            ["staged_imports", "asset_findings", "takeouts", "asset_links", "information_assets", "cloud_approvals", "supporting_assets", "handling_categories"]
        {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
