//! Tables of frameworks, controls, the Statement of Applicability and the risk register.

entity!(framework, "frameworks", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    code: String,
    name: String,
    version: String,
    publisher: String,
    description: String,
    /// Shipped with isms (its references are kept when the official text is imported onto it).
    builtin: bool,
    created_ms: i64,
    updated_ms: i64,
});

entity!(requirement, "requirements", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    framework_id: String,
    #[sea_orm(column_name = "ref")]
    reference: String,
    parent_id: Option<String>,
    depth: i16,
    /// Reading order within the framework.
    position: i32,
    /// A requirement without children: the ones assessed and stated in the SoA.
    leaf: bool,
    title: String,
    title_ja: String,
    description: String,
});

entity!(mapping, "requirement_mappings", {
    #[sea_orm(primary_key, auto_increment = false)]
    from_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    to_id: String,
    relation: String,
});

entity!(control, "controls", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    code: String,
    title: String,
    description: String,
    /// The owning company; `None` for a group control.
    company_id: Option<String>,
    owner_id: Option<String>,
    status: String,
    review_months: i32,
    /// The next effectiveness review.
    review_due: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(control_company, "control_companies", {
    #[sea_orm(primary_key, auto_increment = false)]
    control_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    company_id: String,
});

entity!(control_requirement, "control_requirements", {
    #[sea_orm(primary_key, auto_increment = false)]
    control_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    requirement_id: String,
});

entity!(evidence, "control_evidence", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    control_id: String,
    kind: String,
    title: String,
    url: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    data: Option<Vec<u8>>,
    /// The date the evidence speaks for.
    evidence_on: String,
    added_by: Option<String>,
    added_ms: i64,
});

entity!(soa, "soa_entries", {
    /// A company id, or `group`.
    #[sea_orm(primary_key, auto_increment = false)]
    scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    requirement_id: String,
    framework_id: String,
    applicable: bool,
    justification: String,
    updated_by: Option<String>,
    updated_ms: i64,
});

entity!(risk, "risks", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    #[sea_orm(column_name = "ref")]
    reference: String,
    title: String,
    description: String,
    company_id: String,
    owner_id: Option<String>,
    threat: String,
    vulnerability: String,
    inherent_likelihood: i16,
    inherent_impact: i16,
    inherent_score: i32,
    residual_likelihood: i16,
    residual_impact: i16,
    residual_score: i32,
    residual_reason: String,
    treatment: String,
    plan: String,
    status: String,
    accepted_by: Option<String>,
    accepted_ms: Option<i64>,
    acceptance_reason: String,
    acceptance_expires: Option<String>,
    review_due: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(risk_asset, "risk_assets", {
    #[sea_orm(primary_key, auto_increment = false)]
    risk_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    asset_id: String,
});

entity!(risk_control, "risk_controls", {
    #[sea_orm(primary_key, auto_increment = false)]
    risk_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    control_id: String,
});

entity!(action, "risk_actions", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    risk_id: String,
    title: String,
    control_id: Option<String>,
    owner_id: Option<String>,
    due_on: String,
    done_ms: Option<i64>,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(finding, "review_findings", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// `source:record:due`, so each lapse is one finding.
    key: String,
    /// document_review, control_review, risk_review, risk_acceptance or risk_action
    source: String,
    record_id: String,
    company_id: Option<String>,
    title: String,
    due_on: String,
    opened_ms: i64,
    /// When the lapse ended (the review was done, the date moved, the record went).
    closed_ms: Option<i64>,
});
