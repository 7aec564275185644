//! Versions of a document and their lifecycle: writing a draft, sending it for approval,
//! each approver's decision, publishing (which retires the version before and starts the
//! acknowledgement campaign), comparison and attachments. A published version never
//! changes: every write here checks the state first, inside the transaction.

use super::documents::load;
use super::{manages, reads_all, roles_for};
use isms_core::FieldError;
use isms_core::policies::{self as rules, Action, DocKind, VersionState, attachment, diff, editable, transition};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::policies::{approval, attachment as att, document, version};
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod attachments;
pub use attachments::*;

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub user_id: String,
    pub role: String,
    /// approve or reject
    pub decision: String,
    pub note: String,
    pub decided_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Version {
    pub id: String,
    pub document_id: String,
    pub number: i32,
    pub state: VersionState,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub summary: String,
    pub created_by: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub submitted_ms: Option<i64>,
    pub approved_ms: Option<i64>,
    pub published_ms: Option<i64>,
    pub retired_ms: Option<i64>,
    /// Why the last approver rejected it, when it came back to draft.
    pub decision_note: String,
    pub approvals: Vec<Approval>,
    pub attachments: Vec<Attachment>,
}

pub(crate) async fn build(db: &impl ConnectionTrait, rows: Vec<version::Model>) -> Result<Vec<Version>> {
    let ids: Vec<String> = rows.iter().map(|v| v.id.clone()).collect();
    let approvals = approval::Entity::find().filter(approval::Column::VersionId.is_in(ids.clone())).order_by_asc(approval::Column::DecidedMs).all(db).await?;
    let files = att::Entity::find()
        .select_only()
        .columns([
            att::Column::Id,
            att::Column::VersionId,
            att::Column::FileName,
            att::Column::ContentType,
            att::Column::Size,
            att::Column::Sha256,
            att::Column::UploadedBy,
            att::Column::CreatedMs,
        ])
        .filter(att::Column::VersionId.is_in(ids))
        .order_by_asc(att::Column::FileName)
        .into_tuple::<(String, String, String, String, i64, String, Option<String>, i64)>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|v| {
            Ok(Version {
                state: VersionState::parse(&v.state).map_err(|e| AppError::internal(e.to_string()))?,
                approvals: approvals
                    .iter()
                    .filter(|a| a.version_id == v.id)
                    .map(|a| Approval {
                        user_id: a.user_id.clone(),
                        role: a.role.clone(),
                        decision: a.decision.clone(),
                        note: a.note.clone(),
                        decided_ms: a.decided_ms,
                    })
                    .collect(),
                attachments: files
                    .iter()
                    .filter(|f| f.1 == v.id)
                    .map(|f| Attachment {
                        id: f.0.clone(),
                        file_name: f.2.clone(),
                        content_type: f.3.clone(),
                        size: f.4,
                        sha256: f.5.clone(),
                        uploaded_by: f.6.clone(),
                        created_ms: f.7,
                    })
                    .collect(),
                id: v.id,
                document_id: v.document_id,
                number: v.number,
                title: v.title,
                body: v.body,
                summary: v.summary,
                created_by: v.created_by,
                created_ms: v.created_ms,
                updated_ms: v.updated_ms,
                submitted_ms: v.submitted_ms,
                approved_ms: v.approved_ms,
                published_ms: v.published_ms,
                retired_ms: v.retired_ms,
                decision_note: v.decision_note,
            })
        })
        .collect()
}

fn check_text(errors: &mut Vec<FieldError>, title: &str, body: &str, summary: &str) {
    isms_kernel::input::required(errors, "title", title, 300);
    if body.len() > 1_000_000 {
        errors.push(FieldError::coded("body", "too-long", "is longer than 1000000 characters").arg("max", "1000000"));
    }
    if summary.chars().count() > 2000 {
        errors.push(FieldError::coded("summary", "too-long", "is longer than 2000 characters").arg("max", "2000"));
    }
}

