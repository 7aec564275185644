//! The foundation: organisation (companies, departments, people), accounts (users, role
//! grants, sessions, API tokens), settings, and the audit chain.

use super::columns::{fk, id, index, ms, ref_id};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Code,
    Name,
    NameJa,
    IsHolding,
    Active,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    CompanyId,
    Code,
    Name,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    CompanyId,
    DepartmentId,
    EmployeeNumber,
    Name,
    Email,
    ManagerId,
    Status,
    JoinedOn,
    LeftOn,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PersonId,
    Username,
    DisplayName,
    PasswordHash,
    TotpSecret,
    TotpEnabled,
    TotpLastStep,
    Disabled,
    Locale,
    TimeZone,
    FailedLogins,
    LockedUntilMs,
    LastLoginMs,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    UserId,
    Role,
    CompanyId,
    ExpiresMs,
    CreatedMs,
}
#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CsrfToken,
    SecondFactorOk,
    CreatedMs,
    LastSeenMs,
    ExpiresMs,
    UserAgent,
    Ip,
}
#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    TokenHash,
    IssuedBy,
    Role,
    Companies,
    ExpiresMs,
    CreatedMs,
    LastUsedMs,
    Revoked,
}
#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}
#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    AtMs,
    Actor,
    Action,
    Entity,
    RecordId,
    CompanyId,
    Detail,
    PrevHash,
    Hash,
}
#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Companies::Table)
                .col(id(Companies::Id))
                .col(ColumnDef::new(Companies::Code).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(Companies::Name).string_len(200).not_null())
                .col(ColumnDef::new(Companies::NameJa).string_len(200))
                .col(ColumnDef::new(Companies::IsHolding).boolean().not_null().default(false))
                .col(ColumnDef::new(Companies::Active).boolean().not_null().default(true))
                .col(ms(Companies::CreatedMs))
                .col(ms(Companies::UpdatedMs))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Departments::Table)
                .col(id(Departments::Id))
                .col(ref_id(Departments::CompanyId).not_null())
                .col(ColumnDef::new(Departments::Code).string_len(32).not_null())
                .col(ColumnDef::new(Departments::Name).string_len(200).not_null())
                .col(ms(Departments::CreatedMs))
                .col(ms(Departments::UpdatedMs))
                .foreign_key(&mut fk(Departments::Table, Departments::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_departments_company_code", Departments::Table, &["company_id", "code"]).unique().to_owned()).await?;

        m.create_table(
            Table::create()
                .table(People::Table)
                .col(id(People::Id))
                .col(ref_id(People::CompanyId).not_null())
                .col(ref_id(People::DepartmentId))
                .col(ColumnDef::new(People::EmployeeNumber).string_len(32).not_null().unique_key())
                .col(ColumnDef::new(People::Name).string_len(200).not_null())
                .col(ColumnDef::new(People::Email).string_len(254).not_null().unique_key())
                .col(ref_id(People::ManagerId))
                .col(ColumnDef::new(People::Status).string_len(16).not_null())
                .col(ColumnDef::new(People::JoinedOn).string_len(10))
                .col(ColumnDef::new(People::LeftOn).string_len(10))
                .col(ms(People::CreatedMs))
                .col(ms(People::UpdatedMs))
                .foreign_key(&mut fk(People::Table, People::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(People::Table, People::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(People::Table, People::ManagerId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;
        // Each list order is an index walk: (sort column, id).
        m.create_index(index("ix_people_company", People::Table, &["company_id", "id"])).await?;
        m.create_index(index("ix_people_company_name", People::Table, &["company_id", "name", "id"])).await?;
        m.create_index(index("ix_people_department", People::Table, &["department_id"])).await?;
        m.create_index(index("ix_people_manager", People::Table, &["manager_id"])).await?;
        m.create_index(index("ix_people_name", People::Table, &["name", "id"])).await?;
        m.create_index(index("ix_people_status", People::Table, &["status", "id"])).await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(ref_id(Users::PersonId).unique_key())
                .col(ColumnDef::new(Users::Username).string_len(254).not_null().unique_key())
                .col(ColumnDef::new(Users::DisplayName).string_len(200).not_null())
                .col(ColumnDef::new(Users::PasswordHash).text())
                .col(ColumnDef::new(Users::TotpSecret).string_len(128))
                .col(ColumnDef::new(Users::TotpEnabled).boolean().not_null().default(false))
                .col(ColumnDef::new(Users::TotpLastStep).big_integer())
                .col(ColumnDef::new(Users::Disabled).boolean().not_null().default(false))
                .col(ColumnDef::new(Users::Locale).string_len(8))
                .col(ColumnDef::new(Users::TimeZone).string_len(64))
                .col(ColumnDef::new(Users::FailedLogins).integer().not_null().default(0))
                .col(ColumnDef::new(Users::LockedUntilMs).big_integer())
                .col(ColumnDef::new(Users::LastLoginMs).big_integer())
                .col(ms(Users::CreatedMs))
                .col(ms(Users::UpdatedMs))
                .foreign_key(&mut fk(Users::Table, Users::PersonId, People::Table, People::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoleGrants::Table)
                .col(id(RoleGrants::Id))
                .col(ref_id(RoleGrants::UserId).not_null())
                .col(ColumnDef::new(RoleGrants::Role).string_len(32).not_null())
                .col(ref_id(RoleGrants::CompanyId))
                .col(ColumnDef::new(RoleGrants::ExpiresMs).big_integer())
                .col(ms(RoleGrants::CreatedMs))
                .foreign_key(&mut fk(RoleGrants::Table, RoleGrants::UserId, Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(RoleGrants::Table, RoleGrants::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_role_grants_user", RoleGrants::Table, &["user_id"])).await?;
        m.create_index(index("ix_role_grants_company", RoleGrants::Table, &["company_id"])).await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(ColumnDef::new(Sessions::Id).string_len(64).not_null().primary_key())
                .col(ref_id(Sessions::UserId).not_null())
                .col(ColumnDef::new(Sessions::CsrfToken).string_len(64).not_null())
                .col(ColumnDef::new(Sessions::SecondFactorOk).boolean().not_null())
                .col(ms(Sessions::CreatedMs))
                .col(ms(Sessions::LastSeenMs))
                .col(ms(Sessions::ExpiresMs))
                .col(ColumnDef::new(Sessions::UserAgent).string_len(300))
                .col(ColumnDef::new(Sessions::Ip).string_len(64))
                .foreign_key(&mut fk(Sessions::Table, Sessions::UserId, Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", Sessions::Table, &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(id(ApiTokens::Id))
                .col(ColumnDef::new(ApiTokens::Name).string_len(200).not_null())
                .col(ColumnDef::new(ApiTokens::TokenHash).string_len(64).not_null().unique_key())
                .col(ref_id(ApiTokens::IssuedBy).not_null())
                .col(ColumnDef::new(ApiTokens::Role).string_len(32).not_null())
                .col(ColumnDef::new(ApiTokens::Companies).text().not_null())
                .col(ms(ApiTokens::ExpiresMs))
                .col(ms(ApiTokens::CreatedMs))
                .col(ColumnDef::new(ApiTokens::LastUsedMs).big_integer())
                .col(ColumnDef::new(ApiTokens::Revoked).boolean().not_null().default(false))
                .foreign_key(&mut fk(ApiTokens::Table, ApiTokens::IssuedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_api_tokens_issued_by", ApiTokens::Table, &["issued_by"])).await?;

        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(ColumnDef::new(Settings::Key).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(Settings::Value).text().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(ColumnDef::new(AuditLog::Seq).big_integer().not_null().primary_key())
                .col(ms(AuditLog::AtMs))
                .col(ColumnDef::new(AuditLog::Actor).string_len(80).not_null())
                .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::Entity).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::RecordId).string_len(64))
                .col(ref_id(AuditLog::CompanyId))
                .col(ColumnDef::new(AuditLog::Detail).text().not_null())
                .col(ColumnDef::new(AuditLog::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_audit_company_seq", AuditLog::Table, &["company_id", "seq"])).await?;
        m.create_index(index("ix_audit_record", AuditLog::Table, &["entity", "record_id"])).await?;
        m.create_index(index("ix_audit_at", AuditLog::Table, &["at_ms"])).await?;

        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(ColumnDef::new(AuditHead::Id).integer().not_null().primary_key())
                .col(ColumnDef::new(AuditHead::Seq).big_integer().not_null())
                .col(ColumnDef::new(AuditHead::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), isms_core::audit::GENESIS.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the foundation cannot be rolled back; restore a backup instead".into()))
    }
}
