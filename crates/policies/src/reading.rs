//! Reading the documents: acknowledgement campaigns (who was asked to read which version,
//! who confirmed, progress by company and department, reminders), the review calendar
//! with its reminders, and the public pages that need no sign-in.

use super::documents::{self, Document, load};
use super::{manages, reads_all};
use isms_core::policies::{DocKind, DocLang, ReviewOutcome, markdown, next_review};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::policies::{acknowledgement, attachment as att, document, review, version};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

/// Active people a document applies to, as (person id, company, department).
async fn audience(db: &impl ConnectionTrait, doc: &document::Model) -> Result<Vec<(String, String, Option<String>)>> {
    let companies = super::applies_to(db, &doc.id).await?;
    let mut q = person::Entity::find()
        .select_only()
        .columns([person::Column::Id, person::Column::CompanyId, person::Column::DepartmentId])
        .filter(person::Column::Status.eq("active"));
    if !companies.is_empty() {
        q = q.filter(person::Column::CompanyId.is_in(companies));
    }
    Ok(q.into_tuple().all(db).await?)
}

/// Asks everyone the document applies to to read `v`; returns how many were asked.
pub(crate) async fn ask_to_acknowledge(app: &App, db: &impl ConnectionTrait, doc: &document::Model, v: &version::Model) -> Result<usize> {
    let mut n = 0;
    for (pid, _, _) in audience(db, doc).await? {
        let notice = Notice::new("policy-acknowledge", json!({"code": doc.code, "title": v.title, "number": v.number}), format!("/policies/{}", doc.id))
            .once(format!("ack:{}:{pid}", v.id))
            .task(format!("policy-read:{}:{pid}", v.id));
        if notify::to_person(app, db, &pid, &notice).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Whether the caller confirmed reading the version in force (`None` when not asked).
pub(crate) async fn my_acknowledgement(_app: &App, db: &impl ConnectionTrait, who: &Principal, doc: &document::Model) -> Result<Option<bool>> {
    let (Some(cur), true, false) = (&doc.current_version_id, doc.must_acknowledge, doc.retired) else { return Ok(None) };
    let Some(me) = super::my_person(db, who).await? else { return Ok(None) };
    if !super::applies_to_company(db, doc, &me.company_id).await? {
        return Ok(None);
    }
    Ok(Some(acknowledgement::Entity::find_by_id((cur.clone(), me.id)).one(db).await?.is_some()))
}

/// The caller confirms they have read the version in force of a document they must read.
pub async fn acknowledge(app: &App, who: &Principal, doc_id: &str) -> Result<i32> {
    let txn = app.store.write().await?;
    let d = load(&txn, who, doc_id).await?;
    let Some(me) = super::my_person(&txn, who).await? else {
        return Err(AppError::coded("form", "account-without-person", "your account is not linked to a person of the group"));
    };
    let (Some(cur), true) = (&d.current_version_id, d.must_acknowledge) else {
        return Err(AppError::coded("form", "no-acknowledgement", "this document does not ask to be acknowledged"));
    };
    if d.retired || !super::applies_to_company(&txn, &d, &me.company_id).await? {
        return Err(AppError::coded("form", "no-acknowledgement", "this document does not ask to be acknowledged"));
    }
    let v = version::Entity::find_by_id(cur.clone()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if acknowledgement::Entity::find_by_id((cur.clone(), me.id.clone())).one(&txn).await?.is_some() {
        return Err(AppError::coded("form", "already-acknowledged", "you have already acknowledged this version"));
    }
    acknowledgement::ActiveModel {
        version_id: Set(cur.clone()),
        person_id: Set(me.id.clone()),
        user_id: Set(who.user_id.clone()),
        acknowledged_ms: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    notify::done(&txn, &format!("policy-read:{}:{}", cur, me.id)).await?;
    record(app, &txn, who, "policies.acknowledge", "document", Some(doc_id), d.company_id.as_deref(), json!({"number": v.number})).await?;
    txn.commit().await?;
    Ok(v.number)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReadingTally)]
pub struct Tally {
    /// A company or department id (`None`: people without a department).
    pub id: Option<String>,
    pub company_id: Option<String>,
    pub asked: u64,
    pub acknowledged: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub number: i32,
    pub asked: u64,
    pub acknowledged: u64,
    pub by_company: Vec<Tally>,
    pub by_department: Vec<Tally>,
    /// Those who have not confirmed yet (first 500), as person ids.
    pub outstanding: Vec<String>,
}

/// How far the campaign of the version in force has come, within the caller's scope.
pub async fn progress(app: &App, who: &Principal, doc_id: &str) -> Result<Progress> {
    let db = app.store.conn();
    let d = load(db, who, doc_id).await?;
    if !reads_all(who, &d) {
        return Err(AppError::Forbidden);
    }
    let (Some(cur), true) = (&d.current_version_id, d.must_acknowledge) else {
        return Err(AppError::coded("form", "no-acknowledgement", "this document does not ask to be acknowledged"));
    };
    let v = version::Entity::find_by_id(cur.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    let done: HashSet<String> =
        acknowledgement::Entity::find().filter(acknowledgement::Column::VersionId.eq(cur.clone())).all(db).await?.into_iter().map(|a| a.person_id).collect();
    let scope = who.access.scope(isms_core::Permission::PoliciesRead);
    let mut by_company: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut by_dept: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    let (mut asked, mut acknowledged, mut outstanding) = (0, 0, vec![]);
    for (pid, company, dept) in audience(db, &d).await? {
        if !scope.covers(company.parse().ok()) {
            continue;
        }
        let yes = done.contains(&pid);
        asked += 1;
        acknowledged += yes as u64;
        let c = by_company.entry(company.clone()).or_default();
        c.0 += 1;
        c.1 += yes as u64;
        let t = by_dept.entry((company, dept)).or_default();
        t.0 += 1;
        t.1 += yes as u64;
        if !yes && outstanding.len() < 500 {
            outstanding.push(pid);
        }
    }
    Ok(Progress {
        number: v.number,
        asked,
        acknowledged,
        by_company: by_company.into_iter().map(|(c, (a, k))| Tally { id: Some(c.clone()), company_id: Some(c), asked: a, acknowledged: k }).collect(),
        by_department: by_dept.into_iter().map(|((c, dpt), (a, k))| Tally { id: dpt, company_id: Some(c), asked: a, acknowledged: k }).collect(),
        outstanding,
    })
}

/// Reminds everyone in scope who has not confirmed the version in force (once a day each).
pub async fn remind_unacknowledged(app: &App, who: &Principal, doc_id: &str) -> Result<usize> {
    let txn = app.store.write().await?;
    let d = load(&txn, who, doc_id).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    let (Some(cur), true) = (&d.current_version_id, d.must_acknowledge) else {
        return Err(AppError::coded("form", "no-acknowledgement", "this document does not ask to be acknowledged"));
    };
    let v = version::Entity::find_by_id(cur.clone()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let done: HashSet<String> =
        acknowledgement::Entity::find().filter(acknowledgement::Column::VersionId.eq(cur.clone())).all(&txn).await?.into_iter().map(|a| a.person_id).collect();
    let scope = who.access.scope(isms_core::Permission::PoliciesManage);
    let today = isms_core::calendar::today();
    let mut n = 0;
    for (pid, company, _) in audience(&txn, &d).await? {
        if done.contains(&pid) || !scope.covers(company.parse().ok()) {
            continue;
        }
        let notice = Notice::new("policy-acknowledge-reminder", json!({"code": d.code, "title": v.title, "number": v.number}), format!("/policies/{}", d.id))
            .once(format!("ack-remind:{}:{pid}:{today}", v.id))
            .task(format!("policy-read:{}:{pid}", v.id));
        if notify::to_person(app, &txn, &pid, &notice).await? {
            n += 1;
        }
    }
    record(app, &txn, who, "policies.acknowledge.remind", "document", Some(doc_id), d.company_id.as_deref(), json!({"number": v.number, "reminded": n}))
        .await?;
    txn.commit().await?;
    Ok(n)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReviewInput {
    /// no_change or new_version
    pub outcome: String,
    #[serde(default)]
    pub note: String,
}

/// Records a completed review. "No change" sets the next review date; "new version"
/// starts a draft from the version in force (the review date moves when it is published).
pub async fn review(app: &App, who: &Principal, doc_id: &str, input: ReviewInput) -> Result<Document> {
    let outcome = ReviewOutcome::parse(&input.outcome)?;
    if input.note.chars().count() > 2000 {
        return Err(AppError::coded("note", "too-long", "is longer than 2000 characters").into_with_arg("max", "2000"));
    }
    let started = if outcome == ReviewOutcome::NewVersion { Some(super::versions::new_version(app, who, doc_id).await?) } else { None };
    let txn = app.store.write().await?;
    let d = load(&txn, who, doc_id).await?;
    if !manages(who, &d) {
        return Err(AppError::Forbidden);
    }
    if d.current_version_id.is_none() || d.retired {
        return Err(AppError::coded("outcome", "review-unpublished", "only a document in force is reviewed"));
    }
    review::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        document_id: Set(d.id.clone()),
        outcome: Set(outcome.code().into()),
        note: Set(input.note.trim().to_owned()),
        reviewed_by: Set(who.user_id.clone()),
        reviewed_ms: Set(now_ms()),
        version_id: Set(started.as_ref().map(|v| v.id.clone())),
    }
    .insert(&txn)
    .await?;
    let company = d.company_id.clone();
    if outcome == ReviewOutcome::NoChange {
        let due = next_review(isms_core::calendar::today(), d.review_months).to_string();
        let mut am = d.into_active_model();
        am.review_due = Set(Some(due));
        am.updated_ms = Set(now_ms());
        am.update(&txn).await?;
    }
    notify::done(&txn, &format!("doc-review:{doc_id}")).await?;
    record(
        app,
        &txn,
        who,
        "policies.review",
        "document",
        Some(doc_id),
        company.as_deref(),
        json!({"outcome": outcome, "note": input.note.trim(), "new_version": started.as_ref().map(|v| v.number)}),
    )
    .await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(documents::build(app, db, vec![document::Entity::find_by_id(doc_id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?]).await?.remove(0))
}

/// Reminds owners of documents whose review falls due within the window or is overdue,
/// once per document and due date.
pub async fn remind_reviews(app: &App) -> Result<usize> {
    let horizon = isms_core::calendar::today().saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
    let txn = app.store.write().await?;
    let due = document::Entity::find()
        .filter(document::Column::Retired.eq(false))
        .filter(document::Column::ReviewDue.lte(horizon))
        .filter(document::Column::OwnerId.is_not_null())
        .all(&txn)
        .await?;
    let mut n = 0;
    for d in due {
        let (Some(owner), Some(when)) = (&d.owner_id, &d.review_due) else { continue };
        let notice = Notice::new("policy-review-due", json!({"code": d.code, "title": d.title, "due": when}), format!("/policies/{}", d.id))
            .once(format!("doc-review:{}:{when}", d.id))
            .task(format!("doc-review:{}", d.id));
        if notify::to_person(app, &txn, owner, &notice).await? {
            n += 1;
        }
    }
    txn.commit().await?;
    Ok(n)
}

/// How many documents in the caller's scope are past their review date.
pub async fn overdue_reviews(app: &App, who: &Principal) -> Result<u64> {
    if !who.access.can(isms_core::Permission::PoliciesRead) {
        return Ok(0);
    }
    let q = documents::DocQuery { status: Some("overdue".into()), limit: 1, ..Default::default() };
    Ok(documents::list(app, who, &q).await?.total)
}

/// Documents the caller must read and has not confirmed yet.
pub async fn to_acknowledge(app: &App, who: &Principal) -> Result<Vec<Document>> {
    let db = app.store.conn();
    let Some(me) = super::my_person(db, who).await? else { return Ok(vec![]) };
    let rows = document::Entity::find()
        .filter(document::Column::MustAcknowledge.eq(true))
        .filter(document::Column::Retired.eq(false))
        .filter(document::Column::CurrentVersionId.is_not_null())
        .order_by_asc(document::Column::Code)
        .all(db)
        .await?;
    let mut out = vec![];
    for d in rows {
        if !super::applies_to_company(db, &d, &me.company_id).await? {
            continue;
        }
        let cur = d.current_version_id.clone().unwrap_or_default();
        if acknowledgement::Entity::find_by_id((cur, me.id.clone())).one(db).await?.is_none() {
            out.push(d);
        }
    }
    documents::build(app, db, out).await
}

/// A document as the public pages show it: only public documents' versions in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDocument {
    pub code: String,
    pub kind: DocKind,
    pub title: String,
    pub language: DocLang,
    pub number: i32,
    /// When the version in force was published (ms since the epoch).
    pub published_ms: i64,
    /// The code of the same document in the other language, if that one is public too.
    pub translation_code: Option<String>,
    /// That translation's language, version and publication (ms since the epoch): a
    /// translation published after this version means this one may be behind it.
    pub translation: Option<Translation>,
    /// Safe HTML of the text (only on a single document).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub html: String,
    pub files: Vec<PublicFile>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Translation {
    pub code: String,
    pub language: DocLang,
    pub number: i32,
    pub published_ms: i64,
}

impl Translation {
    /// The other language's text has been revised since this one: it is in a later
    /// version, published after this one. (Both start at version 1 and go through the same
    /// approval, so the numbers say how often each was revised.)
    pub fn is_ahead_of(&self, d: &PublicDocument) -> bool {
        self.number > d.number && self.published_ms > d.published_ms
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicFile {
    pub id: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
}

async fn public_rows(db: &impl ConnectionTrait) -> Result<Vec<(document::Model, version::Model)>> {
    let docs = document::Entity::find()
        .filter(document::Column::Public.eq(true))
        .filter(document::Column::Retired.eq(false))
        .filter(document::Column::CurrentVersionId.is_not_null())
        // A company's public document is as public as the group's: both are disclosed.
        .order_by_asc(document::Column::Kind)
        .order_by_asc(document::Column::Code)
        .all(db)
        .await?;
    let ids: Vec<String> = docs.iter().filter_map(|d| d.current_version_id.clone()).collect();
    let versions = version::Entity::find().filter(version::Column::Id.is_in(ids)).filter(version::Column::State.eq("published")).all(db).await?;
    Ok(docs
        .into_iter()
        .filter_map(|d| {
            let v = versions.iter().find(|v| Some(&v.id) == d.current_version_id.as_ref())?.clone();
            Some((d, v))
        })
        .collect())
}

fn to_public(
    d: &document::Model,
    v: &version::Model,
    all: &[(document::Model, version::Model)],
    with_body: bool,
    files: Vec<PublicFile>,
) -> Result<PublicDocument> {
    let e = |e: isms_core::FieldError| AppError::internal(e.to_string());
    let translation = match d.translation_id.as_ref().and_then(|t| all.iter().find(|(o, _)| &o.id == t)) {
        Some((o, ov)) => Some(Translation {
            code: o.code.clone(),
            language: DocLang::parse(&o.language).map_err(e)?,
            number: ov.number,
            published_ms: ov.published_ms.unwrap_or(ov.updated_ms),
        }),
        None => None,
    };
    Ok(PublicDocument {
        code: d.code.clone(),
        kind: DocKind::parse(&d.kind).map_err(e)?,
        title: v.title.clone(),
        language: DocLang::parse(&d.language).map_err(e)?,
        number: v.number,
        published_ms: v.published_ms.unwrap_or(v.updated_ms),
        translation_code: d.translation_id.as_ref().and_then(|t| all.iter().find(|(o, _)| &o.id == t)).map(|(o, _)| o.code.clone()),
        html: if with_body { markdown::to_html(without_title(&v.body, &v.title)) } else { String::new() },
        files,
        translation,
    })
}

/// The body without a first heading that only repeats the title the page shows above it.
fn without_title<'a>(body: &'a str, title: &str) -> &'a str {
    let start = body.trim_start();
    let (first, rest) = start.split_once('\n').unwrap_or((start, ""));
    match first.trim_end().strip_prefix("# ") {
        Some(h) if h.trim() == title.trim() => rest,
        _ => body,
    }
}

/// The public documents, for the disclosure page.
pub async fn public_list(app: &App) -> Result<Vec<PublicDocument>> {
    let rows = public_rows(app.store.conn()).await?;
    rows.iter().map(|(d, v)| to_public(d, v, &rows, false, vec![])).collect()
}

/// One public document by code, with its text and files.
pub async fn public_get(app: &App, code: &str) -> Result<PublicDocument> {
    let db = app.store.conn();
    let rows = public_rows(db).await?;
    let (d, v) = rows.iter().find(|(d, _)| d.code.eq_ignore_ascii_case(code.trim())).ok_or(AppError::NotFound)?;
    let files = att::Entity::find()
        .select_only()
        .columns([att::Column::Id, att::Column::FileName, att::Column::Size, att::Column::Sha256])
        .filter(att::Column::VersionId.eq(v.id.clone()))
        .order_by_asc(att::Column::FileName)
        .into_tuple::<(String, String, i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, file_name, size, sha256)| PublicFile { id, file_name, size, sha256 })
        .collect();
    to_public(d, v, &rows, true, files)
}

/// A file of a public document's version in force.
pub async fn public_file(app: &App, code: &str, file_id: &str) -> Result<att::Model> {
    let db = app.store.conn();
    let rows = public_rows(db).await?;
    let (_, v) = rows.iter().find(|(d, _)| d.code.eq_ignore_ascii_case(code.trim())).ok_or(AppError::NotFound)?;
    att::Entity::find_by_id(file_id.to_owned()).one(db).await?.filter(|f| f.version_id == v.id).ok_or(AppError::NotFound)
}

/// Reminds, once a week, everyone who has not confirmed reading a must-read document's
/// version in force a week after it was published. Returns how many were reminded.
pub async fn remind_unacknowledged_weekly(app: &App) -> Result<usize> {
    let week = isms_core::calendar::today().iso_week_date();
    let stamp = format!("{}-W{:02}", week.year(), week.week());
    let grace = now_ms() - 7 * 86_400_000;
    let db = app.store.conn();
    let docs = document::Entity::find()
        .filter(document::Column::MustAcknowledge.eq(true))
        .filter(document::Column::Retired.eq(false))
        .filter(document::Column::CurrentVersionId.is_not_null())
        .all(db)
        .await?;
    let mut n = 0;
    for d in docs {
        let Some(cur) = d.current_version_id.clone() else { continue };
        let Some(v) = version::Entity::find_by_id(cur.clone()).one(db).await? else { continue };
        if v.published_ms.is_none_or(|p| p > grace) {
            continue;
        }
        let done: HashSet<String> = acknowledgement::Entity::find()
            .filter(acknowledgement::Column::VersionId.eq(cur.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.person_id)
            .collect();
        let txn = app.store.write().await?;
        for (pid, _, _) in audience(&txn, &d).await? {
            if done.contains(&pid) {
                continue;
            }
            let notice =
                Notice::new("policy-acknowledge-reminder", json!({"code": d.code, "title": v.title, "number": v.number}), format!("/policies/{}", d.id))
                    .once(format!("ack-week:{}:{pid}:{stamp}", v.id))
                    .task(format!("policy-read:{}:{pid}", v.id));
            if notify::to_person(app, &txn, &pid, &notice).await? {
                n += 1;
            }
        }
        txn.commit().await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_heading_that_repeats_the_title_is_not_shown_twice() {
        assert_eq!(super::without_title("# Privacy policy\n\nWe keep…", "Privacy policy"), "\nWe keep…");
        assert_eq!(super::without_title("# Scope\n\nWe keep…", "Privacy policy"), "# Scope\n\nWe keep…");
        assert_eq!(super::without_title("We keep…", "Privacy policy"), "We keep…");
    }
}
