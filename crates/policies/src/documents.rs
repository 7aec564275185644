//! Documents: their register (what each reader may see), the record page's content, and
//! creating and changing a document's particulars. The text lives in versions.

use super::versions::{self, Version};
use super::{manages, reads_all};
use isms_core::policies::{DocKind, DocLang, ReviewStatus, parse_code, review_status};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::assets::category;
use isms_store::now_ms;
use isms_store::org::company;
use isms_store::policies::{applies, document, link, review, version};
use isms_store::sea_orm::sea_query::{Expr, Query};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub id: String,
    pub code: String,
    pub kind: DocKind,
    pub title: String,
    /// The owning company; `None` for a group document.
    pub company_id: Option<String>,
    pub owner_id: Option<String>,
    pub language: DocLang,
    /// The same document in the other language.
    pub translation_id: Option<String>,
    pub public: bool,
    pub must_acknowledge: bool,
    pub review_months: i32,
    pub review_due: Option<String>,
    /// not_scheduled, current, due_soon or overdue
    pub review_status: String,
    /// The number of the version in force, if one is published.
    pub current_version: Option<i32>,
    pub published_ms: Option<i64>,
    pub retired: bool,
    /// Companies it applies to; empty: the whole group.
    pub applies_to: Vec<String>,
    /// Handling categories it implements.
    pub category_ids: Vec<String>,
    /// Controls it implements (a published version counts as the controls' evidence).
    pub control_ids: Vec<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Builds the views of `rows` with their companies, links and current versions.
