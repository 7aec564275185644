//! Writing one rule by hand: create, update, enable or disable.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// The rule in Sigma YAML.
    pub body: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

pub(super) fn yes() -> bool {
    true
}

pub(super) fn slug(title: &str) -> String {
    let s: String = title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let s = s.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    s.chars().take(60).collect()
}

/// A rule written here.
pub async fn create(app: &App, who: &Principal, input: RuleInput) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let c = check_text(&input.body);
    if !c.problems.is_empty() {
        return Err(problems_error(&c.problems));
    }
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let txn = app.store.write().await?;
    let m = rule::Model {
        file_name: format!("custom/{}_{}.yml", slug(&c.title), &id[id.len() - 8..]),
        id,
        rule_uid: c.uid,
        title: c.title,
        level: c.level,
        status: c.status,
        origin: "custom".into(),
        body: input.body,
        enabled: input.enabled,
        error: None,
        tags: c.tags.join(" "),
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    };
    let m = m.into_active_model().insert(&txn).await?;
    crate::shared(app).rules.bump(&txn).await?;
    record(app, &txn, who, "monitoring.rule.create", "detection_rule", Some(&m.id), None, json!({"title": m.title, "enabled": m.enabled})).await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(m.into())
}

/// A new text for a rule. An imported rule edited here becomes the group's own: later
/// imports leave it alone.
pub async fn update(app: &App, who: &Principal, id: &str, input: RuleInput) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let c = check_text(&input.body);
    if !c.problems.is_empty() {
        return Err(problems_error(&c.problems));
    }
    let txn = app.store.write().await?;
    let m = rule::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let changed_text = m.body != input.body;
    let before = json!({"title": m.title, "enabled": m.enabled, "level": m.level});
    let mut a = m.into_active_model();
    if changed_text {
        a.body = Set(input.body);
        a.origin = Set("custom".into());
    }
    a.title = Set(c.title);
    a.level = Set(c.level);
    a.status = Set(c.status);
    a.tags = Set(c.tags.join(" "));
    a.rule_uid = Set(c.uid);
    a.enabled = Set(input.enabled);
    a.error = Set(None);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    crate::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.update",
        "detection_rule",
        Some(&m.id),
        None,
        json!({"before": before, "after": {"title": m.title, "enabled": m.enabled, "level": m.level}, "text_changed": changed_text}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(m.into())
}

pub async fn set_enabled(app: &App, who: &Principal, id: &str, enabled: bool) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let txn = app.store.write().await?;
    let m = rule::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut a = m.into_active_model();
    a.enabled = Set(enabled);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    crate::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        if enabled { "monitoring.rule.enable" } else { "monitoring.rule.disable" },
        "detection_rule",
        Some(&m.id),
        None,
        json!({"title": m.title}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(m.into())
}
