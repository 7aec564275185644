//! The pipeline's one writer: evaluated events grouped into transactions, alerts opened or
//! grown, raw events and sightings kept, duplicate deliveries dropped.

use super::*;

pub(super) async fn writer(app: App, mut rx: mpsc::UnboundedReceiver<Job>, window_ms: i64) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < WRITE_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let evals: Vec<&Evaluated> = jobs.iter().map(|j| &j.eval).collect();
        match write(&app, &evals, window_ms).await {
            Ok(outcomes) => {
                for (j, o) in jobs.into_iter().zip(outcomes) {
                    let _ = j.reply.send(Ok(o));
                }
            }
            Err(e) => {
                tracing::error!("writing a batch of events failed: {e}");
                let msg = e.to_string();
                for j in jobs {
                    let _ = j.reply.send(Err(msg.clone()));
                }
            }
        }
    }
}

/// Writes the results of several batches in one transaction. Matches of one rule on one
/// host join the open alert of that group while it is within the window.
pub(super) async fn write(app: &App, evals: &[&Evaluated], window_ms: i64) -> Result<Vec<Outcome>> {
    let now = now_ms();
    let roster = crate::oncall::roster(app).await?;
    let txn = app.store.write_quiet().await?;
    let pg = txn.get_database_backend() == DbBackend::Postgres;
    // Batches delivered again after a crash: recorded keys are skipped, new ones recorded
    // in this same transaction.
    let keys: Vec<String> = evals.iter().filter_map(|e| e.key.clone()).collect();
    let seen: std::collections::HashSet<String> = if keys.is_empty() {
        Default::default()
    } else {
        ingest_done::Entity::find().filter(ingest_done::Column::Key.is_in(keys.clone())).all(&txn).await?.into_iter().map(|d| d.key).collect()
    };
    // The same batch twice in one group (delivered again while the first was queued)
    // counts once too.
    let mut taken = seen;
    let dup: Vec<bool> = evals.iter().map(|e| e.key.as_ref().is_some_and(|k| !taken.insert(k.clone()))).collect();
    let fresh: Vec<String> = evals.iter().zip(&dup).filter(|(_, d)| !**d).filter_map(|(e, _)| e.key.clone()).collect();
    if !fresh.is_empty() {
        let now = now_ms();
        ingest_done::Entity::insert_many(fresh.iter().map(|k| ingest_done::Model { key: k.clone(), done_ms: now }.into_active_model())).exec(&txn).await?;
    }
    let kept: Vec<&Evaluated> = evals.iter().zip(&dup).filter(|(_, d)| !**d).map(|(e, _)| *e).collect();
    let evals = &kept[..];
    write_raw(&txn, evals).await?;
    // Matches grouped by alert key, in the order they came.
    let mut order: Vec<String> = vec![];
    let mut groups: HashMap<String, Vec<(usize, &Hit)>> = HashMap::new();
    for (bi, ev) in evals.iter().enumerate() {
        for h in &ev.hits {
            let key = group_key(ev.source.company_id.as_deref(), &h.subject.key(), &h.host);
            groups.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                vec![]
            });
            if let Some(g) = groups.get_mut(&key) {
                g.push((bi, h));
            }
        }
    }
    let mut sightings: HashMap<String, Seen> = HashMap::new();
    let mut outcomes: Vec<Outcome> =
        evals.iter().map(|e| Outcome { accepted: e.events, malformed: e.malformed.len() as u64, alerts: 0, duplicate: false }).collect();
    for key in order {
        let hits = &groups[&key];
        if pg {
            // Instances writing the same group take turns.
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_advisory_xact_lock(hashtext($1))", [key.clone().into()])).await?;
        }
        let first_at = hits.iter().map(|(_, h)| h.at_ms).min().unwrap_or(now);
        let last_at = hits.iter().map(|(_, h)| h.at_ms).max().unwrap_or(now);
        let severity = hits.iter().map(|(_, h)| h.severity).max().unwrap_or(Severity::Medium);
        let open = alert::Entity::find()
            .filter(alert::Column::GroupKey.eq(key.clone()))
            .filter(alert::Column::State.is_in([AlertState::New.code(), AlertState::Acknowledged.code()]))
            .order_by_desc(alert::Column::LastMs)
            .one(&txn)
            .await?;
        let n = hits.len() as i64;
        let (alert_id, seq0) = match open {
            Some(a) if joins(a.last_ms, first_at, window_ms) => {
                let seq0 = a.count;
                let keep_severity = Severity::parse(&a.severity).unwrap_or(Severity::Medium);
                let id = a.id.clone();
                let mut m = a.into_active_model();
                m.count = isms_store::sea_orm::ActiveValue::Set(seq0 + n);
                m.last_ms = isms_store::sea_orm::ActiveValue::Set(std::cmp::max(last_at, *m.last_ms.as_ref()));
                m.severity = isms_store::sea_orm::ActiveValue::Set(keep_severity.max(severity).code().into());
                m.updated_ms = isms_store::sea_orm::ActiveValue::Set(now);
                m.update(&txn).await?;
                (id, seq0)
            }
            _ => {
                let (bi, h0) = hits[0];
                let src = &evals[bi].source;
                let (rule_id, kind) = match &h0.subject {
                    Subject::Rule(id) => (Some(id.clone()), "rule"),
                    Subject::Indicator { .. } => (None, "indicator"),
                };
                let new = crate::alerts::NewAlert {
                    company_id: src.company_id.clone(),
                    source_id: Some(src.id.clone()),
                    rule_id,
                    kind,
                    title: h0.title.clone(),
                    severity,
                    host: h0.host.clone(),
                    user_name: h0.user.clone(),
                    group_key: key.clone(),
                    count: n,
                    first_ms: first_at,
                    last_ms: last_at,
                };
                let id = crate::alerts::open_alert(app, &txn, &roster, new, now).await?;
                (id, 0)
            }
        };
        let evidence: Vec<alert_event::ActiveModel> = hits
            .iter()
            .enumerate()
            .filter(|(i, _)| seq0 + (*i as i64) < EVIDENCE_CAP)
            .map(|(i, (_, h))| {
                alert_event::Model {
                    alert_id: alert_id.clone(),
                    seq: (seq0 + i as i64) as i32,
                    at_ms: h.at_ms,
                    host: h.host.chars().take(255).collect(),
                    user_name: h.user.chars().take(255).collect(),
                    raw: h.raw.clone(),
                }
                .into_active_model()
            })
            .collect();
        if !evidence.is_empty() {
            alert_event::Entity::insert_many(evidence).exec(&txn).await?;
        }
        for (bi, h) in hits {
            if let Subject::Indicator { id, value } = &h.subject {
                let src = &evals[*bi].source;
                let s = sightings.entry(format!("{id}:{}", src.id)).or_insert_with(|| Seen {
                    indicator_id: id.clone(),
                    company_id: src.company_id.clone(),
                    source_id: src.id.clone(),
                    observed: value.clone(),
                    alert_id: alert_id.clone(),
                    count: 0,
                    first_ms: h.at_ms,
                    last_ms: h.at_ms,
                });
                s.count += 1;
                s.first_ms = std::cmp::min(s.first_ms, h.at_ms);
                s.last_ms = std::cmp::max(s.last_ms, h.at_ms);
                s.alert_id = alert_id.clone();
            }
        }
        let mut counted = vec![];
        for (bi, _) in hits {
            if !counted.contains(bi) {
                counted.push(*bi);
                outcomes[*bi].alerts += 1;
            }
        }
    }
    write_sightings(&txn, sightings, now, pg).await?;
    // Dead letters, then the counters of each source.
    let letters: Vec<dead_letter::ActiveModel> = evals
        .iter()
        .flat_map(|ev| {
            ev.malformed.iter().map(|(reason, raw)| {
                dead_letter::Model {
                    id: uuid::Uuid::now_v7().to_string(),
                    source_id: Some(ev.source.id.clone()),
                    company_id: ev.source.company_id.clone(),
                    received_ms: ev.received_ms,
                    reason: reason.clone(),
                    raw: raw.clone(),
                }
                .into_active_model()
            })
        })
        .collect();
    for chunk in letters.chunks(200) {
        dead_letter::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let mut per_source: HashMap<&str, (i64, i64, i64, i64)> = HashMap::new();
    for (ev, o) in evals.iter().zip(&outcomes) {
        let s = per_source.entry(&ev.source.id).or_default();
        s.0 += o.accepted as i64;
        s.1 += o.malformed as i64;
        s.2 += o.alerts as i64;
        s.3 = std::cmp::max(s.3, ev.received_ms);
    }
    use isms_store::monitoring::{ingest_minute, source};
    for (id, (events, malformed, alerts, last)) in per_source {
        source::Entity::update_many()
            .col_expr(source::Column::EventsTotal, Expr::col(source::Column::EventsTotal).add(events))
            .col_expr(source::Column::MalformedTotal, Expr::col(source::Column::MalformedTotal).add(malformed))
            .col_expr(source::Column::LastEventMs, Expr::val(last))
            .col_expr(source::Column::SilentSinceMs, Expr::val(Option::<i64>::None))
            .filter(source::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let minute = now / 60_000;
        let stmt = Query::insert()
            .into_table(ingest_minute::Entity)
            .columns([
                ingest_minute::Column::SourceId,
                ingest_minute::Column::Minute,
                ingest_minute::Column::Events,
                ingest_minute::Column::Malformed,
                ingest_minute::Column::Alerts,
            ])
            .values_panic([id.into(), minute.into(), events.into(), malformed.into(), alerts.into()])
            .on_conflict(
                OnConflict::columns([ingest_minute::Column::SourceId, ingest_minute::Column::Minute])
                    .value(ingest_minute::Column::Events, Expr::col((ingest_minute::Entity, ingest_minute::Column::Events)).add(Expr::cust("excluded.events")))
                    .value(
                        ingest_minute::Column::Malformed,
                        Expr::col((ingest_minute::Entity, ingest_minute::Column::Malformed)).add(Expr::cust("excluded.malformed")),
                    )
                    .value(ingest_minute::Column::Alerts, Expr::col((ingest_minute::Entity, ingest_minute::Column::Alerts)).add(Expr::cust("excluded.alerts")))
                    .to_owned(),
            )
            .to_owned();
        txn.execute(&stmt).await?;
    }
    txn.commit().await?;
    // Answers in the order the batches came, duplicates included.
    let mut fresh_outcomes = outcomes.into_iter();
    Ok(dup.iter().map(|d| if *d { Outcome { duplicate: true, ..Default::default() } } else { fresh_outcomes.next().unwrap_or_default() }).collect())
}

/// Indicator matches of one indicator in one source's events, to add to its sighting.
pub(super) struct Seen {
    indicator_id: String,
    company_id: Option<String>,
    source_id: String,
    observed: String,
    alert_id: String,
    count: i64,
    first_ms: i64,
    last_ms: i64,
}

/// Adds matches to the sightings (one per indicator and source, counted up).
/// The raw events of sources that keep them, in the batch's transaction.
pub(super) async fn write_raw(txn: &impl ConnectionTrait, evals: &[&Evaluated]) -> Result<()> {
    use isms_store::monitoring::raw_event;
    use isms_store::sea_orm::ActiveValue::Set;
    let mut rows: Vec<raw_event::ActiveModel> = evals
        .iter()
        .flat_map(|ev| {
            ev.kept.iter().map(|(at, host, user, body)| raw_event::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                company_id: Set(ev.source.company_id.clone()),
                source_id: Set(ev.source.id.clone()),
                received_ms: Set(ev.received_ms),
                event_ms: Set(*at),
                host: Set(host.chars().take(255).collect()),
                user_name: Set(user.chars().take(255).collect()),
                bytes: Set(body.len() as i32),
                body: Set(body.clone()),
            })
        })
        .collect();
    // A few hundred rows per statement stays within every backend's bound parameters.
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(256));
        raw_event::Entity::insert_many(std::mem::replace(&mut rows, rest)).exec_without_returning(txn).await?;
    }
    Ok(())
}

