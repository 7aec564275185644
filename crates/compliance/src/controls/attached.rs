//! Evidence for a control: links and files, dated, added and removed by those who manage it.

use super::*;

/// A link given as evidence (a ticket, a report in another system).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LinkInput {
    pub title: String,
    pub url: String,
    /// The date the evidence speaks for; today when absent.
    #[serde(default)]
    pub evidence_on: Option<String>,
}

fn evidence_date(errors: &mut Vec<FieldError>, value: &Option<String>) -> String {
    let d = isms_kernel::input::date_opt(errors, "evidence_on", value).unwrap_or_else(isms_core::calendar::today);
    if d > isms_core::calendar::today() {
        errors.push(FieldError::coded("evidence_on", "date-future", "cannot be in the future"));
    }
    d.to_string()
}

async fn add_evidence(app: &App, who: &Principal, id: &str, m: evidence::ActiveModel, detail: serde_json::Value) -> Result<Evidence> {
    let txn = app.store.write().await?;
    let c = load(&txn, who, id).await?;
    if !manages(who, &c) {
        return Err(AppError::Forbidden);
    }
    let saved = m.insert(&txn).await?;
    record(app, &txn, who, "compliance.evidence.add", "control", Some(id), c.company_id.as_deref(), detail).await?;
    txn.commit().await?;
    evidence_of(app.store.conn(), std::slice::from_ref(&c.id)).await?.into_iter().map(|(_, e)| e).find(|e| e.id == saved.id).ok_or(AppError::NotFound)
}

pub async fn add_link(app: &App, who: &Principal, id: &str, input: LinkInput) -> Result<Evidence> {
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let url = input.url.trim().to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(FieldError::coded("url", "url", "must be an http or https address"));
    }
    let on = evidence_date(&mut errors, &input.evidence_on);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let m = evidence::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        control_id: Set(id.to_owned()),
        kind: Set(EvidenceKind::Link.code().into()),
        title: Set(title.clone()),
        url: Set(url.clone()),
        file_name: Set(String::new()),
        content_type: Set(String::new()),
        size: Set(0),
        sha256: Set(String::new()),
        data: Set(None),
        evidence_on: Set(on.clone()),
        added_by: Set(who.user_id.clone()),
        added_ms: Set(now_ms()),
    };
    add_evidence(app, who, id, m, json!({"kind": "link", "title": title, "url": url, "evidence_on": on})).await
}

/// A file kept as evidence: stored with its SHA-256 and served only as a download.
pub async fn add_file(app: &App, who: &Principal, id: &str, file_name: &str, bytes: Vec<u8>, title: &str, evidence_on: &Option<String>) -> Result<Evidence> {
    let name = isms_kernel::plain_file(file_name, &bytes, MAX_EVIDENCE_BYTES)?.to_owned();
    let mut errors = vec![];
    let on = evidence_date(&mut errors, evidence_on);
    let title = if title.trim().is_empty() { name.clone() } else { isms_kernel::input::required(&mut errors, "title", title, 300) };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let m = evidence::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        control_id: Set(id.to_owned()),
        kind: Set(EvidenceKind::File.code().into()),
        title: Set(title.clone()),
        url: Set(String::new()),
        file_name: Set(name.clone()),
        content_type: Set("application/octet-stream".into()),
        size: Set(bytes.len() as i64),
        sha256: Set(sha.clone()),
        data: Set(Some(bytes)),
        evidence_on: Set(on.clone()),
        added_by: Set(who.user_id.clone()),
        added_ms: Set(now_ms()),
    };
    add_evidence(app, who, id, m, json!({"kind": "file", "title": title, "file": name, "sha256": sha, "evidence_on": on})).await
}

pub async fn remove_evidence(app: &App, who: &Principal, id: &str, evidence_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let c = load(&txn, who, id).await?;
    if !manages(who, &c) {
        return Err(AppError::Forbidden);
    }
    let e = evidence::Entity::find_by_id(evidence_id.to_owned()).one(&txn).await?.filter(|e| e.control_id == c.id).ok_or(AppError::NotFound)?;
    evidence::Entity::delete_by_id(e.id.clone()).exec(&txn).await?;
    record(
        app,
        &txn,
        who,
        "compliance.evidence.remove",
        "control",
        Some(id),
        c.company_id.as_deref(),
        json!({"title": e.title, "file": e.file_name, "sha256": e.sha256}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A stored evidence file for someone who may read the control.
pub async fn evidence_file(app: &App, who: &Principal, id: &str, evidence_id: &str) -> Result<(String, Vec<u8>)> {
    let db = app.store.conn();
    let c = load(db, who, id).await?;
    let e = evidence::Entity::find_by_id(evidence_id.to_owned()).one(db).await?.filter(|e| e.control_id == c.id).ok_or(AppError::NotFound)?;
    Ok((e.file_name, e.data.ok_or(AppError::NotFound)?))
}

/// Controls of a risk (for the risk register), as references.
pub(crate) async fn of_risk(db: &impl ConnectionTrait, risk_id: &str) -> Result<Vec<control::Model>> {
    let ids = Query::select().column(risk_control::Column::ControlId).from(risk_control::Entity).and_where(risk_control::Column::RiskId.eq(risk_id)).to_owned();
    Ok(control::Entity::find().filter(control::Column::Id.in_subquery(ids)).order_by_asc(control::Column::Code).all(db).await?)
}

/// Evidence a module keeps up by itself — a record in the product (training's closed half,
/// say) — attached to every control that covers `reference` of `framework`, once per
/// control and address, inside the caller's transaction. The title is the record's name
/// in both languages, since it is written for every reader at once. Returns how many
/// controls it was added to.
pub async fn attach_record(db: &impl ConnectionTrait, framework: &str, reference: &str, title: &str, url: &str, evidence_on: &str) -> Result<u64> {
    let Some(f) = framework::Entity::find().filter(framework::Column::Code.eq(framework)).one(db).await? else { return Ok(0) };
    let Some(r) =
        requirement::Entity::find().filter(requirement::Column::FrameworkId.eq(f.id)).filter(requirement::Column::Reference.eq(reference)).one(db).await?
    else {
        return Ok(0);
    };
    let controls: Vec<String> = control_requirement::Entity::find()
        .select_only()
        .column(control_requirement::Column::ControlId)
        .filter(control_requirement::Column::RequirementId.eq(r.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut added = 0;
    for c in controls {
        let known = evidence::Entity::find().filter(evidence::Column::ControlId.eq(c.clone())).filter(evidence::Column::Url.eq(url)).one(db).await?;
        if known.is_some() {
            continue;
        }
        evidence::Entity::insert(evidence::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            control_id: Set(c),
            kind: Set(EvidenceKind::Record.code().into()),
            title: Set(title.chars().take(300).collect()),
            url: Set(url.to_owned()),
            file_name: Set(String::new()),
            content_type: Set(String::new()),
            size: Set(0),
            sha256: Set(String::new()),
            data: Set(None),
            evidence_on: Set(evidence_on.to_owned()),
            added_by: Set(None),
            added_ms: Set(now_ms()),
        })
        .exec_without_returning(db)
        .await?;
        added += 1;
    }
    Ok(added)
}
