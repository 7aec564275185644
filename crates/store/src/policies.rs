//! Tables of the management system's documents: kinds with their approvers, documents and
//! the companies they apply to, versions, approvals, attachments, acknowledgements,
//! reviews and links.

entity!(kind, "document_kinds", {
    #[sea_orm(primary_key, auto_increment = false)]
    kind: String,
    approver_role: String,
    approvals_needed: i32,
    review_months: i32,
    updated_ms: i64,
});

entity!(document, "documents", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    code: String,
    kind: String,
    title: String,
    /// The company that owns the document; `None` for the group.
    company_id: Option<String>,
    owner_id: Option<String>,
    language: String,
    /// The same document in the other language.
    translation_id: Option<String>,
    public: bool,
    must_acknowledge: bool,
    review_months: i32,
    review_due: Option<String>,
    /// The version in force (the last published), if any.
    current_version_id: Option<String>,
    retired: bool,
    created_ms: i64,
    updated_ms: i64,
});

entity!(applies, "document_companies", {
    #[sea_orm(primary_key, auto_increment = false)]
    document_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    company_id: String,
});

entity!(version, "document_versions", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    document_id: String,
    number: i32,
    state: String,
    title: String,
    body: String,
    summary: String,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    submitted_ms: Option<i64>,
    approved_ms: Option<i64>,
    published_ms: Option<i64>,
    retired_ms: Option<i64>,
    /// The last rejection's reason, shown on the draft it returned to.
    decision_note: String,
});

entity!(approval, "version_approvals", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    version_id: String,
    user_id: String,
    role: String,
    /// approve or reject
    decision: String,
    note: String,
    decided_ms: i64,
});

entity!(attachment, "version_attachments", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    version_id: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    data: Vec<u8>,
    uploaded_by: Option<String>,
    created_ms: i64,
});

entity!(acknowledgement, "acknowledgements", {
    #[sea_orm(primary_key, auto_increment = false)]
    version_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    person_id: String,
    user_id: Option<String>,
    acknowledged_ms: i64,
});

entity!(review, "document_reviews", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    document_id: String,
    /// no_change or new_version
    outcome: String,
    note: String,
    reviewed_by: Option<String>,
    reviewed_ms: i64,
    version_id: Option<String>,
});

entity!(link, "document_links", {
    #[sea_orm(primary_key, auto_increment = false)]
    document_id: String,
    /// category (a handling category); control once controls exist
    #[sea_orm(primary_key, auto_increment = false)]
    target_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    target_id: String,
});
