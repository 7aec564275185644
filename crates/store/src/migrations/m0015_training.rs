//! Awareness training: courses (their text in each language and their quiz), campaigns
//! that assign a course to a population, each person's assignment, quiz attempts, and
//! completions — taken here or imported from a learning system — which the twice-a-year
//! rule counts.

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
enum Courses {
    Table,
    Id,
    Code,
    Kind,
    CompanyId,
    DurationMinutes,
    PassMark,
    MaxAttempts,
    /// The questions as JSON (`isms_core::training::Question`), replaced whole on each edit.
    Quiz,
    /// Counts the edits of the text or quiz; a completion keeps the one it was taken on.
    Revision,
    Retired,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum CourseTexts {
    Table,
    CourseId,
    Lang,
    Title,
    Body,
    VideoUrl,
}
#[derive(DeriveIden)]
enum TrainingCampaigns {
    Table,
    Id,
    Title,
    CourseId,
    CompanyId,
    /// Who it reaches, as JSON (`isms_core::training::Population`).
    Population,
    StartsOn,
    DueOn,
    GraceDays,
    Status,
    CreatedBy,
    CreatedMs,
    UpdatedMs,
}
#[derive(DeriveIden)]
enum TrainingAssignments {
    Table,
    Id,
    CampaignId,
    CourseId,
    PersonId,
    CompanyId,
    DepartmentId,
    DueOn,
    Status,
    AssignedMs,
    CompletedMs,
    CompletionId,
}
#[derive(DeriveIden)]
enum QuizAttempts {
    Table,
    Id,
    AssignmentId,
    Number,
    Answers,
    Correct,
    Total,
    Percent,
    Passed,
    SubmittedMs,
}
#[derive(DeriveIden)]
enum TrainingCompletions {
    Table,
    Id,
    PersonId,
    CourseId,
    CompanyId,
    CompletedOn,
    CompletedMs,
    Source,
    /// What makes an imported completion the same one again: the assignment for one taken
    /// here, the statement id for xAPI, the learning system's row for CSV.
    Reference,
    Score,
    Revision,
    CreatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Courses as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(id(C::Id))
                .col(ColumnDef::new(C::Code).string_len(40).not_null().unique_key())
                .col(code(C::Kind))
                .col(ref_id(C::CompanyId))
                .col(ColumnDef::new(C::DurationMinutes).integer().not_null())
                .col(ColumnDef::new(C::PassMark).integer().not_null())
                .col(ColumnDef::new(C::MaxAttempts).integer())
                .col(ColumnDef::new(C::Quiz).text().not_null())
                .col(ColumnDef::new(C::Revision).integer().not_null())
                .col(flag(C::Retired))
                .col(ref_id(C::CreatedBy))
                .col(ms(C::CreatedMs))
                .col(ms(C::UpdatedMs))
                .foreign_key(&mut fk(C::Table, C::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(C::Table, C::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_courses_company_id", C::Table, &["company_id"])).await?;
        m.create_index(index("ix_courses_created_by", C::Table, &["created_by"])).await?;

        use CourseTexts as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(ref_id(T::CourseId).not_null())
                .col(ColumnDef::new(T::Lang).string_len(8).not_null())
                .col(ColumnDef::new(T::Title).string_len(300).not_null())
                .col(ColumnDef::new(T::Body).text().not_null())
                .col(ColumnDef::new(T::VideoUrl).string_len(500).not_null())
                .primary_key(Index::create().col(T::CourseId).col(T::Lang))
                .foreign_key(&mut fk(T::Table, T::CourseId, C::Table, C::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;

        use TrainingCampaigns as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(id(K::Id))
                .col(ColumnDef::new(K::Title).string_len(300).not_null())
                .col(ref_id(K::CourseId).not_null())
                .col(ref_id(K::CompanyId))
                .col(ColumnDef::new(K::Population).text().not_null())
                .col(ColumnDef::new(K::StartsOn).string_len(10).not_null())
                .col(ColumnDef::new(K::DueOn).string_len(10).not_null())
                .col(ColumnDef::new(K::GraceDays).integer().not_null())
                .col(code(K::Status))
                .col(ref_id(K::CreatedBy))
                .col(ms(K::CreatedMs))
                .col(ms(K::UpdatedMs))
                .foreign_key(&mut fk(K::Table, K::CourseId, C::Table, C::Id))
                .foreign_key(&mut fk(K::Table, K::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(K::Table, K::CreatedBy, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_training_campaigns_course_id", K::Table, &["course_id"])).await?;
        m.create_index(index("ix_training_campaigns_company_id", K::Table, &["company_id"])).await?;
        m.create_index(index("ix_training_campaigns_created_by", K::Table, &["created_by"])).await?;

        use TrainingCompletions as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(id(D::Id))
                .col(ref_id(D::PersonId).not_null())
                .col(ref_id(D::CourseId).not_null())
                .col(ref_id(D::CompanyId).not_null())
                .col(ColumnDef::new(D::CompletedOn).string_len(10).not_null())
                .col(ms(D::CompletedMs))
                .col(code(D::Source))
                .col(ColumnDef::new(D::Reference).string_len(200).not_null())
                .col(ColumnDef::new(D::Score).integer())
                .col(ColumnDef::new(D::Revision).integer().not_null())
                .col(ms(D::CreatedMs))
                .foreign_key(&mut fk(D::Table, D::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(D::Table, D::CourseId, C::Table, C::Id))
                .foreign_key(&mut fk(D::Table, D::CompanyId, Companies::Table, Companies::Id))
                .to_owned(),
        )
        .await?;
        // The same completion, imported or recorded twice, is one row.
        m.create_index(index("ux_training_completions_reference", D::Table, &["source", "reference"]).unique().to_owned()).await?;
        m.create_index(index("ix_training_completions_person_id", D::Table, &["person_id", "completed_on"])).await?;
        m.create_index(index("ix_training_completions_course_id", D::Table, &["course_id"])).await?;
        m.create_index(index("ix_training_completions_company_id", D::Table, &["company_id", "completed_on"])).await?;

        use TrainingAssignments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(id(A::Id))
                .col(ref_id(A::CampaignId).not_null())
                .col(ref_id(A::CourseId).not_null())
                .col(ref_id(A::PersonId).not_null())
                .col(ref_id(A::CompanyId).not_null())
                .col(ref_id(A::DepartmentId))
                .col(ColumnDef::new(A::DueOn).string_len(10).not_null())
                .col(code(A::Status))
                .col(ms(A::AssignedMs))
                .col(ColumnDef::new(A::CompletedMs).big_integer())
                .col(ref_id(A::CompletionId))
                .foreign_key(&mut fk(A::Table, A::CampaignId, K::Table, K::Id))
                .foreign_key(&mut fk(A::Table, A::CourseId, C::Table, C::Id))
                .foreign_key(&mut fk(A::Table, A::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(A::Table, A::CompanyId, Companies::Table, Companies::Id))
                .foreign_key(&mut fk(A::Table, A::DepartmentId, Departments::Table, Departments::Id))
                .foreign_key(&mut fk(A::Table, A::CompletionId, D::Table, D::Id))
                .to_owned(),
        )
        .await?;
        // One assignment per person and campaign: enrolling again (a joiner found twice,
        // two instances running the job) adds nobody twice.
        m.create_index(index("ux_training_assignments_person", A::Table, &["campaign_id", "person_id"]).unique().to_owned()).await?;
        m.create_index(index("ix_training_assignments_person_id", A::Table, &["person_id", "status"])).await?;
        m.create_index(index("ix_training_assignments_company_id", A::Table, &["company_id", "status"])).await?;
        m.create_index(index("ix_training_assignments_course_id", A::Table, &["course_id"])).await?;
        m.create_index(index("ix_training_assignments_department_id", A::Table, &["department_id"])).await?;
        m.create_index(index("ix_training_assignments_completion_id", A::Table, &["completion_id"])).await?;

        use QuizAttempts as Q;
        m.create_table(
            Table::create()
                .table(Q::Table)
                .col(id(Q::Id))
                .col(ref_id(Q::AssignmentId).not_null())
                .col(ColumnDef::new(Q::Number).integer().not_null())
                .col(ColumnDef::new(Q::Answers).text().not_null())
                .col(ColumnDef::new(Q::Correct).integer().not_null())
                .col(ColumnDef::new(Q::Total).integer().not_null())
                .col(ColumnDef::new(Q::Percent).integer().not_null())
                .col(flag(Q::Passed))
                .col(ms(Q::SubmittedMs))
                .foreign_key(&mut fk(Q::Table, Q::AssignmentId, A::Table, A::Id).on_delete(ForeignKeyAction::Cascade).to_owned())
                .to_owned(),
        )
        .await?;
        // Attempt n of an assignment exists once: two submissions at once cannot both be
        // the last attempt allowed.
        m.create_index(index("ux_quiz_attempts_number", Q::Table, &["assignment_id", "number"]).unique().to_owned()).await?;
        Ok(())
    }
}
