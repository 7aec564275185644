//! Tables of awareness training: courses and their text per language, campaigns,
//! assignments, quiz attempts and completions, the fiscal halves the twice-a-year rule
//! closed, and the statements learning systems posted.

entity!(course, "courses", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    code: String,
    /// awareness, remedial or specialist (`isms_core::training::CourseKind`)
    kind: String,
    /// The company that owns the course; `None` for the group's.
    company_id: Option<String>,
    duration_minutes: i32,
    /// Percent of questions right to pass; meaningless without a quiz.
    pass_mark: i32,
    /// `None` for as many attempts as it takes.
    max_attempts: Option<i32>,
    /// JSON list of `isms_core::training::Question`.
    quiz: String,
    revision: i32,
    retired: bool,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(text, "course_texts", {
    #[sea_orm(primary_key, auto_increment = false)]
    course_id: String,
    /// ja or en
    #[sea_orm(primary_key, auto_increment = false)]
    lang: String,
    title: String,
    /// Markdown.
    body: String,
    /// A link to the course's video, or empty.
    video_url: String,
});

entity!(campaign, "training_campaigns", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    title: String,
    course_id: String,
    /// The company that runs it; `None` for a group-wide campaign.
    company_id: Option<String>,
    /// JSON `isms_core::training::Population`.
    population: String,
    starts_on: String,
    due_on: String,
    grace_days: i32,
    /// active or closed
    status: String,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(assignment, "training_assignments", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    campaign_id: String,
    course_id: String,
    person_id: String,
    company_id: String,
    department_id: Option<String>,
    due_on: String,
    /// assigned, completed or dropped (`isms_core::training::AssignmentStatus`)
    status: String,
    assigned_ms: i64,
    completed_ms: Option<i64>,
    completion_id: Option<String>,
});

entity!(attempt, "quiz_attempts", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    assignment_id: String,
    number: i32,
    /// JSON: for each question, the indexes chosen.
    answers: String,
    correct: i32,
    total: i32,
    percent: i32,
    passed: bool,
    submitted_ms: i64,
});

entity!(completion, "training_completions", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    person_id: String,
    course_id: String,
    /// The person's company when they completed it.
    company_id: String,
    completed_on: String,
    completed_ms: i64,
    /// course, csv or xapi (`isms_core::training::CompletionSource`)
    source: String,
    reference: String,
    score: Option<i32>,
    revision: i32,
    created_ms: i64,
});

entity!(half, "training_halves", {
    /// `2026-H1` (`isms_core::training::FiscalHalf::key`).
    #[sea_orm(primary_key, auto_increment = false)]
    half: String,
    closed_ms: i64,
    people: i64,
    trained: i64,
    findings: i64,
});

entity!(statement, "training_statements", {
    /// The statement's own id (xAPI), so the same statement posted again is one row.
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    person_id: String,
    course_id: String,
    /// completed, passed or failed
    verb: String,
    score: Option<i32>,
    at_ms: i64,
    completion_id: Option<String>,
    received_ms: i64,
});
