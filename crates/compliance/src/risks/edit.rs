//! Writing a risk: the input, its checks against the matrix and the register, creating and updating.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RiskInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub company_id: String,
    /// The risk owner's person id or employee number.
    pub owner_id: String,
    #[serde(default)]
    pub threat: String,
    #[serde(default)]
    pub vulnerability: String,
    pub inherent_likelihood: i32,
    pub inherent_impact: i32,
    pub residual_likelihood: i32,
    pub residual_impact: i32,
    /// Required when the residual score is above the inherent one.
    #[serde(default)]
    pub residual_reason: String,
    /// mitigate, accept, transfer or avoid
    pub treatment: String,
    #[serde(default)]
    pub plan: String,
    /// The next review; twelve months from today when absent.
    #[serde(default)]
    pub review_due: Option<String>,
    /// Information assets the risk was identified against (of the same company).
    #[serde(default)]
    pub asset_ids: Vec<String>,
    /// Controls that treat it.
    #[serde(default)]
    pub control_ids: Vec<String>,
}

pub(super) struct Valid {
    title: String,
    owner_id: String,
    scores: (u32, u32),
    treatment: Treatment,
    review_due: Option<jiff::civil::Date>,
    asset_ids: Vec<String>,
    control_ids: Vec<String>,
}