pub(crate) async fn insert_draft(
    db: &impl ConnectionTrait,
    who: &Principal,
    doc_id: &str,
    number: i32,
    title: &str,
    body: &str,
    summary: &str,
) -> Result<version::Model> {
    let mut errors = vec![];
    check_text(&mut errors, title, body, summary);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = now_ms();
    Ok(version::Model {
        id: uuid::Uuid::now_v7().to_string(),
        document_id: doc_id.to_owned(),
        number,
        state: VersionState::Draft.code().into(),
        title: title.trim().to_owned(),
        body: body.replace("\r\n", "\n"),
        summary: summary.trim().to_owned(),
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
        submitted_ms: None,
        approved_ms: None,
        published_ms: None,
        retired_ms: None,
        decision_note: String::new(),
    }
    .into_active_model()
    .insert(db)
    .await?)
}

/// A document's version by number, for a caller who manages the document.
async fn managed(db: &impl ConnectionTrait, who: &Principal, doc_id: &str, number: i32) -> Result<(document::Model, version::Model)> {
    let d = load(db, who, doc_id).await?;
    if !reads_all(who, &d) {
        return Err(AppError::NotFound);
    }
    let v = version::Entity::find()
        .filter(version::Column::DocumentId.eq(doc_id))
        .filter(version::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((d, v))
}

/// Refuses anything but a draft the caller manages: the one check behind every change to a
/// version's text or files, so a published version stays frozen whatever the route.
fn writable_draft(who: &Principal, d: &document::Model, v: &version::Model) -> Result<()> {
    if !manages(who, d) {
        return Err(AppError::Forbidden);
    }
    let state = VersionState::parse(&v.state)?;
    if !editable(state) {
        return Err(AppError::coded("state", "version-frozen", format!("a {state} version cannot be changed; start a new version"))
            .into_with_arg("state", state.code()));
    }
    Ok(())
}

/// Starts a new version from the latest one (text and attachments copied). Only one
/// version may be open (draft, in review or approved) at a time.
pub async fn new_version(app: &App, who: &Principal, doc_id: &str) -> Result<Version> {
    let txn = app.store.write().await?;
    let d = load(&txn, who, doc_id).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    let latest = version::Entity::find()
        .filter(version::Column::DocumentId.eq(doc_id))
        .order_by_desc(version::Column::Number)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(open) = version::Entity::find()
        .filter(version::Column::DocumentId.eq(doc_id))
        .filter(version::Column::State.is_in(["draft", "in_review", "approved"]))
        .one(&txn)
        .await?
    {
        return Err(AppError::coded("state", "version-open", format!("version {} is still {}", open.number, open.state))
            .into_with_arg("number", open.number.to_string()));
    }
    let v = insert_draft(&txn, who, doc_id, latest.number + 1, &latest.title, &latest.body, "").await?;
    for f in att::Entity::find().filter(att::Column::VersionId.eq(latest.id.clone())).all(&txn).await? {
        att::ActiveModel { id: Set(uuid::Uuid::now_v7().to_string()), version_id: Set(v.id.clone()), created_ms: Set(now_ms()), ..f.into_active_model() }
            .insert(&txn)
            .await?;
    }
    document::Entity::update_many().col_expr(document::Column::UpdatedMs, Expr::val(now_ms())).filter(document::Column::Id.eq(doc_id)).exec(&txn).await?;
    record(app, &txn, who, "policies.version.create", "document", Some(doc_id), d.company_id.as_deref(), json!({"number": v.number, "from": latest.number}))
        .await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![v]).await?.remove(0))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct VersionInput {
    pub title: String,
    /// Markdown; HTML in it is shown as text.
    pub body: String,
    /// What changed from the version before.
    #[serde(default)]
    pub summary: String,
}