pub(crate) async fn build(app: &App, db: &impl ConnectionTrait, rows: Vec<document::Model>) -> Result<Vec<Document>> {
    let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
    let comps = applies::Entity::find().filter(applies::Column::DocumentId.is_in(ids.clone())).all(db).await?;
    let links = link::Entity::find().filter(link::Column::DocumentId.is_in(ids.clone())).all(db).await?;
    let current_ids: Vec<String> = rows.iter().filter_map(|d| d.current_version_id.clone()).collect();
    let current = version::Entity::find().filter(version::Column::Id.is_in(current_ids)).all(db).await?;
    let today = isms_core::calendar::today();
    let remind = app.config().remind_days;
    rows.into_iter()
        .map(|d| {
            let due = d.review_due.as_deref().and_then(|s| s.parse().ok());
            let cur = d.current_version_id.as_ref().and_then(|c| current.iter().find(|v| &v.id == c));
            Ok(Document {
                kind: DocKind::parse(&d.kind)?,
                language: DocLang::parse(&d.language)?,
                review_status: (if d.retired { ReviewStatus::NotScheduled } else { review_status(due, today, remind) }).code().into(),
                current_version: cur.map(|v| v.number),
                published_ms: cur.and_then(|v| v.published_ms),
                applies_to: comps.iter().filter(|a| a.document_id == d.id).map(|a| a.company_id.clone()).collect(),
                category_ids: links.iter().filter(|l| l.document_id == d.id && l.target_kind == "category").map(|l| l.target_id.clone()).collect(),
                control_ids: links.iter().filter(|l| l.document_id == d.id && l.target_kind == "control").map(|l| l.target_id.clone()).collect(),
                id: d.id,
                code: d.code,
                title: d.title,
                company_id: d.company_id,
                owner_id: d.owner_id,
                translation_id: d.translation_id,
                public: d.public,
                must_acknowledge: d.must_acknowledge,
                review_months: d.review_months,
                review_due: d.review_due,
                retired: d.retired,
                created_ms: d.created_ms,
                updated_ms: d.updated_ms,
            })
        })
        .collect::<std::result::Result<Vec<_>, FieldError>>()
        .map_err(|e| AppError::internal(e.to_string()))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocQuery {
    /// Words in the code or title.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    /// `overdue` or `due_soon` reviews; `draft` (a version being written or approved); `in_review`; `retired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `code` (the default: by kind, then code), `title`, `kind`, `language`, `company` or `review`.
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
}

/// The condition that limits documents to what `who` sees: readers see their scope in
/// every state; everyone else the published documents that apply to their company.
async fn visible(db: &impl ConnectionTrait, who: &Principal) -> Result<Condition> {
    match who.access.scope(Permission::PoliciesRead) {
        isms_core::Scope::Group => return Ok(Condition::all()),
        isms_core::Scope::Companies(set) => {
            return Ok(Condition::any().add(document::Column::CompanyId.is_null()).add(document::Column::CompanyId.is_in(set.iter().map(|c| c.to_string()))));
        }
        isms_core::Scope::Nothing => {}
    }
    let Some(me) = super::my_person(db, who).await? else {
        // No person, nothing applies: an id is never null.
        return Ok(Condition::all().add(document::Column::Id.is_null()));
    };
    let any_limit = Query::select().distinct().column(applies::Column::DocumentId).from(applies::Entity).to_owned();
    let mine = Query::select().column(applies::Column::DocumentId).from(applies::Entity).and_where(applies::Column::CompanyId.eq(me.company_id)).to_owned();
    Ok(Condition::all()
        .add(document::Column::CurrentVersionId.is_not_null())
        .add(document::Column::Retired.eq(false))
        .add(Condition::any().add(document::Column::Id.not_in_subquery(any_limit)).add(document::Column::Id.in_subquery(mine))))
}

/// The columns a list of documents sorts by.
const ORDER: &[(&str, document::Column)] = &[
    ("code", document::Column::Code),
    ("title", document::Column::Title),
    ("kind", document::Column::Kind),
    ("language", document::Column::Language),
    ("company", document::Column::CompanyId),
    ("review", document::Column::ReviewDue),
];

pub async fn list(app: &App, who: &Principal, q: &DocQuery) -> Result<Page<Document>> {
    let db = app.store.conn();
    let mut sel = document::Entity::find().filter(visible(db, who).await?);
    if let Some(s) = isms_store::search::cleaned(q.search.as_deref()) {
        sel = sel.filter(isms_store::search::any_contains(&[document::Column::Code, document::Column::Title], &s));
    }
    if let Some(k) = q.kind.as_deref().filter(|k| !k.is_empty()) {
        sel = sel.filter(document::Column::Kind.eq(k));
    }
    if let Some(c) = q.company_id.as_deref().filter(|c| !c.is_empty()) {
        sel = if c == "group" { sel.filter(document::Column::CompanyId.is_null()) } else { sel.filter(document::Column::CompanyId.eq(c)) };
    }
    let today = isms_core::calendar::today();
    match q.status.as_deref() {
        Some("overdue") => sel = sel.filter(document::Column::Retired.eq(false)).filter(document::Column::ReviewDue.lt(today.to_string())),
        Some("due_soon") => {
            let horizon = today.saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
            sel = sel
                .filter(document::Column::Retired.eq(false))
                .filter(document::Column::ReviewDue.lte(horizon))
                .filter(document::Column::ReviewDue.gte(today.to_string()));
        }
        Some("draft") => {
            let open = Query::select()
                .column(version::Column::DocumentId)
                .from(version::Entity)
                .and_where(version::Column::State.is_in(["draft", "in_review", "approved"]))
                .to_owned();
            sel = sel.filter(document::Column::Id.in_subquery(open));
        }
        Some("retired") => sel = sel.filter(document::Column::Retired.eq(true)),
        Some("in_review") => {
            let open = Query::select().column(version::Column::DocumentId).from(version::Entity).and_where(version::Column::State.eq("in_review")).to_owned();
            sel = sel.filter(document::Column::Id.in_subquery(open));
        }
        _ => {}
    }
    let total = sel.clone().count(db).await?;
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    if q.sort.as_deref().is_none_or(str::is_empty) {
        // The register's own order: documents grouped by kind.
        sel = sel.order_by_asc(document::Column::Kind);
    }
    let cols = isms_kernel::order::Columns { keys: ORDER, default_desc: false, id: document::Column::Id };
    let rows =
        isms_kernel::order::ordered(sel, cols, q.sort.as_deref(), q.dir.as_deref())?.offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    Ok(Page { items: build(app, db, rows).await?, total })
}

/// A document's record page: its particulars, the versions the caller may see with their
/// approvals and attachments, its reviews and the caller's own acknowledgement.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentDetail {
    pub document: Document,
    pub versions: Vec<Version>,
    pub reviews: Vec<Review>,
    /// Whether the caller has acknowledged the version in force (`None`: not asked).
    pub acknowledged: Option<bool>,
    pub can_manage: bool,
    pub reads_all: bool,
    pub translation: Option<Document>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    pub outcome: String,
    pub note: String,
    pub reviewed_by: Option<String>,
    pub reviewed_ms: i64,
}

