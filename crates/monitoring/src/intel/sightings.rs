//! The indicator set every event is checked against, sightings, and their export to the
//! ISAC as STIX 2.1.

use super::*;

/// What the pipeline knows of an indicator.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub kind: Kind,
    pub value: String,
    pub feed: String,
    pub name: String,
    pub severity: Severity,
}

/// Every valid indicator of every enabled feed, ready to match.
#[derive(Default)]
pub struct Compiled {
    pub set: IndicatorSet,
    pub meta: Vec<Meta>,
}

/// The indicator set, rebuilt when indicators change here or on another instance, and
/// when an indicator's validity begins or ends.
pub async fn compiled(app: &App) -> Result<Arc<Compiled>> {
    crate::shared(app).intel.get(app, |app| async move { build(&app).await }).await
}

pub(super) async fn build(app: &App) -> Result<(Compiled, Option<i64>)> {
    let db = app.store.conn();
    let now = now_ms();
    let feeds: HashMap<String, String> =
        feed_row::Entity::find().filter(feed_row::Column::Enabled.eq(true)).all(db).await?.into_iter().map(|f| (f.id, f.name)).collect();
    if feeds.is_empty() {
        return Ok((Compiled::default(), None));
    }
    let rows = indicator::Entity::find()
        .filter(indicator::Column::FeedId.is_in(feeds.keys().cloned()))
        .filter(Condition::any().add(indicator::Column::ValidUntilMs.is_null()).add(indicator::Column::ValidUntilMs.gt(now)))
        .all(db)
        .await?;
    tokio::task::spawn_blocking(move || {
        let mut c = Compiled::default();
        let mut due: Option<i64> = None;
        for r in rows {
            if let Some(u) = r.valid_until_ms {
                due = Some(due.map_or(u, |d| d.min(u)));
            }
            if let Some(f) = r.valid_from_ms.filter(|f| *f > now) {
                due = Some(due.map_or(f, |d| d.min(f)));
                continue;
            }
            let Some(kind) = Kind::parse(&r.kind) else { continue };
            let n = c.meta.len() as u32;
            if c.set.insert(kind, &r.value, n).is_ok() {
                c.meta.push(Meta {
                    id: r.id,
                    kind,
                    value: r.value,
                    feed: feeds.get(&r.feed_id).cloned().unwrap_or_default(),
                    name: r.name,
                    severity: Severity::from_confidence(r.confidence.clamp(0, 100) as u8),
                });
            }
        }
        (c, due)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))
}

/// Sightings within the reader's companies, newest first.
pub async fn sightings(app: &App, who: &Principal, indicator_id: Option<&str>, alert_id: Option<&str>, limit: u64) -> Result<Vec<Sighting>> {
    let s = scope(who, Permission::MonitoringRead)?;
    let red_ok = who.access.can(Permission::RulesManage);
    // Scope and TLP are part of the query, so a page of `limit` is full whenever there is
    // that much the reader may see.
    let mut find = sighting::Entity::find().order_by_desc(sighting::Column::LastMs).limit(limit.min(1000));
    if let Some(set) = &s {
        find = find.filter(sighting::Column::CompanyId.is_in(set.clone()));
    }
    if !red_ok {
        let red = isms_store::sea_orm::sea_query::Query::select()
            .column(indicator::Column::Id)
            .from(indicator::Entity)
            .and_where(isms_store::sea_orm::sea_query::ExprTrait::eq(isms_store::sea_orm::sea_query::Expr::col(indicator::Column::Tlp), Tlp::Red.code()))
            .to_owned();
        find = find.filter(sighting::Column::IndicatorId.not_in_subquery(red));
    }
    if let Some(i) = indicator_id {
        find = find.filter(sighting::Column::IndicatorId.eq(i));
    }
    if let Some(a) = alert_id {
        find = find.filter(sighting::Column::AlertId.eq(a));
    }
    let rows = with_indicators(app, find.all(app.store.conn()).await?).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, i)| i.map(|i| (m, i)))
        .map(|(m, i)| Sighting {
            id: m.id,
            indicator_id: m.indicator_id,
            value: i.value,
            kind: i.kind,
            tlp: i.tlp,
            feed_id: i.feed_id,
            company_id: m.company_id,
            source_id: m.source_id,
            alert_id: m.alert_id,
            count: m.count,
            first_ms: m.first_ms,
            last_ms: m.last_ms,
        })
        .collect())
}

/// Each sighting with its indicator.
pub(super) async fn with_indicators(app: &App, rows: Vec<sighting::Model>) -> Result<Vec<(sighting::Model, Option<indicator::Model>)>> {
    let mut ids: Vec<String> = rows.iter().map(|r| r.indicator_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        for i in indicator::Entity::find().filter(indicator::Column::Id.is_in(chunk.to_vec())).all(app.store.conn()).await? {
            found.insert(i.id.clone(), i);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let i = found.get(&r.indicator_id).cloned();
            (r, i)
        })
        .collect())
}

pub(super) fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default()
}