/// Changes a draft's text. Anything but a draft is refused, whatever the route.
pub async fn edit(app: &App, who: &Principal, doc_id: &str, number: i32, input: VersionInput) -> Result<Version> {
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    writable_draft(who, &d, &v)?;
    let mut errors = vec![];
    check_text(&mut errors, &input.title, &input.body, &input.summary);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut am = v.into_active_model();
    am.title = Set(input.title.trim().to_owned());
    am.body = Set(input.body.replace("\r\n", "\n"));
    am.summary = Set(input.summary.trim().to_owned());
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "policies.version.edit",
        "document",
        Some(doc_id),
        d.company_id.as_deref(),
        json!({"number": number, "title": saved.title, "body_chars": saved.body.chars().count()}),
    )
    .await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

fn refusal(r: rules::Refusal) -> AppError {
    AppError::Invalid(vec![r.to_field_error()])
}

/// Account ids that may approve `doc`'s versions under `rule`.
async fn approvers(db: &impl ConnectionTrait, doc: &document::Model, rule: &rules::ApprovalRule) -> Result<Vec<String>> {
    Ok(isms_store::accounts::holders_of(db, &[rule.approver_role.code()], doc.company_id.as_deref(), now_ms()).await?)
}

async fn set_state(db: &impl ConnectionTrait, v: version::Model, next: VersionState, f: impl FnOnce(&mut version::ActiveModel)) -> Result<version::Model> {
    let mut am = v.into_active_model();
    am.state = Set(next.code().into());
    am.updated_ms = Set(now_ms());
    f(&mut am);
    Ok(am.update(db).await?)
}

/// Sends a draft to its approvers, who are told.
pub async fn submit(app: &App, who: &Principal, doc_id: &str, number: i32) -> Result<Version> {
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    let next = transition(VersionState::parse(&v.state)?, Action::Submit).map_err(refusal)?;
    if v.body.trim().is_empty() {
        return Err(AppError::coded("body", "required", "is required"));
    }
    let saved = set_state(&txn, v, next, |am| {
        am.submitted_ms = Set(Some(now_ms()));
        am.decision_note = Set(String::new());
    })
    .await?;
    let rule = super::rule_for(app, DocKind::parse(&d.kind)?).await?;
    for uid in approvers(&txn, &d, &rule).await? {
        if Some(&uid) != who.user_id.as_ref() {
            let n = Notice::new(
                "policy-approval",
                json!({"code": d.code, "title": saved.title, "number": number}),
                format!("/policies/{}/versions/{number}", d.id),
            )
            .task(format!("policy-approval:{}:{uid}", saved.id));
            notify::to_user(app, &txn, &uid, &n).await?;
        }
    }
    record(app, &txn, who, "policies.version.submit", "document", Some(doc_id), d.company_id.as_deref(), json!({"number": number})).await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

/// Takes a version in review (or approved, not yet published) back to draft; decisions so far are void.
pub async fn withdraw(app: &App, who: &Principal, doc_id: &str, number: i32) -> Result<Version> {
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    let next = transition(VersionState::parse(&v.state)?, Action::Withdraw).map_err(refusal)?;
    approval::Entity::delete_many().filter(approval::Column::VersionId.eq(v.id.clone())).exec(&txn).await?;
    notify::done(&txn, &format!("policy-approval:{}", v.id)).await?;
    let saved = set_state(&txn, v, next, |am| {
        am.submitted_ms = Set(None);
        am.approved_ms = Set(None);
    })
    .await?;
    record(app, &txn, who, "policies.version.withdraw", "document", Some(doc_id), d.company_id.as_deref(), json!({"number": number})).await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = ApprovalDecisionInput)]
pub struct DecisionInput {
    pub approve: bool,
    /// Required when rejecting.
    #[serde(default)]
    pub note: String,
}

/// Whether `who` may decide on this version now (for showing the buttons).
pub async fn can_decide(app: &App, who: &Principal, doc_id: &str, number: i32) -> Result<bool> {
    let db = app.store.conn();
    let Ok((d, v)) = managed(db, who, doc_id, number).await else { return Ok(false) };
    let rule = super::rule_for(app, DocKind::parse(&d.kind)?).await?;
    let decided = match &who.user_id {
        Some(u) => approval::Entity::find()
            .filter(approval::Column::VersionId.eq(v.id.clone()))
            .filter(approval::Column::UserId.eq(u.clone()))
            .one(db)
            .await?
            .is_some(),
        None => true,
    };
    let author = v.created_by.is_some() && v.created_by == who.user_id;
    Ok(rules::may_decide(&rule, &roles_for(who, &d), author, decided, VersionState::parse(&v.state)?).is_ok())
}

