//! Feeds pulled from TAXII 2.1 collections: paging, credentials, the schedule, and the
//! reason a failed pull leaves on the feed.

use super::*;

/// The TAXII 2.1 media type.
pub(super) const TAXII_TYPE: &str = "application/taxii+json;version=2.1";

pub(super) struct Taxii {
    client: reqwest::Client,
    auth: String,
    username: Option<String>,
    secret: Option<String>,
}

impl Taxii {
    async fn get(&self, url: &str) -> std::result::Result<(Value, Option<String>), String> {
        let mut req = self.client.get(url).header(reqwest::header::ACCEPT, TAXII_TYPE);
        match self.auth.as_str() {
            "basic" => req = req.basic_auth(self.username.clone().unwrap_or_default(), self.secret.clone()),
            "bearer" => req = req.bearer_auth(self.secret.clone().unwrap_or_default()),
            _ => {}
        }
        let resp = req.send().await.map_err(|e| format!("{url} could not be reached: {}", reach_error(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 => " (the server wants credentials: check the user name and password or token)",
                403 => " (the credentials are not allowed to read this)",
                404 => " (no such API root or collection)",
                _ => "",
            };
            return Err(format!("{url} answered {status}{hint}"));
        }
        let added_last = resp.headers().get("x-taxii-date-added-last").and_then(|v| v.to_str().ok()).map(str::to_string);
        // A page is read up to the largest feed file, never without bound.
        if resp.content_length().is_some_and(|n| n as usize > MAX_FEED_BYTES) {
            return Err(format!("{url} answered more than {} MiB in one page", MAX_FEED_BYTES >> 20));
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: the answer broke off: {e}"))? {
            if body.len() + chunk.len() > MAX_FEED_BYTES {
                return Err(format!("{url} answered more than {} MiB in one page", MAX_FEED_BYTES >> 20));
            }
            body.extend_from_slice(&chunk);
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))?;
        Ok((v, added_last))
    }
}

/// The root cause of a failed request (`Connection refused`, a certificate problem, a
/// timeout), without the layers of wrapping around it.
pub(super) fn reach_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".into();
    }
    let mut last: &dyn std::error::Error = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

pub(super) fn join_url(base: &str, rel: &str) -> String {
    if rel.starts_with("http://") || rel.starts_with("https://") {
        return rel.to_string();
    }
    let origin_end = base.find("://").map(|i| i + 3).and_then(|s| base[s..].find('/').map(|j| s + j)).unwrap_or(base.len());
    if rel.starts_with('/') { format!("{}{rel}", &base[..origin_end]) } else { format!("{}/{rel}", base.trim_end_matches('/')) }
}

pub(super) fn with_slash(u: &str) -> String {
    if u.ends_with('/') { u.to_string() } else { format!("{u}/") }
}

/// Pulls what a TAXII feed added since its cursor: the indicators and the next cursor.
pub(super) async fn pull_taxii(app: &App, m: &feed_row::Model) -> std::result::Result<(Parsed, Option<String>), String> {
    let secret = match &m.secret {
        Some(s) => Some(app.fields().open(s).map_err(|_| "the stored password or token cannot be read with this instance's key".to_string())?),
        None => None,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent("isms")
        .build()
        .map_err(|e| e.to_string())?;
    let t = Taxii { client, auth: m.auth.clone(), username: m.username.clone(), secret };
    let url = m.url.clone().ok_or("the feed has no address")?;
    // A discovery address lists API roots; an API root describes itself.
    let (doc, _) = t.get(&url).await?;
    let root = if let Some(roots) = doc.get("api_roots").and_then(Value::as_array) {
        let chosen =
            doc.get("default").and_then(Value::as_str).or_else(|| roots.first().and_then(Value::as_str)).ok_or_else(|| format!("{url} lists no API root"))?;
        with_slash(&join_url(&url, chosen))
    } else if doc.get("title").is_some() || doc.get("versions").is_some() {
        with_slash(&url)
    } else {
        return Err(format!("{url} is neither a TAXII 2.1 discovery address nor an API root"));
    };
    let collection = match &m.collection {
        Some(c) => c.clone(),
        None => {
            let (cols, _) = t.get(&format!("{root}collections/")).await?;
            let readable: Vec<&str> = cols
                .get("collections")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|c| c.get("can_read").and_then(Value::as_bool).unwrap_or(true))
                        .filter_map(|c| c.get("id").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            match readable.as_slice() {
                [one] => one.to_string(),
                [] => return Err(format!("{root} has no collection this feed may read")),
                many => return Err(format!("{root} has {} readable collections; choose one: {}", many.len(), many.join(", "))),
            }
        }
    };
    let mut out = Parsed::default();
    let mut cursor = m.cursor.clone();
    let mut next: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let mut q = vec![];
        if let Some(c) = &m.cursor {
            q.push(format!("added_after={}", urlencode(c)));
        }
        if let Some(n) = &next {
            q.push(format!("next={}", urlencode(n)));
        }
        let address = format!("{root}collections/{}/objects/{}{}", urlencode(&collection), if q.is_empty() { "" } else { "?" }, q.join("&"));
        let (env, added_last) = t.get(&address).await?;
        let text = env.to_string();
        let parsed = feed::parse(Format::Stix, text.as_bytes()).map_err(|e| format!("page {page} of {address}: {e}"))?;
        out.indicators.extend(parsed.indicators);
        out.refused.extend(parsed.refused);
        out.skipped += parsed.skipped;
        if added_last.is_some() {
            cursor = added_last;
        }
        next = env.get("next").and_then(Value::as_str).map(str::to_string);
        if !env.get("more").and_then(Value::as_bool).unwrap_or(false) {
            return Ok((out, cursor));
        }
        if next.is_none() && cursor == m.cursor {
            return Err(format!("{address} says there is more but gives no way to ask for it"));
        }
    }
    Err(format!("the feed sent more than {MAX_PAGES} pages in one pull"))
}

pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pulls one TAXII feed now. A failure is kept on the feed (and returned); the indicators
/// of the last good pull stay.
pub(super) async fn pull(app: &App, who: &Principal, m: feed_row::Model) -> Result<ImportReport> {
    if m.format != TAXII {
        return Err(AppError::coded("format", "feed-not-taxii", "only TAXII feeds are pulled; import a file instead"));
    }
    match pull_taxii(app, &m).await {
        Ok((parsed, cursor)) => {
            let txn = app.store.write().await?;
            let report = store_parsed(app, &txn, &m, parsed, false).await?;
            feed_row::Entity::update_many()
                .col_expr(feed_row::Column::Cursor, cursor.into())
                .col_expr(feed_row::Column::NextPullMs, m.interval_minutes.map(|i| now_ms() + i as i64 * 60_000).into())
                .col_expr(feed_row::Column::ClaimedUntilMs, Option::<i64>::None.into())
                .filter(feed_row::Column::Id.eq(m.id.clone()))
                .exec(&txn)
                .await?;
            record(
                app,
                &txn,
                who,
                "monitoring.feed.pull",
                "intel_feed",
                Some(&m.id),
                None,
                json!({"added": report.added, "updated": report.updated, "removed": report.removed, "refused": report.refused.len()}),
            )
            .await?;
            txn.commit().await?;
            crate::shared(app).intel.changed();
            Ok(report)
        }
        Err(reason) => {
            tracing::warn!(feed = %m.name, "threat-intelligence pull failed: {reason}");
            let txn = app.store.write().await?;
            feed_row::Entity::update_many()
                .col_expr(feed_row::Column::LastError, Some(reason.chars().take(2000).collect::<String>()).into())
                .col_expr(feed_row::Column::LastPullMs, Some(now_ms()).into())
                .col_expr(feed_row::Column::NextPullMs, m.interval_minutes.map(|i| now_ms() + i as i64 * 60_000).into())
                .col_expr(feed_row::Column::ClaimedUntilMs, Option::<i64>::None.into())
                .filter(feed_row::Column::Id.eq(m.id.clone()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Err(AppError::coded("url", "feed-pull", reason.clone()).into_with_arg("reason", reason))
        }
    }
}

/// Pulls a TAXII feed at once (the feed page's button).
pub async fn pull_now(app: &App, who: &Principal, id: &str) -> Result<ImportReport> {
    who.require(Permission::RulesManage)?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    pull(app, who, m).await
}

/// Pulls every enabled TAXII feed whose time has come. Each feed is claimed first, so
/// instances running this at once pull it once. Returns how many feeds were pulled.
pub async fn pull_due(app: &App) -> Result<usize> {
    let now = now_ms();
    let due = feed_row::Entity::find()
        .filter(feed_row::Column::Format.eq(TAXII))
        .filter(feed_row::Column::Enabled.eq(true))
        .filter(feed_row::Column::IntervalMinutes.is_not_null())
        .filter(feed_row::Column::NextPullMs.lte(now))
        .filter(Condition::any().add(feed_row::Column::ClaimedUntilMs.is_null()).add(feed_row::Column::ClaimedUntilMs.lt(now)))
        .all(app.store.conn())
        .await?;
    let mut pulled = 0;
    for m in due {
        let txn = app.store.write().await?;
        let claimed = feed_row::Entity::update_many()
            .col_expr(feed_row::Column::ClaimedUntilMs, Some(now + 10 * 60_000).into())
            .filter(feed_row::Column::Id.eq(m.id.clone()))
            .filter(Condition::any().add(feed_row::Column::ClaimedUntilMs.is_null()).add(feed_row::Column::ClaimedUntilMs.lt(now)))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if claimed == 1 {
            pulled += 1;
            let _ = pull(app, &Principal::system(), m).await;
        }
    }
    Ok(pulled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join() {
        assert_eq!(join_url("https://t.example/taxii2/", "/api1/"), "https://t.example/api1/");
        assert_eq!(join_url("https://t.example/taxii2/", "https://o.example/r/"), "https://o.example/r/");
        assert_eq!(join_url("https://t.example/taxii2", "api1/"), "https://t.example/taxii2/api1/");
    }
}
