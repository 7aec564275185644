//! The facts of a case: impact, exposure, personal data, legal duties and root cause, and the severity they give.

use super::*;

/// What triage and the later steps record about a case.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct FactsInput {
    pub title: String,
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// limited, significant or severe
    #[serde(default)]
    pub impact: Option<String>,
    /// none, internal, personal or customer
    #[serde(default)]
    pub exposure: Option<String>,
    /// Companies affected besides the case's own.
    #[serde(default)]
    pub companies: Vec<String>,
    /// Information assets and supporting assets (systems) affected.
    #[serde(default)]
    pub asset_ids: Vec<String>,
    #[serde(default)]
    pub support_ids: Vec<String>,
    /// yes, no, or empty while unknown.
    #[serde(default)]
    pub personal_data: Option<bool>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub financial_risk: bool,
    #[serde(default)]
    pub unlawful_purpose: bool,
    #[serde(default)]
    pub people_affected: Option<i64>,
    #[serde(default)]
    pub strongly_encrypted: bool,
    #[serde(default)]
    pub eu_residents: bool,
    #[serde(default)]
    pub data_categories: String,
    /// ATT&CK technique ids.
    #[serde(default)]
    pub techniques: Vec<String>,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub lessons: String,
    /// Corrective actions, or why none are needed.
    #[serde(default)]
    pub actions_note: String,
}

impl FactsInput {
    /// The facts as a case holds them: what the facts form shows before anything is typed.
    pub fn of(d: &IncidentDetail) -> Self {
        let i = &d.incident;
        FactsInput {
            title: i.title.clone(),
            kind: i.kind.code().to_owned(),
            description: i.description.clone(),
            impact: i.impact.map(|x| x.code().to_owned()),
            exposure: i.exposure.map(|x| x.code().to_owned()),
            companies: i.companies.clone(),
            asset_ids: d.assets.clone(),
            support_ids: d.supports.clone(),
            personal_data: i.personal_data,
            sensitive: i.facts.sensitive,
            financial_risk: i.facts.financial_damage_risk,
            unlawful_purpose: i.facts.unlawful_purpose,
            people_affected: i.facts.people_affected,
            strongly_encrypted: i.facts.strongly_encrypted,
            eu_residents: i.facts.eu_residents,
            data_categories: i.data_categories.clone(),
            techniques: i.techniques.clone(),
            root_cause: i.root_cause.clone(),
            lessons: i.lessons.clone(),
            actions_note: i.actions_note.clone(),
        }
    }
}

