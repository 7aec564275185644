//! Threat-intelligence feeds: checked, created, changed and removed by the CSIRT, each change audited.

use super::*;

struct Checked {
    name: String,
    format: String,
    url: Option<String>,
    collection: Option<String>,
    auth: String,
    username: Option<String>,
    tlp: Tlp,
    confidence: i32,
    interval: Option<i32>,
}

fn check(input: &FeedInput) -> Result<Checked> {
    let mut errors = vec![];
    let name = required(&mut errors, "name", &input.name, 120);
    let format = input.format.trim().to_string();
    if format != TAXII && Format::parse(&format).is_none() {
        errors.push(
            FieldError::coded("format", "one-of", format!("`{format}` is not one of taxii, stix, misp-json, misp-csv, text"))
                .arg("expected", "taxii, stix, misp-json, misp-csv, text"),
        );
    }
    let url = blank_to_none(&input.url);
    if format == TAXII {
        match &url {
            None => errors.push(FieldError::coded("url", "required", "is required")),
            Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
                errors.push(FieldError::coded("url", "feed-url", "is not an http(s) address"))
            }
            _ => {}
        }
    }
    let auth = blank_to_none(&input.auth).unwrap_or_else(|| "none".into());
    if !AUTHS.contains(&auth.as_str()) {
        errors.push(FieldError::coded("auth", "one-of", format!("`{auth}` is not one of none, basic, bearer")).arg("expected", "none, basic, bearer"));
    }
    let username = blank_to_none(&input.username);
    if auth == "basic" && username.is_none() {
        errors.push(FieldError::coded("username", "required", "is required"));
    }
    let tlp = Tlp::parse(&input.default_tlp).unwrap_or_else(|| {
        errors.push(
            FieldError::coded("default_tlp", "one-of", format!("`{}` is not one of clear, green, amber, amber+strict, red", input.default_tlp))
                .arg("expected", "clear, green, amber, amber+strict, red"),
        );
        Tlp::Amber
    });
    let confidence = input.default_confidence.unwrap_or(50);
    if !(0..=100).contains(&confidence) {
        errors.push(FieldError::coded("default_confidence", "between", "must be between 0 and 100").arg("min", "0").arg("max", "100"));
    }
    let interval = input.interval_minutes.filter(|m| *m != 0);
    if interval.is_some_and(|m| !(5..=10_080).contains(&m)) {
        errors.push(FieldError::coded("interval_minutes", "between", "must be between 5 and 10080 minutes").arg("min", "5").arg("max", "10080"));
    }
    let collection = blank_to_none(&input.collection);
    if collection.as_ref().is_some_and(|c| c.len() > 200) {
        errors.push(FieldError::coded("collection", "too-long", "is longer than 200 characters").arg("max", "200"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Checked { name, format, url, collection, auth, username, tlp, confidence, interval })
}

fn name_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict { .. } => AppError::coded("name", "taken", "is already taken"),
        e => e,
    }
}

fn audit_view(m: &feed_row::Model) -> Value {
    json!({"name": m.name, "format": m.format, "url": m.url, "collection": m.collection, "auth": m.auth, "username": m.username,
        "default_tlp": m.default_tlp, "default_confidence": m.default_confidence, "interval_minutes": m.interval_minutes, "enabled": m.enabled})
}

pub async fn create_feed(app: &App, who: &Principal, input: FeedInput) -> Result<Feed> {
    who.require(Permission::RulesManage)?;
    let c = check(&input)?;
    let secret = match blank_to_none(&input.secret) {
        Some(s) => Some(app.fields().seal(&s)?),
        None => None,
    };
    let now = now_ms();
    let txn = app.store.write().await?;
    let m = feed_row::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: c.name,
        format: c.format,
        url: c.url,
        collection: c.collection,
        auth: c.auth,
        username: c.username,
        secret,
        default_tlp: c.tlp.code().into(),
        default_confidence: c.confidence,
        interval_minutes: c.interval,
        enabled: input.enabled,
        cursor: None,
        next_pull_ms: c.interval.map(|_| now),
        claimed_until_ms: None,
        last_pull_ms: None,
        last_ok_ms: None,
        last_error: None,
        last_added: 0,
        last_refused: String::new(),
        indicator_count: 0,
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| name_taken(e.into()))?;
    record(app, &txn, who, "monitoring.feed.create", "intel_feed", Some(&m.id), None, audit_view(&m)).await?;
    txn.commit().await?;
    Ok(m.into())
}

pub async fn update_feed(app: &App, who: &Principal, id: &str, input: FeedInput) -> Result<Feed> {
    who.require(Permission::RulesManage)?;
    let c = check(&input)?;
    let secret = match blank_to_none(&input.secret) {
        Some(s) => Some(app.fields().seal(&s)?),
        None => None,
    };
    let txn = app.store.write().await?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let before = audit_view(&m);
    let enabled_before = m.enabled;
    let moved = m.url != c.url || m.collection != c.collection;
    let mut a = m.into_active_model();
    a.name = Set(c.name);
    a.format = Set(c.format);
    if moved {
        // Another collection starts from its beginning.
        a.cursor = Set(None);
    }
    a.url = Set(c.url);
    a.collection = Set(c.collection);
    if c.auth == "none" {
        a.secret = Set(None);
    } else if secret.is_some() {
        a.secret = Set(secret);
    }
    a.auth = Set(c.auth);
    a.username = Set(c.username);
    a.default_tlp = Set(c.tlp.code().into());
    a.default_confidence = Set(c.confidence);
    a.interval_minutes = Set(c.interval);
    a.next_pull_ms = Set(c.interval.map(|_| now_ms()));
    a.enabled = Set(input.enabled);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await.map_err(|e| name_taken(e.into()))?;
    record(app, &txn, who, "monitoring.feed.update", "intel_feed", Some(&m.id), None, json!({"before": before, "after": audit_view(&m)})).await?;
    if enabled_before != m.enabled {
        crate::shared(app).intel.bump(&txn).await?;
    }
    txn.commit().await?;
    crate::shared(app).intel.changed();
    Ok(m.into())
}

/// Removes a feed with its indicators (and their sightings).
pub async fn delete_feed(app: &App, who: &Principal, id: &str) -> Result<()> {
    who.require(Permission::RulesManage)?;
    let txn = app.store.write().await?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let ids: Vec<String> =
        indicator::Entity::find().select_only().column(indicator::Column::Id).filter(indicator::Column::FeedId.eq(id)).into_tuple().all(&txn).await?;
    for chunk in ids.chunks(500) {
        sighting::Entity::delete_many().filter(sighting::Column::IndicatorId.is_in(chunk.to_vec())).exec(&txn).await?;
        indicator::Entity::delete_many().filter(indicator::Column::Id.is_in(chunk.to_vec())).exec(&txn).await?;
    }
    feed_row::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    record(app, &txn, who, "monitoring.feed.delete", "intel_feed", Some(id), None, json!({"name": m.name, "indicators": ids.len()})).await?;
    crate::shared(app).intel.bump(&txn).await?;
    txn.commit().await?;
    crate::shared(app).intel.changed();
    Ok(())
}

pub async fn list_feeds(app: &App, who: &Principal) -> Result<Vec<Feed>> {
    who.require(Permission::MonitoringRead)?;
    Ok(feed_row::Entity::find().order_by_asc(feed_row::Column::Name).all(app.store.conn()).await?.into_iter().map(Feed::from).collect())
}

pub async fn get_feed(app: &App, who: &Principal, id: &str) -> Result<Feed> {
    who.require(Permission::MonitoringRead)?;
    Ok(feed_row::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?.into())
}
