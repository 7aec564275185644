//! E-mail drills: sending profiles (an SMTP relay and its credentials, sealed), templates
//! with their text per language, campaigns, one row per recipient that is also the
//! outbox (planned, sending under a lease, sent), and every request or signal recorded
//! for a recipient with the verdict on it.

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
enum DrillProfiles {
    Table,
    Id,
    CompanyId,
    Name,
    Host,
    Port,
    /// starttls, tls or none (none only to this machine)
    Security,
    Username,
    /// Sealed with the instance key; empty for none.
    Password,
    /// The envelope sender (bounces come back here).
    EnvelopeFrom,
    Retired,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum DrillTemplates {
    Table,
    Id,
    CompanyId,
    Name,
    /// virus, credential or bec
    Kind,
    FromName,
    FromAddress,
    ReplyTo,
    AttachmentName,
    Retired,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum DrillTemplateTexts {
    Table,
    TemplateId,
    Lang,
    Subject,
    Body,
    /// What the landing page of a credential lure says above its form.
    Landing,
    /// The teachable moment: what the person is shown at once.
    Lesson,
}
#[derive(DeriveIden)]
enum DrillCampaigns {
    Table,
    Id,
    CompanyId,
    Name,
    TemplateId,
    ProfileId,
    Population,
    FirstDay,
    LastDay,
    Window,
    Cap,
    /// Where recipients' links point (`https://drills.example.co.jp`): this instance, or a
    /// name of the drill's own that reaches it.
    LinkBase,
    State,
    RemedialCourseId,
    Recipients,
    CreatedBy,
    CreatedMs,
    LaunchedMs,
    UpdatedMs,
    /// The sender that holds the campaign, and until when.
    LeaseOwner,
    LeaseUntilMs,
}
#[derive(DeriveIden)]
enum DrillRecipients {
    Table,
    Id,
    CampaignId,
    PersonId,
    CompanyId,
    DepartmentId,
    Email,
    Lang,
    Token,
    PlannedMs,
    State,
    Attempts,
    NextMs,
    LeaseUntilMs,
    MessageId,
    SentMs,
    Error,
    OpenedMs,
    ClickedMs,
    SubmittedMs,
    AttachmentMs,
    RepliedMs,
    ReportedMs,
    MachineHits,
    Remedial,
}
#[derive(DeriveIden)]
enum DrillEvents {
    Table,
    Id,
    RecipientId,
    CampaignId,
    Kind,
    AtMs,
    Method,
    Ip,
    Agent,
    /// human, machine, pending or unreliable
    Verdict,
    Reason,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use DrillProfiles as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(id(P::Id))
                .col(ref_id(P::CompanyId))
                .col(ColumnDef::new(P::Name).string_len(200).not_null())
                .col(ColumnDef::new(P::Host).string_len(255).not_null())
                .col(ColumnDef::new(P::Port).integer().not_null())
                .col(code(P::Security))
                .col(ColumnDef::new(P::Username).string_len(255).not_null())
                .col(ColumnDef::new(P::Password).text().not_null())
                .col(ColumnDef::new(P::EnvelopeFrom).string_len(255).not_null())
                .col(flag(P::Retired))
                .col(ms(P::CreatedMs))
                .col(ms(P::UpdatedMs))
                .foreign_key(&mut fk(P::Table, P::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_drill_profiles_company_id", P::Table, &["company_id"])).await?;

        use DrillTemplates as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(id(T::Id))
                .col(ref_id(T::CompanyId))
                .col(ColumnDef::new(T::Name).string_len(200).not_null())
                .col(code(T::Kind))
                .col(ColumnDef::new(T::FromName).string_len(200).not_null())
                .col(ColumnDef::new(T::FromAddress).string_len(255).not_null())
                .col(ColumnDef::new(T::ReplyTo).string_len(255))
                .col(ColumnDef::new(T::AttachmentName).string_len(200))
                .col(flag(T::Retired))
                .col(ref_id(T::CreatedBy))
                .col(ms(T::CreatedMs))
                .col(ms(T::UpdatedMs))
                .foreign_key(&mut fk(T::Table, T::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_drill_templates_company_id", T::Table, &["company_id"])).await?;

        use DrillTemplateTexts as X;
        m.create_table(
            Table::create()
                .table(X::Table)
                .col(ColumnDef::new(X::TemplateId).string_len(36).not_null())
                .col(ColumnDef::new(X::Lang).string_len(8).not_null())
                .col(ColumnDef::new(X::Subject).string_len(500).not_null())
                .col(ColumnDef::new(X::Body).text().not_null())
                .col(ColumnDef::new(X::Landing).text().not_null())
                .col(ColumnDef::new(X::Lesson).text().not_null())
                .primary_key(Index::create().col(X::TemplateId).col(X::Lang))
                .foreign_key(&mut fk(X::Table, X::TemplateId, T::Table, T::Id))
                .to_owned(),
        )
        .await?;

        use DrillCampaigns as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ref_id(C::CompanyId))
                .col(ColumnDef::new(C::Name).string_len(200).not_null())
                .col(ref_id(C::TemplateId).not_null())
                .col(ref_id(C::ProfileId).not_null())
                .col(ColumnDef::new(C::Population).text().not_null())
                .col(ColumnDef::new(C::FirstDay).string_len(10).not_null())
                .col(ColumnDef::new(C::LastDay).string_len(10).not_null())
                .col(ColumnDef::new(C::Window).text().not_null())
                .col(ColumnDef::new(C::Cap).integer().not_null())
                .col(ColumnDef::new(C::LinkBase).string_len(255).not_null())
                .col(code(C::State))
                .col(ref_id(C::RemedialCourseId))
                .col(ColumnDef::new(C::Recipients).big_integer().not_null().default(0))
                .col(ref_id(C::CreatedBy))
                .col(ms(C::CreatedMs))
                .col(ColumnDef::new(C::LaunchedMs).big_integer())
                .col(ms(C::UpdatedMs))
                .col(ColumnDef::new(C::LeaseOwner).string_len(64))
                .col(ColumnDef::new(C::LeaseUntilMs).big_integer().not_null().default(0))
                .foreign_key(&mut fk(C::Table, C::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(C::Table, C::TemplateId, T::Table, T::Id))
                .foreign_key(&mut fk(C::Table, C::ProfileId, P::Table, P::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_drill_campaigns_company_id", C::Table, &["company_id"])).await?;
        m.create_index(index("ix_drill_campaigns_template_id", C::Table, &["template_id"])).await?;
        m.create_index(index("ix_drill_campaigns_profile_id", C::Table, &["profile_id"])).await?;
        m.create_index(index("ix_drill_campaigns_state", C::Table, &["state"])).await?;

        use DrillRecipients as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(id(R::Id))
                .col(ref_id(R::CampaignId).not_null())
                .col(ref_id(R::PersonId).not_null())
                .col(ref_id(R::CompanyId).not_null())
                .col(ref_id(R::DepartmentId))
                .col(ColumnDef::new(R::Email).string_len(255).not_null())
                .col(ColumnDef::new(R::Lang).string_len(8).not_null())
                .col(ColumnDef::new(R::Token).string_len(32).not_null())
                .col(ms(R::PlannedMs))
                .col(code(R::State))
                .col(ColumnDef::new(R::Attempts).integer().not_null().default(0))
                .col(ms(R::NextMs))
                .col(ColumnDef::new(R::LeaseUntilMs).big_integer().not_null().default(0))
                .col(ColumnDef::new(R::MessageId).string_len(255).not_null())
                .col(ColumnDef::new(R::SentMs).big_integer())
                .col(ColumnDef::new(R::Error).text().not_null().default(""))
                .col(ColumnDef::new(R::OpenedMs).big_integer())
                .col(ColumnDef::new(R::ClickedMs).big_integer())
                .col(ColumnDef::new(R::SubmittedMs).big_integer())
                .col(ColumnDef::new(R::AttachmentMs).big_integer())
                .col(ColumnDef::new(R::RepliedMs).big_integer())
                .col(ColumnDef::new(R::ReportedMs).big_integer())
                .col(ColumnDef::new(R::MachineHits).integer().not_null().default(0))
                .col(flag(R::Remedial))
                .foreign_key(&mut fk(R::Table, R::CampaignId, C::Table, C::Id))
                .foreign_key(&mut fk(R::Table, R::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(R::Table, R::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_drill_recipients_token", R::Table, &["token"]).unique().to_owned()).await?;
        m.create_index(index("ux_drill_recipients_campaign_person", R::Table, &["campaign_id", "person_id"]).unique().to_owned()).await?;
        m.create_index(index("ix_drill_recipients_due", R::Table, &["campaign_id", "state", "next_ms"])).await?;
        m.create_index(index("ix_drill_recipients_person_id", R::Table, &["person_id"])).await?;
        m.create_index(index("ix_drill_recipients_company_id", R::Table, &["company_id"])).await?;
        m.create_index(index("ix_drill_recipients_message_id", R::Table, &["message_id"])).await?;

        use DrillEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(id(E::Id))
                .col(ref_id(E::RecipientId).not_null())
                .col(ref_id(E::CampaignId).not_null())
                .col(code(E::Kind))
                .col(ms(E::AtMs))
                .col(ColumnDef::new(E::Method).string_len(16).not_null())
                .col(ColumnDef::new(E::Ip).string_len(64).not_null())
                .col(ColumnDef::new(E::Agent).string_len(500).not_null())
                .col(code(E::Verdict))
                .col(ColumnDef::new(E::Reason).string_len(32))
                .col(ColumnDef::new(E::Detail).text().not_null().default(""))
                .foreign_key(&mut fk(E::Table, E::RecipientId, R::Table, R::Id))
                .foreign_key(&mut fk(E::Table, E::CampaignId, C::Table, C::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_drill_events_recipient_id", E::Table, &["recipient_id", "at_ms"])).await?;
        m.create_index(index("ix_drill_events_campaign_id", E::Table, &["campaign_id", "kind"])).await?;
        Ok(())
    }
}