/// Sightings as a STIX 2.1 bundle to share back with the ISAC: those of indicators whose
/// TLP is at most `max_tlp` (never amber+strict or red, which stay inside), last seen at
/// or after `since_ms`. Indicators without a STIX id of their own are included, so every
/// sighting points at an object the receiver can read.
pub async fn export_sightings(app: &App, who: &Principal, max_tlp: Tlp, since_ms: Option<i64>) -> Result<Value> {
    who.require(Permission::RulesManage)?;
    if max_tlp > Tlp::Amber {
        return Err(AppError::coded("max_tlp", "tlp-not-shared", "amber+strict and red are not shared outside"));
    }
    let s = scope(who, Permission::RulesManage)?;
    let mut find = sighting::Entity::find().order_by_asc(sighting::Column::FirstMs);
    if let Some(t) = since_ms {
        find = find.filter(sighting::Column::LastMs.gte(t));
    }
    let rows = with_indicators(app, find.all(app.store.conn()).await?).await?;
    let db = app.store.conn();
    let identity_id = match isms_store::settings::get(db, "stix_identity").await? {
        Some(id) => id,
        None => {
            let id = format!("identity--{}", uuid::Uuid::now_v7());
            let txn = app.store.write().await?;
            isms_store::settings::put(&txn, "stix_identity", &id).await?;
            txn.commit().await?;
            id
        }
    };
    use isms_store::org::company;
    let group = company::Entity::find().filter(company::Column::IsHolding.eq(true)).one(db).await?.map(|c| c.name).unwrap_or_else(|| "isms".into());
    let now = iso(now_ms());
    let mut objects = vec![
        json!({"type": "identity", "spec_version": "2.1", "id": identity_id, "created": now, "modified": now, "name": group, "identity_class": "organization"}),
    ];
    let mut included = std::collections::HashSet::new();
    let mut shared = 0;
    for (m, i) in rows {
        let Some(i) = i else { continue };
        let Some(tlp) = Tlp::parse(&i.tlp) else { continue };
        if tlp > max_tlp || !in_scope(&s, m.company_id.as_deref()) {
            continue;
        }
        let marking = tlp.stix_marking().unwrap_or_default();
        let indicator_ref = match i.external_id.as_deref().filter(|e| e.starts_with("indicator--")) {
            Some(e) => e.to_string(),
            None => {
                let id = format!("indicator--{}", i.id);
                if included.insert(id.clone()) {
                    let kind = Kind::parse(&i.kind).unwrap_or(Kind::Domain);
                    let pattern = stix_pattern(kind, &i.value);
                    objects.push(json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": iso(i.created_ms), "modified": iso(i.updated_ms),
                        "name": if i.name.is_empty() { i.value.clone() } else { i.name.clone() }, "pattern": pattern, "pattern_type": "stix",
                        "valid_from": iso(i.valid_from_ms.unwrap_or(i.created_ms)), "created_by_ref": identity_id, "object_marking_refs": [marking]}));
                }
                id
            }
        };
        objects.push(
            json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", m.id), "created": iso(m.created_ms), "modified": iso(m.last_ms),
            "sighting_of_ref": indicator_ref, "first_seen": iso(m.first_ms), "last_seen": iso(m.last_ms), "count": m.count.min(999_999_999),
            "where_sighted_refs": [identity_id], "created_by_ref": identity_id, "object_marking_refs": [marking]}),
        );
        shared += 1;
    }
    let txn = app.store.write().await?;
    record(
        app,
        &txn,
        who,
        "monitoring.sightings.export",
        "sighting",
        None,
        None,
        json!({"max_tlp": max_tlp.code(), "since_ms": since_ms, "sightings": shared}),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::now_v7()), "objects": objects}))
}

/// The STIX pattern of one indicator value.
pub fn stix_pattern(kind: Kind, value: &str) -> String {
    let q = value.replace('\\', "\\\\").replace('\'', "\\'");
    match kind {
        Kind::Ipv4 => format!("[ipv4-addr:value = '{q}']"),
        Kind::Ipv6 => format!("[ipv6-addr:value = '{q}']"),
        Kind::Domain => format!("[domain-name:value = '{q}']"),
        Kind::Url => format!("[url:value = '{q}']"),
        Kind::Email => format!("[email-addr:value = '{q}']"),
        Kind::Md5 => format!("[file:hashes.MD5 = '{q}']"),
        Kind::Sha1 => format!("[file:hashes.'SHA-1' = '{q}']"),
        Kind::Sha256 => format!("[file:hashes.'SHA-256' = '{q}']"),
    }
}

/// The indicator values an alert saw: the one its group stands for (`…|ioc:<id>|…`) and
/// those its sightings observed. For a case opened from the alert, as observables.
pub async fn seen_by_alert(db: &impl isms_store::sea_orm::ConnectionTrait, alert_id: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = vec![];
    if let Some(a) = isms_store::monitoring::alert::Entity::find_by_id(alert_id.to_owned()).one(db).await?
        && let Some(ioc) = a.group_key.split('|').find_map(|p| p.strip_prefix("ioc:"))
        && let Some(i) = indicator::Entity::find_by_id(ioc.to_owned()).one(db).await?
    {
        out.push(i.value);
    }
    for s in sighting::Entity::find().filter(sighting::Column::AlertId.eq(alert_id)).all(db).await? {
        if !out.contains(&s.observed) {
            out.push(s.observed);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use isms_detect::intel::pattern::parse;

    #[test]
    fn exported_patterns_read_back_as_the_indicator() {
        for (k, v) in [
            (Kind::Ipv4, "10.0.0.0/8"),
            (Kind::Sha1, "0011223344556677889900112233445566778899"),
            (Kind::Url, "http://x.example/a'b"),
            (Kind::Email, "a@b.example"),
        ] {
            assert_eq!(parse(&stix_pattern(k, v)).unwrap().indicators().unwrap(), [(k, v.to_string())]);
        }
    }
}