pub(super) async fn write_sightings(txn: &impl ConnectionTrait, seen: HashMap<String, Seen>, now: i64, pg: bool) -> Result<()> {
    use isms_store::monitoring::sighting::{Column as C, Entity};
    // Batches may arrive out of order: the last sighting is the latest event's time.
    let latest = if pg { "GREATEST(sightings.last_ms, excluded.last_ms)" } else { "max(sightings.last_ms, excluded.last_ms)" };
    if seen.is_empty() {
        return Ok(());
    }
    // An indicator removed since the set was built (a feed deleted, a revocation) has no
    // sighting; its alert stands.
    use isms_store::monitoring::indicator;
    let ids: Vec<String> = seen.values().map(|s| s.indicator_id.clone()).collect();
    let live: std::collections::HashSet<String> = indicator::Entity::find()
        .select_only()
        .column(indicator::Column::Id)
        .filter(indicator::Column::Id.is_in(ids))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    for (key, s) in seen.into_iter().filter(|(_, s)| live.contains(&s.indicator_id)) {
        let stmt = Query::insert()
            .into_table(Entity)
            .columns([C::Id, C::SightingKey, C::IndicatorId, C::CompanyId, C::SourceId, C::AlertId, C::Observed, C::Count, C::FirstMs, C::LastMs, C::CreatedMs])
            .values_panic([
                uuid::Uuid::now_v7().to_string().into(),
                key.into(),
                s.indicator_id.into(),
                s.company_id.into(),
                Some(s.source_id).into(),
                Some(s.alert_id).into(),
                s.observed.chars().take(2048).collect::<String>().into(),
                s.count.into(),
                s.first_ms.into(),
                s.last_ms.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(C::SightingKey)
                    .value(C::Count, Expr::col((Entity, C::Count)).add(Expr::cust("excluded.count")))
                    .value(C::LastMs, Expr::cust(latest))
                    .value(C::AlertId, Expr::cust("excluded.alert_id"))
                    .to_owned(),
            )
            .to_owned();
        txn.execute(&stmt).await?;
    }
    Ok(())
}

/// Forgets batch keys older than `days` (the transport keeps nothing that old to deliver
/// again). Returns how many were removed.
pub async fn prune_keys(app: &App, days: i64) -> Result<u64> {
    let r = ingest_done::Entity::delete_many().filter(ingest_done::Column::DoneMs.lt(now_ms() - days * 86_400_000)).exec(app.store.conn()).await?;
    Ok(r.rows_affected)
}
