//! Tables of incident response: cases, the companies and assets they touch, members
//! added on a need-to-know basis, the timeline and the regulatory clocks.

entity!(incident, "incidents", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// `INC-2026-0001`
    r#ref: String,
    title: String,
    kind: String,
    status: String,
    severity: Option<i16>,
    impact: Option<String>,
    exposure: Option<String>,
    /// The company the case belongs to (the reporter's, or as the CSIRT decides).
    company_id: String,
    description: String,
    reported_by: Option<String>,
    reporter_person_id: Option<String>,
    /// When the incident became known: the regulatory clocks run from here.
    discovered_ms: i64,
    reported_ms: i64,
    triage_ms: Option<i64>,
    contained_ms: Option<i64>,
    eradicated_ms: Option<i64>,
    recovered_ms: Option<i64>,
    review_ms: Option<i64>,
    closed_ms: Option<i64>,
    /// Unknown until triage answers it.
    personal_data: Option<bool>,
    customer_data: bool,
    sensitive: bool,
    financial_risk: bool,
    unlawful_purpose: bool,
    people_affected: Option<i64>,
    strongly_encrypted: bool,
    eu_residents: bool,
    data_categories: String,
    /// ATT&CK technique ids separated by commas.
    techniques: String,
    /// A drill: never counted in real statistics.
    exercise: bool,
    root_cause: String,
    lessons: String,
    actions_note: String,
    close_reason: String,
    created_ms: i64,
    updated_ms: i64,
});

entity!(company, "incident_companies", {
    #[sea_orm(primary_key, auto_increment = false)]
    incident_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    company_id: String,
});

entity!(affected, "incident_assets", {
    #[sea_orm(primary_key, auto_increment = false)]
    incident_id: String,
    /// asset or support
    #[sea_orm(primary_key, auto_increment = false)]
    target_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    target_id: String,
});

entity!(member, "incident_members", {
    #[sea_orm(primary_key, auto_increment = false)]
    incident_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    user_id: String,
    added_by: Option<String>,
    added_ms: i64,
});

entity!(event, "incident_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    at_ms: i64,
    actor: Option<String>,
    /// status, note or facts
    kind: String,
    /// Encrypted (base64) when `personal`.
    text: String,
    personal: bool,
});

entity!(clock, "incident_clocks", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    kind: String,
    due_ms: i64,
    done_ms: Option<i64>,
    done_by: Option<String>,
    note: String,
    /// done, or not_applicable (the note says why); meaningful once `done_ms` is set.
    outcome: String,
});

entity!(action, "incident_actions", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    title: String,
    /// The person who carries it out.
    owner_id: Option<String>,
    due_on: String,
    /// open, done or verified
    status: String,
    done_ms: Option<i64>,
    verified_ms: Option<i64>,
    verified_by: Option<String>,
    note: String,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(observable, "incident_observables", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    kind: String,
    value: String,
    note: String,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(evidence, "incident_evidence", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    data: Vec<u8>,
    description: String,
    collected_by: Option<String>,
    collected_ms: i64,
});

entity!(custody, "evidence_custody", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    evidence_id: String,
    at_ms: i64,
    actor: Option<String>,
    /// collected, handed_over or accessed
    action: String,
    /// Who received it, for a hand-over.
    party: String,
    note: String,
});

entity!(playbook, "playbooks", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    code: String,
    version: i32,
    name: String,
    /// The incident type it is for; `None` for any.
    kind: Option<String>,
    min_severity: i16,
    /// One task per line: `hours | role | task`.
    tasks: String,
    /// The version in use.
    latest: bool,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(task, "incident_tasks", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    playbook_id: Option<String>,
    title: String,
    role: String,
    due_ms: i64,
    done_ms: Option<i64>,
    done_by: Option<String>,
    created_ms: i64,
    /// done or cancelled; meaningful once `done_ms` is set.
    outcome: String,
    /// Why it was cancelled.
    reason: String,
});

entity!(release, "incident_releases", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    incident_id: String,
    /// announcement, customer_notice or regulator_report
    kind: String,
    language: String,
    /// Markdown.
    body: String,
    /// draft, approved or released
    status: String,
    drafted_by: Option<String>,
    approved_by: Option<String>,
    approved_ms: Option<i64>,
    released_ms: Option<i64>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(drill, "drills", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    title: String,
    planned_on: String,
    /// `None`: a group-wide drill.
    company_id: Option<String>,
    /// The exercise case, once the drill runs.
    incident_id: Option<String>,
    participants: String,
    findings: String,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});
