//! Tables of e-mail drills: sending profiles, templates and their text per language,
//! campaigns, recipients (each also an outbox row) and the events recorded for them.

entity!(profile, "drill_profiles", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// The company that owns the profile; `None` for the group's.
    company_id: Option<String>,
    name: String,
    host: String,
    port: i32,
    /// starttls, tls or none
    security: String,
    username: String,
    /// Sealed with the instance key (`v1:…`), or empty.
    password: String,
    envelope_from: String,
    retired: bool,
    created_ms: i64,
    updated_ms: i64,
});

entity!(template, "drill_templates", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    company_id: Option<String>,
    name: String,
    /// virus, credential or bec (`isms_core::drills::DrillKind`)
    kind: String,
    from_name: String,
    from_address: String,
    reply_to: Option<String>,
    attachment_name: Option<String>,
    retired: bool,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(text, "drill_template_texts", {
    #[sea_orm(primary_key, auto_increment = false)]
    template_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    lang: String,
    subject: String,
    body: String,
    landing: String,
    lesson: String,
});

entity!(campaign, "drill_campaigns", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    company_id: Option<String>,
    name: String,
    template_id: String,
    profile_id: String,
    /// JSON `isms_core::training::Population`.
    population: String,
    first_day: String,
    last_day: String,
    /// JSON `isms_core::drills::Window`.
    window: String,
    cap: i32,
    link_base: String,
    /// `isms_core::drills::CampaignState`
    state: String,
    remedial_course_id: Option<String>,
    recipients: i64,
    created_by: Option<String>,
    created_ms: i64,
    launched_ms: Option<i64>,
    updated_ms: i64,
    lease_owner: Option<String>,
    lease_until_ms: i64,
});

entity!(recipient, "drill_recipients", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    campaign_id: String,
    person_id: String,
    company_id: String,
    department_id: Option<String>,
    email: String,
    lang: String,
    token: String,
    planned_ms: i64,
    /// `isms_core::drills::SendState`
    state: String,
    attempts: i32,
    next_ms: i64,
    lease_until_ms: i64,
    message_id: String,
    sent_ms: Option<i64>,
    error: String,
    /// The first time of each signal judged a person's.
    opened_ms: Option<i64>,
    clicked_ms: Option<i64>,
    submitted_ms: Option<i64>,
    attachment_ms: Option<i64>,
    replied_ms: Option<i64>,
    reported_ms: Option<i64>,
    machine_hits: i32,
    /// Enrolled in the remedial course for this campaign.
    remedial: bool,
});

entity!(event, "drill_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    recipient_id: String,
    campaign_id: String,
    /// `isms_core::drills::EventKind`
    kind: String,
    at_ms: i64,
    method: String,
    ip: String,
    agent: String,
    /// human, machine, pending or unreliable
    verdict: String,
    /// `isms_core::drills::MachineReason` when a machine's.
    reason: Option<String>,
    detail: String,
});