/// Loads a document the caller may see, or not found.
pub(crate) async fn load(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<document::Model> {
    let d = document::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    if reads_all(who, &d) {
        return Ok(d);
    }
    if d.current_version_id.is_some()
        && !d.retired
        && let Some(me) = super::my_person(db, who).await?
        && super::applies_to_company(db, &d, &me.company_id).await?
    {
        return Ok(d);
    }
    Err(AppError::NotFound)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<DocumentDetail> {
    let db = app.store.conn();
    let d = load(db, who, id).await?;
    let all = reads_all(who, &d);
    let mut q = version::Entity::find().filter(version::Column::DocumentId.eq(d.id.clone()));
    if !all {
        q = q.filter(version::Column::Id.eq(d.current_version_id.clone().unwrap_or_default()));
    }
    let versions = versions::build(db, q.order_by_desc(version::Column::Number).all(db).await?).await?;
    let reviews = if all {
        review::Entity::find()
            .filter(review::Column::DocumentId.eq(d.id.clone()))
            .order_by_desc(review::Column::ReviewedMs)
            .all(db)
            .await?
            .into_iter()
            .map(|r| Review { outcome: r.outcome, note: r.note, reviewed_by: r.reviewed_by, reviewed_ms: r.reviewed_ms })
            .collect()
    } else {
        vec![]
    };
    let acknowledged = super::reading::my_acknowledgement(app, db, who, &d).await?;
    let translation = match &d.translation_id {
        Some(t) => match load(db, who, t).await {
            Ok(m) => build(app, db, vec![m]).await?.pop(),
            Err(_) => None,
        },
        None => None,
    };
    let can_manage = manages(who, &d);
    let document = build(app, db, vec![d]).await?.remove(0);
    Ok(DocumentDetail { document, versions, reviews, acknowledged, can_manage, reads_all: all, translation })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DocumentInput {
    /// A short code such as `POL-001`.
    pub code: String,
    /// policy, regulation, guideline, handbook or procedure
    pub kind: String,
    pub title: String,
    /// The owning company; empty for a group document.
    #[serde(default)]
    pub company_id: Option<String>,
    /// The owner's person id or employee number.
    pub owner_id: String,
    /// ja or en
    pub language: String,
    /// The same document in the other language.
    #[serde(default)]
    pub translation_id: Option<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub must_acknowledge: bool,
    /// Months between reviews; the kind's usual interval when absent.
    #[serde(default)]
    pub review_months: Option<i32>,
    /// Companies it applies to; empty: the whole group (a company's document applies to that company).
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Handling categories it implements.
    #[serde(default)]
    pub category_ids: Vec<String>,
    /// Controls it implements.
    #[serde(default)]
    pub control_ids: Vec<String>,
    /// The first draft's text (Markdown); only when creating.
    #[serde(default)]
    pub body: String,
}

struct Valid {
    code: String,
    kind: DocKind,
    title: String,
    company_id: Option<String>,
    owner_id: String,
    language: DocLang,
    translation_id: Option<String>,
    review_months: i32,
    applies_to: Vec<String>,
    category_ids: Vec<String>,
    control_ids: Vec<String>,
}

async fn validate(app: &App, db: &impl ConnectionTrait, who: &Principal, input: &DocumentInput, this: Option<&str>) -> Result<Valid> {
    let mut errors = vec![];
    let code = parse_code(&input.code).map_err(|e| errors.push(e)).unwrap_or_default();
    let kind = DocKind::parse(&input.kind).map_err(|e| errors.push(e)).unwrap_or(DocKind::Guideline);
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let language = DocLang::parse(&input.language).map_err(|e| errors.push(e)).unwrap_or(DocLang::Ja);
    let company_id = isms_kernel::input::blank_to_none(&input.company_id);
    if let Some(c) = &company_id
        && company::Entity::find_by_id(c.clone()).one(db).await?.is_none()
    {
        errors.push(FieldError::coded("company_id", "no-company", "no such company"));
    }
    let review_months = match input.review_months {
        Some(m) if !(1..=60).contains(&m) => {
            errors.push(FieldError::coded("review_months", "between", "must be between 1 and 60").arg("min", "1").arg("max", "60"));
            12
        }
        Some(m) => m,
        None => super::rule_for(app, kind).await?.review_months,
    };
    let owner_id = isms_org::people::required_person(db, "owner_id", &input.owner_id, &mut errors).await?;
    let mut applies_to = isms_kernel::id_list(&input.applies_to);
    for c in &applies_to {
        if company::Entity::find_by_id(c.clone()).one(db).await?.is_none() {
            errors.push(FieldError::coded("applies_to", "no-company", "no such company"));
        } else if company_id.as_ref().is_some_and(|own| own != c) {
            errors.push(FieldError::coded("applies_to", "applies-own-company", "a company's document applies only within that company"));
        }
    }
    if let Some(own) = &company_id {
        applies_to = vec![own.clone()];
    }
    let category_ids = isms_kernel::id_list(&input.category_ids);
    for c in &category_ids {
        if category::Entity::find_by_id(c.clone()).one(db).await?.is_none() {
            errors.push(FieldError::coded("category_ids", "no-category", "no such category"));
        }
    }
    let control_ids = isms_kernel::id_list(&input.control_ids);
    let found =
        isms_store::compliance::control::Entity::find().filter(isms_store::compliance::control::Column::Id.is_in(control_ids.clone())).count(db).await?;
    if found != control_ids.len() as u64 {
        errors.push(FieldError::coded("control_ids", "no-control", "no such control"));
    }
    let translation_id = isms_kernel::input::blank_to_none(&input.translation_id);
    if let Some(t) = &translation_id {
        match document::Entity::find_by_id(t.clone()).one(db).await? {
            Some(other) if Some(other.id.as_str()) == this => {
                errors.push(FieldError::coded("translation_id", "translation-self", "a document cannot translate itself"))
            }
            Some(other) if other.language == language.code() => {
                errors.push(FieldError::coded("translation_id", "translation-same-language", "is in the same language"))
            }
            Some(other) if other.translation_id.is_some() && other.translation_id.as_deref() != this => {
                errors.push(FieldError::coded("translation_id", "translation-taken", "is already linked to another document"))
            }
            Some(other) if !manages(who, &other) => errors.push(FieldError::coded("translation_id", "no-document", "no such document")),
            Some(_) => {}
            None => errors.push(FieldError::coded("translation_id", "no-document", "no such document")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Where the document would belong decides whether the caller may write it.
    if !who.access.can_for(Permission::PoliciesManage, company_id.as_deref().and_then(|c| c.parse().ok())) {
        return Err(AppError::coded("company_id", "company-out-of-scope", "you do not manage documents of this company"));
    }
    Ok(Valid { code, kind, title, company_id, owner_id, language, translation_id, review_months, applies_to, category_ids, control_ids })
}

async fn save_relations(db: &impl ConnectionTrait, doc_id: &str, v: &Valid) -> Result<()> {
    applies::Entity::delete_many().filter(applies::Column::DocumentId.eq(doc_id)).exec(db).await?;
    for c in &v.applies_to {
        applies::Entity::insert(applies::ActiveModel { document_id: Set(doc_id.to_owned()), company_id: Set(c.clone()) }).exec_without_returning(db).await?;
    }
    link::Entity::delete_many().filter(link::Column::DocumentId.eq(doc_id)).filter(link::Column::TargetKind.is_in(["category", "control"])).exec(db).await?;
    for (kind, ids) in [("category", &v.category_ids), ("control", &v.control_ids)] {
        for c in ids {
            link::Entity::insert(link::ActiveModel { document_id: Set(doc_id.to_owned()), target_kind: Set(kind.into()), target_id: Set(c.clone()) })
                .exec_without_returning(db)
                .await?;
        }
    }
    // A translation link goes both ways; a link given up is cleared on the other side.
    document::Entity::update_many()
        .col_expr(document::Column::TranslationId, Expr::val(Option::<String>::None))
        .filter(document::Column::TranslationId.eq(doc_id))
        .exec(db)
        .await?;
    if let Some(t) = &v.translation_id {
        document::Entity::update_many()
            .col_expr(document::Column::TranslationId, Expr::val(doc_id))
            .filter(document::Column::Id.eq(t.clone()))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn code_taken(e: isms_store::sea_orm::DbErr) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("code", "doc-code-taken", "another document has this code"),
        other => other,
    }
}

/// Creates a document with its first draft.
pub async fn create(app: &App, who: &Principal, input: DocumentInput) -> Result<Document> {
    let txn = app.store.write().await?;
    let v = validate(app, &txn, who, &input, None).await?;
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let m = document::Model {
        id: id.clone(),
        code: v.code.clone(),
        kind: v.kind.code().into(),
        title: v.title.clone(),
        company_id: v.company_id.clone(),
        owner_id: Some(v.owner_id.clone()),
        language: v.language.code().into(),
        translation_id: v.translation_id.clone(),
        public: input.public,
        must_acknowledge: input.must_acknowledge,
        review_months: v.review_months,
        review_due: None,
        current_version_id: None,
        retired: false,
        created_ms: now,
        updated_ms: now,
    };
    m.into_active_model().insert(&txn).await.map_err(code_taken)?;
    save_relations(&txn, &id, &v).await?;
    versions::insert_draft(&txn, who, &id, 1, &v.title, &input.body, "").await?;
    record(app, &txn, who, "policies.document.create", "document", Some(&id), v.company_id.as_deref(), json!({"after": input})).await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(build(app, db, vec![document::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?]).await?.remove(0))
}

/// Changes a document's particulars (not its text: that is a new version).
pub async fn update(app: &App, who: &Principal, id: &str, input: DocumentInput) -> Result<Document> {
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !manages(who, &old) {
        return Err(AppError::Forbidden);
    }
    let v = validate(app, &txn, who, &input, Some(id)).await?;
    if v.kind.code() != old.kind && old.current_version_id.is_some() {
        return Err(AppError::coded("kind", "kind-fixed", "the kind of a published document cannot change"));
    }
    let mut am = old.clone().into_active_model();
    am.code = Set(v.code.clone());
    am.kind = Set(v.kind.code().into());
    am.title = Set(v.title.clone());
    am.company_id = Set(v.company_id.clone());
    am.owner_id = Set(Some(v.owner_id.clone()));
    am.language = Set(v.language.code().into());
    am.translation_id = Set(v.translation_id.clone());
    am.public = Set(input.public);
    am.must_acknowledge = Set(input.must_acknowledge);
    if v.review_months != old.review_months {
        am.review_months = Set(v.review_months);
    }
    am.updated_ms = Set(now_ms());
    am.update(&txn).await.map_err(code_taken)?;
    save_relations(&txn, id, &v).await?;
    let mut after = serde_json::to_value(&input).unwrap_or_default();
    if let Some(o) = after.as_object_mut() {
        o.remove("body");
    }
    record(
        app,
        &txn,
        who,
        "policies.document.update",
        "document",
        Some(id),
        v.company_id.as_deref(),
        json!({"before": {"code": old.code, "title": old.title, "public": old.public, "must_acknowledge": old.must_acknowledge}, "after": after}),
    )
    .await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(build(app, db, vec![document::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?]).await?.remove(0))
}
