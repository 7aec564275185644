//! The twice-a-year rule and learning systems: each fiscal half once closed (its figures
//! kept as they stood on its last day), and every xAPI statement a learning system posted,
//! kept once by its id so a retry records nothing twice.

use super::columns::{code, fk, id, index, ms, ref_id};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum TrainingHalves {
    Table,
    /// `2026-H1`: the fiscal year by the year it starts, and its half.
    Half,
    ClosedMs,
    /// Active people the rule counted, and how many of them had completed an awareness
    /// course in the half, when it closed.
    People,
    Trained,
    Findings,
}
#[derive(DeriveIden)]
enum TrainingStatements {
    Table,
    Id,
    PersonId,
    CourseId,
    /// completed, passed or failed
    Verb,
    Score,
    AtMs,
    /// The completion it made, when it made one.
    CompletionId,
    ReceivedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use TrainingHalves as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(ColumnDef::new(H::Half).string_len(8).not_null().primary_key())
                .col(ms(H::ClosedMs))
                .col(ColumnDef::new(H::People).big_integer().not_null())
                .col(ColumnDef::new(H::Trained).big_integer().not_null())
                .col(ColumnDef::new(H::Findings).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        use TrainingStatements as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(id(S::Id))
                .col(ref_id(S::PersonId).not_null())
                .col(ref_id(S::CourseId).not_null())
                .col(code(S::Verb))
                .col(ColumnDef::new(S::Score).integer())
                .col(ms(S::AtMs))
                .col(ColumnDef::new(S::CompletionId).string_len(36))
                .col(ms(S::ReceivedMs))
                .foreign_key(&mut fk(S::Table, S::PersonId, People::Table, People::Id))
                .foreign_key(&mut fk(S::Table, S::CourseId, Courses::Table, Courses::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_training_statements_person_id", S::Table, &["person_id", "course_id"])).await?;
        m.create_index(index("ix_training_statements_course_id", S::Table, &["course_id"])).await?;
        Ok(())
    }
}
