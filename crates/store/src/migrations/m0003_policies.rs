//! Notifications (in the UI and by e-mail, through an outbox) and the documents of the
//! management system: kinds and their approvers, documents, versions, approvals,
//! attachments, acknowledgements, reviews and links to what a document implements.

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
enum Notifications {
    Table,
    Id,
    UserId,
    PersonId,
    Kind,
    Args,
    Link,
    DedupKey,
    CreatedMs,
    ReadMs,
    MailStatus,
    MailTo,
    MailAttempts,
    NextAttemptMs,
    MailError,
}
#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    Id,
    Hook,
    Kind,
    Args,
    Link,
    DedupKey,
    Status,
    Attempts,
    NextAttemptMs,
    Error,
    CreatedMs,
}
#[derive(DeriveIden)]
enum DocumentKinds {
    Table,
    Kind,
    ApproverRole,
    ApprovalsNeeded,
    ReviewMonths,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    Code,
    Kind,
    Title,
    CompanyId,
    OwnerId,
    Language,
    TranslationId,
    Public,
    MustAcknowledge,
    ReviewMonths,
    ReviewDue,
    CurrentVersionId,
    Retired,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum DocumentCompanies {
    Table,
    DocumentId,
    CompanyId,
}
#[derive(DeriveIden)]
enum DocumentVersions {
    Table,
    Id,
    DocumentId,
    Number,
    State,
    Title,
    Body,
    Summary,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
    SubmittedMs,
    ApprovedMs,
    PublishedMs,
    RetiredMs,
    DecisionNote,
}
#[derive(DeriveIden)]
enum VersionApprovals {
    Table,
    Id,
    VersionId,
    UserId,
    Role,
    Decision,
    Note,
    DecidedMs,
}
#[derive(DeriveIden)]
enum VersionAttachments {
    Table,
    Id,
    VersionId,
    FileName,
    ContentType,
    Size,
    Sha256,
    Data,
    UploadedBy,
    CreatedMs,
}
#[derive(DeriveIden)]
enum Acknowledgements {
    Table,
    VersionId,
    PersonId,
    UserId,
    AcknowledgedMs,
}
#[derive(DeriveIden)]
enum DocumentReviews {
    Table,
    Id,
    DocumentId,
    Outcome,
    Note,
    ReviewedBy,
    ReviewedMs,
    VersionId,
}
#[derive(DeriveIden)]
enum DocumentLinks {
    Table,
    DocumentId,
    TargetKind,
    TargetId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Notifications as N;
        m.create_table(
            Table::create()
                .table(N::Table)
                .col(id(N::Id))
                .col(ref_id(N::UserId))
                .col(ref_id(N::PersonId))
                .col(ColumnDef::new(N::Kind).string_len(64).not_null())
                .col(ColumnDef::new(N::Args).text().not_null().default("{}"))
                .col(ColumnDef::new(N::Link).string_len(400).not_null().default(""))
                .col(ColumnDef::new(N::DedupKey).string_len(200).unique_key())
                .col(ms(N::CreatedMs))
                .col(ColumnDef::new(N::ReadMs).big_integer())
                .col(code(N::MailStatus))
                .col(ColumnDef::new(N::MailTo).string_len(320))
                .col(ColumnDef::new(N::MailAttempts).integer().not_null().default(0))
                .col(ColumnDef::new(N::NextAttemptMs).big_integer())
                .col(ColumnDef::new(N::MailError).text().not_null().default(""))
                .foreign_key(&mut fk(N::Table, N::UserId, Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(N::Table, N::PersonId, People::Table, People::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_notifications_user", N::Table, &["user_id", "created_ms"])).await?;
        m.create_index(index("ix_notifications_person", N::Table, &["person_id"])).await?;
        m.create_index(index("ix_notifications_outbox", N::Table, &["mail_status", "next_attempt_ms"])).await?;

        use WebhookOutbox as W;
        m.create_table(
            Table::create()
                .table(W::Table)
                .col(id(W::Id))
                .col(ColumnDef::new(W::Hook).string_len(64).not_null())
                .col(ColumnDef::new(W::Kind).string_len(64).not_null())
                .col(ColumnDef::new(W::Args).text().not_null().default("{}"))
                .col(ColumnDef::new(W::Link).string_len(400).not_null().default(""))
                .col(ColumnDef::new(W::DedupKey).string_len(200).unique_key())
                .col(code(W::Status))
                .col(ColumnDef::new(W::Attempts).integer().not_null().default(0))
                .col(ColumnDef::new(W::NextAttemptMs).big_integer())
                .col(ColumnDef::new(W::Error).text().not_null().default(""))
                .col(ms(W::CreatedMs))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_webhook_outbox_due", W::Table, &["status", "next_attempt_ms"])).await?;

        use DocumentKinds as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(ColumnDef::new(K::Kind).string_len(32).not_null().primary_key())
                .col(code(K::ApproverRole))
                .col(ColumnDef::new(K::ApprovalsNeeded).integer().not_null().default(1))
                .col(ColumnDef::new(K::ReviewMonths).integer().not_null().default(12))
                .col(ms(K::UpdatedMs))
                .to_owned(),
        )
        .await?;

        use Documents as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(id(D::Id))
                .col(ColumnDef::new(D::Code).string_len(32).not_null().unique_key())
                .col(code(D::Kind))
                .col(ColumnDef::new(D::Title).string_len(300).not_null())
                .col(ref_id(D::CompanyId))
                .col(ref_id(D::OwnerId))
                .col(code(D::Language))
                .col(ref_id(D::TranslationId))
                .col(flag(D::Public))
                .col(flag(D::MustAcknowledge))
                .col(ColumnDef::new(D::ReviewMonths).integer().not_null().default(12))
                .col(ColumnDef::new(D::ReviewDue).string_len(10))
                .col(ref_id(D::CurrentVersionId))
                .col(flag(D::Retired))
                .col(ms(D::CreatedMs))
                .col(ms(D::UpdatedMs))
                .foreign_key(&mut fk(D::Table, D::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(D::Table, D::OwnerId, People::Table, People::Id))
                .foreign_key(&mut fk(D::Table, D::TranslationId, D::Table, D::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_documents_kind", &["kind", "code"][..]),
            ("ix_documents_company", &["company_id", "code"]),
            ("ix_documents_owner", &["owner_id", "review_due"]),
            ("ix_documents_review", &["review_due"]),
            ("ix_documents_translation", &["translation_id"]),
            ("ix_documents_public", &["public", "code"]),
        ] {
            m.create_index(index(name, D::Table, cols)).await?;
        }

        use DocumentCompanies as DC;
        m.create_table(
            Table::create()
                .table(DC::Table)
                .col(ref_id(DC::DocumentId).not_null())
                .col(ref_id(DC::CompanyId).not_null())
                .primary_key(Index::create().col(DC::DocumentId).col(DC::CompanyId))
                .foreign_key(&mut fk(DC::Table, DC::DocumentId, D::Table, D::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(DC::Table, DC::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_document_companies_company", DC::Table, &["company_id"])).await?;

        use DocumentVersions as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(id(V::Id))
                .col(ref_id(V::DocumentId).not_null())
                .col(ColumnDef::new(V::Number).integer().not_null())
                .col(code(V::State))
                .col(ColumnDef::new(V::Title).string_len(300).not_null())
                .col(ColumnDef::new(V::Body).text().not_null().default(""))
                .col(ColumnDef::new(V::Summary).text().not_null().default(""))
                .col(ref_id(V::CreatedBy))
                .col(ms(V::CreatedMs))
                .col(ms(V::UpdatedMs))
                .col(ColumnDef::new(V::SubmittedMs).big_integer())
                .col(ColumnDef::new(V::ApprovedMs).big_integer())
                .col(ColumnDef::new(V::PublishedMs).big_integer())
                .col(ColumnDef::new(V::RetiredMs).big_integer())
                .col(ColumnDef::new(V::DecisionNote).text().not_null().default(""))
                .foreign_key(&mut fk(V::Table, V::DocumentId, D::Table, D::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(V::Table, V::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_document_versions_number", V::Table, &["document_id", "number"]).unique().to_owned()).await?;
        m.create_index(index("ix_document_versions_state", V::Table, &["state", "document_id"])).await?;
        m.create_index(index("ix_document_versions_author", V::Table, &["created_by"])).await?;

        use VersionApprovals as VA;
        m.create_table(
            Table::create()
                .table(VA::Table)
                .col(id(VA::Id))
                .col(ref_id(VA::VersionId).not_null())
                .col(ref_id(VA::UserId).not_null())
                .col(code(VA::Role))
                .col(code(VA::Decision))
                .col(ColumnDef::new(VA::Note).text().not_null().default(""))
                .col(ms(VA::DecidedMs))
                .foreign_key(&mut fk(VA::Table, VA::VersionId, V::Table, V::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(VA::Table, VA::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_version_approvals_version", VA::Table, &["version_id", "decided_ms"])).await?;
        m.create_index(index("ix_version_approvals_user", VA::Table, &["user_id"])).await?;

        use VersionAttachments as AT;
        m.create_table(
            Table::create()
                .table(AT::Table)
                .col(id(AT::Id))
                .col(ref_id(AT::VersionId).not_null())
                .col(ColumnDef::new(AT::FileName).string_len(200).not_null())
                .col(ColumnDef::new(AT::ContentType).string_len(100).not_null())
                .col(ColumnDef::new(AT::Size).big_integer().not_null())
                .col(ColumnDef::new(AT::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(AT::Data).blob().not_null())
                .col(ref_id(AT::UploadedBy))
                .col(ms(AT::CreatedMs))
                .foreign_key(&mut fk(AT::Table, AT::VersionId, V::Table, V::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(AT::Table, AT::UploadedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_version_attachments_name", AT::Table, &["version_id", "file_name"]).unique().to_owned()).await?;
        m.create_index(index("ix_version_attachments_uploader", AT::Table, &["uploaded_by"])).await?;

        use Acknowledgements as AK;
        m.create_table(
            Table::create()
                .table(AK::Table)
                .col(ref_id(AK::VersionId).not_null())
                .col(ref_id(AK::PersonId).not_null())
                .col(ref_id(AK::UserId))
                .col(ms(AK::AcknowledgedMs))
                .primary_key(Index::create().col(AK::VersionId).col(AK::PersonId))
                .foreign_key(&mut fk(AK::Table, AK::VersionId, V::Table, V::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(AK::Table, AK::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(AK::Table, AK::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_acknowledgements_person", AK::Table, &["person_id"])).await?;
        m.create_index(index("ix_acknowledgements_user", AK::Table, &["user_id"])).await?;

        use DocumentReviews as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ref_id(R::DocumentId).not_null())
                .col(code(R::Outcome))
                .col(ColumnDef::new(R::Note).text().not_null().default(""))
                .col(ref_id(R::ReviewedBy))
                .col(ms(R::ReviewedMs))
                .col(ref_id(R::VersionId))
                .foreign_key(&mut fk(R::Table, R::DocumentId, D::Table, D::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .foreign_key(&mut fk(R::Table, R::ReviewedBy, Users::Table, Users::Id))
                .foreign_key(&mut fk(R::Table, R::VersionId, V::Table, V::Id).on_delete(ForeignKeyAction::SetNull).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_document_reviews_document", R::Table, &["document_id", "reviewed_ms"])).await?;
        m.create_index(index("ix_document_reviews_reviewer", R::Table, &["reviewed_by"])).await?;
        m.create_index(index("ix_document_reviews_version", R::Table, &["version_id"])).await?;

        use DocumentLinks as L;
        m.create_table(
            Table::create()
                .table(L::Table)
                .col(ref_id(L::DocumentId).not_null())
                .col(code(L::TargetKind))
                .col(ref_id(L::TargetId).not_null())
                .primary_key(Index::create().col(L::DocumentId).col(L::TargetKind).col(L::TargetId))
                .foreign_key(&mut fk(L::Table, L::DocumentId, D::Table, D::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_document_links_target", L::Table, &["target_kind", "target_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "document_links",
            "document_reviews",
            "acknowledgements",
            "version_attachments",
            "version_approvals",
            "document_versions",
            "document_companies",
            "documents",
            "document_kinds",
            "webhook_outbox",
            "notifications",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