pub(super) async fn validate(app: &App, db: &impl ConnectionTrait, who: &Principal, input: &RiskInput) -> Result<Valid> {
    let m = matrix(app).await?;
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    for (field, value, max) in
        [("description", &input.description, 8000), ("threat", &input.threat, 2000), ("vulnerability", &input.vulnerability, 2000), ("plan", &input.plan, 8000)]
    {
        if value.chars().count() > max {
            errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
        } else if let Err(e) = isms_core::text::multi_line(field, value) {
            errors.push(e);
        }
    }
    let inherent = m.score("inherent", input.inherent_likelihood, input.inherent_impact).map_err(|e| errors.push(e)).unwrap_or(0);
    let residual = m.score("residual", input.residual_likelihood, input.residual_impact).map_err(|e| errors.push(e)).unwrap_or(0);
    if inherent > 0
        && residual > 0
        && let Err(e) = check_residual(inherent, residual, &input.residual_reason)
    {
        errors.push(e);
    }
    let treatment = Treatment::parse(&input.treatment).map_err(|e| errors.push(e)).unwrap_or(Treatment::Mitigate);
    let review_due = isms_kernel::input::date_opt(&mut errors, "review_due", &input.review_due);
    if input.company_id.trim().is_empty() {
        errors.push(FieldError::coded("company_id", "required", "is required"));
    } else if isms_store::org::company::Entity::find_by_id(input.company_id.trim().to_owned()).one(db).await?.is_none() {
        errors.push(FieldError::coded("company_id", "no-company", "no such company"));
    }
    let owner_id = isms_org::people::required_person(db, "owner_id", &input.owner_id, &mut errors).await?;
    let asset_ids = isms_kernel::id_list(&input.asset_ids);
    // A record the caller may not see is "not found", like everywhere else: a distinct
    // answer would tell them it exists.
    let assets: Vec<_> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(asset_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| who.require_for(Permission::AssetsRead, Some(&a.company_id)).is_ok() || who.require_for(Permission::RisksRead, Some(&a.company_id)).is_ok())
        .collect();
    if assets.len() != asset_ids.len() {
        errors.push(FieldError::coded("asset_ids", "no-asset", "no such information asset"));
    } else if assets.iter().any(|a| a.company_id != input.company_id.trim()) {
        errors.push(FieldError::coded("asset_ids", "asset-other-company", "belongs to another company"));
    }
    let control_ids = isms_kernel::id_list(&input.control_ids);
    let found = match crate::controls::visible(who, Permission::ComplianceRead) {
        Ok(seen) => control::Entity::find().filter(control::Column::Id.is_in(control_ids.clone())).filter(seen).count(db).await?,
        Err(_) => 0,
    };
    if found != control_ids.len() as u64 {
        errors.push(FieldError::coded("control_ids", "no-control", "no such control"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if !who.access.can_for(Permission::RisksManage, input.company_id.trim().parse().ok()) {
        return Err(AppError::coded("company_id", "company-out-of-scope", "you do not manage risks of this company"));
    }
    Ok(Valid { title, owner_id, scores: (inherent, residual), treatment, review_due, asset_ids, control_ids })
}

pub(super) async fn save_links(db: &impl ConnectionTrait, id: &str, v: &Valid) -> Result<()> {
    risk_asset::Entity::delete_many().filter(risk_asset::Column::RiskId.eq(id)).exec(db).await?;
    for a in &v.asset_ids {
        risk_asset::Entity::insert(risk_asset::ActiveModel { risk_id: Set(id.to_owned()), asset_id: Set(a.clone()) }).exec_without_returning(db).await?;
    }
    risk_control::Entity::delete_many().filter(risk_control::Column::RiskId.eq(id)).exec(db).await?;
    for c in &v.control_ids {
        risk_control::Entity::insert(risk_control::ActiveModel { risk_id: Set(id.to_owned()), control_id: Set(c.clone()) }).exec_without_returning(db).await?;
    }
    Ok(())
}

pub(super) async fn next_ref(db: &impl ConnectionTrait) -> Result<String> {
    let last: Option<String> = risk::Entity::find()
        .select_only()
        .column(risk::Column::Reference)
        .filter(risk::Column::Reference.starts_with("RSK-"))
        .order_by_desc(risk::Column::Reference)
        .into_tuple()
        .one(db)
        .await?;
    let n = last.and_then(|r| r[4..].parse::<u32>().ok()).unwrap_or(0) + 1;
    Ok(format!("RSK-{n:05}"))
}

pub async fn create(app: &App, who: &Principal, input: RiskInput) -> Result<Risk> {
    who.require(Permission::RisksManage)?;
    let txn = app.store.write().await?;
    let v = validate(app, &txn, who, &input).await?;
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let due = v.review_due.unwrap_or_else(|| isms_core::policies::next_review(isms_core::calendar::today(), 12));
    let reference = next_ref(&txn).await?;
    risk::Model {
        id: id.clone(),
        reference: reference.clone(),
        title: v.title.clone(),
        description: input.description.trim().into(),
        company_id: input.company_id.trim().into(),
        owner_id: Some(v.owner_id.clone()),
        threat: input.threat.trim().into(),
        vulnerability: input.vulnerability.trim().into(),
        inherent_likelihood: input.inherent_likelihood as i16,
        inherent_impact: input.inherent_impact as i16,
        inherent_score: v.scores.0 as i32,
        residual_likelihood: input.residual_likelihood as i16,
        residual_impact: input.residual_impact as i16,
        residual_score: v.scores.1 as i32,
        residual_reason: if v.scores.1 > v.scores.0 { input.residual_reason.trim().into() } else { String::new() },
        treatment: v.treatment.code().into(),
        plan: input.plan.trim().into(),
        status: RiskStatus::Open.code().into(),
        accepted_by: None,
        accepted_ms: None,
        acceptance_reason: String::new(),
        acceptance_expires: None,
        review_due: Some(due.to_string()),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    save_links(&txn, &id, &v).await?;
    record(app, &txn, who, "risks.risk.create", "risk", Some(&id), Some(input.company_id.trim()), json!({"ref": reference, "after": input})).await?;
    txn.commit().await?;
    Ok(get(app, who, &id).await?.risk)
}

/// Changes a risk. A change of scores or treatment ends an acceptance: the owner must
/// accept what the risk is now, not what it was.
pub async fn update(app: &App, who: &Principal, id: &str, input: RiskInput) -> Result<Risk> {
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !manages(who, &old) {
        return Err(AppError::Forbidden);
    }
    let v = validate(app, &txn, who, &input).await?;
    let rescored = old.inherent_score != v.scores.0 as i32 || old.residual_score != v.scores.1 as i32 || old.treatment != v.treatment.code();
    let mut am = old.clone().into_active_model();
    am.title = Set(v.title.clone());
    am.description = Set(input.description.trim().into());
    am.company_id = Set(input.company_id.trim().into());
    am.owner_id = Set(Some(v.owner_id.clone()));
    am.threat = Set(input.threat.trim().into());
    am.vulnerability = Set(input.vulnerability.trim().into());
    am.inherent_likelihood = Set(input.inherent_likelihood as i16);
    am.inherent_impact = Set(input.inherent_impact as i16);
    am.inherent_score = Set(v.scores.0 as i32);
    am.residual_likelihood = Set(input.residual_likelihood as i16);
    am.residual_impact = Set(input.residual_impact as i16);
    am.residual_score = Set(v.scores.1 as i32);
    am.residual_reason = Set(if v.scores.1 > v.scores.0 { input.residual_reason.trim().into() } else { String::new() });
    am.treatment = Set(v.treatment.code().into());
    am.plan = Set(input.plan.trim().into());
    if let Some(d) = v.review_due {
        am.review_due = Set(Some(d.to_string()));
    }
    let owner_changed = old.owner_id.as_deref() != Some(v.owner_id.as_str());
    if old.status == RiskStatus::Accepted.code() && (rescored || owner_changed) {
        am.status = Set(RiskStatus::Open.code().into());
        am.accepted_by = Set(None);
        am.accepted_ms = Set(None);
        am.acceptance_expires = Set(None);
    }
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    save_links(&txn, id, &v).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.update",
        "risk",
        Some(id),
        Some(input.company_id.trim()),
        json!({"before": {"title": old.title, "inherent": old.inherent_score, "residual": old.residual_score, "treatment": old.treatment, "status": old.status}, "after": input}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}