/// Records the facts; severity follows the matrix; the clocks follow the facts.
pub async fn update_facts(app: &App, who: &Principal, id: &str, input: FactsInput) -> Result<IncidentDetail> {
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !runs(&txn, who, &old).await? {
        return Err(AppError::Forbidden);
    }
    if old.status == "closed" {
        return Err(AppError::coded("status", "incident-closed", "a closed case does not change"));
    }
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let kind = IncidentType::parse(&input.kind).map_err(|e| errors.push(e)).unwrap_or(IncidentType::Other);
    let opt = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let impact = opt(&input.impact).map(|s| Impact::parse(&s)).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let exposure = opt(&input.exposure).map(|s| Exposure::parse(&s)).transpose().map_err(|e| errors.push(e)).ok().flatten();
    if input.people_affected.is_some_and(|n| n < 0) {
        errors.push(FieldError::coded("people_affected", "not-negative", "may not be negative"));
    }
    let mut techniques = vec![];
    for t in input.techniques.iter().flat_map(|t| t.split([',', ' ', '\n'])).filter(|t| !t.trim().is_empty()) {
        match parse_technique(t) {
            Ok(t) if !techniques.contains(&t) => techniques.push(t),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if input.personal_data != Some(true) && (input.sensitive || input.people_affected.is_some_and(|n| n > 0) && input.personal_data == Some(false)) {
        errors.push(FieldError::coded("personal_data", "personal-data-contradiction", "the facts say personal data is involved"));
    }
    for (field, text, max) in [
        ("description", &input.description, 20_000),
        ("root_cause", &input.root_cause, 20_000),
        ("lessons", &input.lessons, 20_000),
        ("actions_note", &input.actions_note, 20_000),
        ("data_categories", &input.data_categories, 2_000),
    ] {
        if text.chars().count() > max {
            errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
        }
    }
    let mut companies: Vec<String> = input.companies.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
    companies.push(old.company_id.clone());
    companies.sort();
    companies.dedup();
    for c in &companies {
        if isms_store::org::company::Entity::find_by_id(c.clone()).one(&txn).await?.is_none() {
            errors.push(FieldError::coded("companies", "no-company", "no such company"));
        }
    }
    for a in &input.asset_ids {
        if isms_store::assets::asset::Entity::find_by_id(a.clone()).one(&txn).await?.is_none() {
            errors.push(FieldError::coded("asset_ids", "no-asset", "no such asset"));
        }
    }
    for s in &input.support_ids {
        if isms_store::assets::support::Entity::find_by_id(s.clone()).one(&txn).await?.is_none() {
            errors.push(FieldError::coded("support_ids", "no-support", "no such system or service"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let sev = match (impact, exposure) {
        (Some(i), Some(e)) => Some(severity(i, e)),
        _ => old.severity,
    };
    let mut am = old.clone().into_active_model();
    am.title = Set(title);
    am.kind = Set(kind.code().into());
    am.description = Set(input.description.trim().to_owned());
    am.impact = Set(impact.map(|i| i.code().into()));
    am.exposure = Set(exposure.map(|e| e.code().into()));
    am.severity = Set(sev);
    am.personal_data = Set(input.personal_data);
    am.customer_data = Set(exposure == Some(Exposure::Customer) || (old.customer_data && exposure.is_none()));
    am.sensitive = Set(input.sensitive);
    am.financial_risk = Set(input.financial_risk);
    am.unlawful_purpose = Set(input.unlawful_purpose);
    am.people_affected = Set(input.people_affected);
    am.strongly_encrypted = Set(input.strongly_encrypted);
    am.eu_residents = Set(input.eu_residents);
    am.data_categories = Set(input.data_categories.trim().to_owned());
    am.techniques = Set(techniques.join(","));
    am.root_cause = Set(input.root_cause.trim().to_owned());
    am.lessons = Set(input.lessons.trim().to_owned());
    am.actions_note = Set(input.actions_note.trim().to_owned());
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    inc_company::Entity::delete_many().filter(inc_company::Column::IncidentId.eq(id)).exec(&txn).await?;
    for c in &companies {
        inc_company::Entity::insert(inc_company::ActiveModel { incident_id: Set(id.to_owned()), company_id: Set(c.clone()) })
            .exec_without_returning(&txn)
            .await?;
    }
    affected::Entity::delete_many().filter(affected::Column::IncidentId.eq(id)).exec(&txn).await?;
    let mut links: Vec<(&str, &String)> = input.asset_ids.iter().map(|a| ("asset", a)).chain(input.support_ids.iter().map(|s| ("support", s))).collect();
    links.sort();
    links.dedup();
    for (k, t) in links {
        affected::Entity::insert(affected::ActiveModel { incident_id: Set(id.to_owned()), target_kind: Set(k.into()), target_id: Set(t.clone()) })
            .exec_without_returning(&txn)
            .await?;
    }
    let started = crate::clocks::sync(app, &txn, &saved).await?;
    let summary = format!(
        "severity={} personal={} clocks+{}",
        sev.map(|s| s.to_string()).unwrap_or("-".into()),
        input.personal_data.map(|b| b.to_string()).unwrap_or("?".into()),
        started
    );
    timeline(&txn, id, who.user_id.as_deref(), "facts", &summary).await?;
    record(
        app,
        &txn,
        who,
        "incidents.facts",
        "incident",
        Some(id),
        Some(&saved.company_id),
        json!({"severity": sev, "personal_data": input.personal_data, "clocks_started": started, "techniques": techniques}),
    )
    .await?;
    txn.commit().await?;
    get(app, who, id).await
}