/// One approver's decision. Enough approvals make the version approved; one rejection
/// sends it back to draft with the reason. The author never decides on their own version.
pub async fn decide(app: &App, who: &Principal, doc_id: &str, number: i32, input: DecisionInput) -> Result<Version> {
    let Some(uid) = who.user_id.clone() else { return Err(AppError::Forbidden) };
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    let rule = super::rule_for(app, DocKind::parse(&d.kind)?).await?;
    let decided = approval::Entity::find()
        .filter(approval::Column::VersionId.eq(v.id.clone()))
        .filter(approval::Column::UserId.eq(uid.clone()))
        .one(&txn)
        .await?
        .is_some();
    let author = v.created_by.as_deref() == Some(uid.as_str());
    match rules::may_decide(&rule, &roles_for(who, &d), author, decided, VersionState::parse(&v.state)?) {
        Ok(()) => {}
        Err(rules::Refusal::NotApprover(_)) => return Err(AppError::Forbidden),
        Err(r) => return Err(refusal(r)),
    }
    if !input.approve && input.note.trim().is_empty() {
        return Err(AppError::coded("note", "rejection-reason", "say why the version is rejected"));
    }
    let now = now_ms();
    approval::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        version_id: Set(v.id.clone()),
        user_id: Set(uid.clone()),
        role: Set(rule.approver_role.code().into()),
        decision: Set(if input.approve { "approve" } else { "reject" }.into()),
        note: Set(input.note.trim().to_owned()),
        decided_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    let approvals =
        approval::Entity::find().filter(approval::Column::VersionId.eq(v.id.clone())).filter(approval::Column::Decision.eq("approve")).all(&txn).await?.len()
            as i32;
    let action = if input.approve { Action::Approve { enough: approvals >= rule.approvals_needed } } else { Action::Reject };
    let next = transition(VersionState::parse(&v.state)?, action).map_err(refusal)?;
    let author_id = v.created_by.clone();
    let note = input.note.trim().to_owned();
    // This approver has answered; once the version leaves review, nobody else need.
    notify::done(&txn, &format!("policy-approval:{}:{uid}", v.id)).await?;
    if next != VersionState::InReview {
        notify::done(&txn, &format!("policy-approval:{}", v.id)).await?;
    }
    let saved = set_state(&txn, v, next, |am| {
        if next == VersionState::Approved {
            am.approved_ms = Set(Some(now));
        }
        if next == VersionState::Draft {
            am.submitted_ms = Set(None);
            am.decision_note = Set(note.clone());
        }
    })
    .await?;
    if next == VersionState::Draft {
        // This round's decisions were about a text that will now change; the next round
        // starts afresh. The rejection and its reason stay in the audit trail and on the draft.
        approval::Entity::delete_many().filter(approval::Column::VersionId.eq(saved.id.clone())).exec(&txn).await?;
    }
    if next != VersionState::InReview
        && let Some(a) = author_id
    {
        let kind = if next == VersionState::Approved { "policy-approved" } else { "policy-rejected" };
        notify::to_user(
            app,
            &txn,
            &a,
            &Notice::new(kind, json!({"code": d.code, "title": saved.title, "number": number, "note": note}), format!("/policies/{}/versions/{number}", d.id)),
        )
        .await?;
    }
    record(
        app,
        &txn,
        who,
        if input.approve { "policies.version.approve" } else { "policies.version.reject" },
        "document",
        Some(doc_id),
        d.company_id.as_deref(),
        json!({"number": number, "note": note, "role": rule.approver_role}),
    )
    .await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

/// Publishes an approved version: it is in force from now, the version before retires,
/// the next review falls due one interval later, and when the document must be read,
/// everyone it applies to is asked to acknowledge this exact version.
pub async fn publish(app: &App, who: &Principal, doc_id: &str, number: i32) -> Result<Version> {
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    let next = transition(VersionState::parse(&v.state)?, Action::Publish).map_err(refusal)?;
    let now = now_ms();
    if let Some(prev) = &d.current_version_id
        && let Some(p) = version::Entity::find_by_id(prev.clone()).one(&txn).await?
    {
        let retired = transition(VersionState::parse(&p.state)?, Action::Retire).map_err(refusal)?;
        // Reading the version now superseded is no longer asked; the new one asks afresh.
        notify::done(&txn, &format!("policy-read:{}", p.id)).await?;
        set_state(&txn, p, retired, |am| am.retired_ms = Set(Some(now))).await?;
    }
    let saved = set_state(&txn, v, next, |am| am.published_ms = Set(Some(now))).await?;
    let due = rules::next_review(isms_core::calendar::today(), d.review_months).to_string();
    let mut am = d.clone().into_active_model();
    am.current_version_id = Set(Some(saved.id.clone()));
    am.review_due = Set(Some(due.clone()));
    am.title = Set(saved.title.clone());
    am.retired = Set(false);
    am.updated_ms = Set(now);
    let d = am.update(&txn).await?;
    notify::done(&txn, &format!("doc-review:{doc_id}")).await?;
    let asked = if d.must_acknowledge { super::reading::ask_to_acknowledge(app, &txn, &d, &saved).await? } else { 0 };
    record(
        app,
        &txn,
        who,
        "policies.version.publish",
        "document",
        Some(doc_id),
        d.company_id.as_deref(),
        json!({"number": number, "review_due": due, "asked_to_acknowledge": asked}),
    )
    .await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

/// Withdraws a document from use: its version in force retires and it leaves the public pages.
pub async fn retire_document(app: &App, who: &Principal, doc_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let d = load(&txn, who, doc_id).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    if d.retired {
        return Err(AppError::coded("state", "document-retired", "the document is already retired"));
    }
    let now = now_ms();
    if let Some(cur) = &d.current_version_id
        && let Some(p) = version::Entity::find_by_id(cur.clone()).one(&txn).await?
    {
        let retired = transition(VersionState::parse(&p.state)?, Action::Retire).map_err(refusal)?;
        set_state(&txn, p, retired, |am| am.retired_ms = Set(Some(now))).await?;
    }
    let company = d.company_id.clone();
    let mut am = d.into_active_model();
    am.retired = Set(true);
    am.current_version_id = Set(None);
    am.review_due = Set(None);
    am.updated_ms = Set(now);
    am.update(&txn).await?;
    record(app, &txn, who, "policies.document.retire", "document", Some(doc_id), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(())
}

/// Two versions side by side.
pub async fn compare(app: &App, who: &Principal, doc_id: &str, a: i32, b: i32) -> Result<(Version, Version, Vec<diff::Row>)> {
    let db = app.store.conn();
    let (_, va) = managed(db, who, doc_id, a).await?;
    let (_, vb) = managed(db, who, doc_id, b).await?;
    let rows = diff::side_by_side(&va.body, &vb.body);
    let mut built = build(db, vec![va, vb]).await?;
    let vb = built.remove(1);
    Ok((built.remove(0), vb, rows))
}

/// Versions in review on which the caller may decide now, as (document id, number).
pub async fn awaiting_my_decision(app: &App, who: &Principal) -> Result<Vec<(String, i32)>> {
    if who.user_id.is_none() {
        return Ok(vec![]);
    }
    let pending: Vec<(String, i32)> = version::Entity::find()
        .select_only()
        .columns([version::Column::DocumentId, version::Column::Number])
        .filter(version::Column::State.eq("in_review"))
        .into_tuple()
        .all(app.store.conn())
        .await?;
    let mut out = vec![];
    for (doc, n) in pending {
        if can_decide(app, who, &doc, n).await? {
            out.push((doc, n));
        }
    }
    Ok(out)
}
