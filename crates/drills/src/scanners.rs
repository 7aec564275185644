//! The group's own list of mail gateways and link scanners, beside the built-in one: the
//! networks their requests come from and words in their user agents (a gateway product
//! the built-in list does not know, the group's own proxy). Kept as one setting; whoever
//! manages drills group-wide writes it, and every later verdict reads it.

use isms_core::FieldError;
use isms_core::drills::{Judge, Net, SCANNER_AGENTS, SCANNER_NETS};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::sea_orm::ConnectionTrait;
use isms_store::settings;
use serde::{Deserialize, Serialize};
use serde_json::json;

const KEY: &str = "drill_scanners";

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = DrillScanners)]
pub struct Scanners {
    /// Networks in CIDR notation (`198.51.100.0/24`, `2001:db8::/32`) or single addresses.
    #[serde(default)]
    pub nets: Vec<String>,
    /// Words that, found in a user agent (any case), name a machine.
    #[serde(default)]
    pub agents: Vec<String>,
}

/// The built-in lists, shown beside the group's own.
pub fn built_in() -> Scanners {
    Scanners { nets: SCANNER_NETS.iter().map(|s| (*s).to_owned()).collect(), agents: SCANNER_AGENTS.iter().map(|s| (*s).to_owned()).collect() }
}

pub async fn get(db: &impl ConnectionTrait) -> Result<Scanners> {
    match settings::get(db, KEY).await? {
        Some(v) => serde_json::from_str(&v).map_err(AppError::internal),
        None => Ok(Scanners::default()),
    }
}

/// The rules with the group's lists.
pub(crate) async fn judge(db: &impl ConnectionTrait) -> Result<Judge> {
    let s = get(db).await?;
    Ok(Judge::with(&s.nets, &s.agents))
}

/// Parses one entry per line (blank lines and `#` comments skipped): the entries taken,
/// and the lines refused as (line number, text).
pub fn lines(text: &str, check: impl Fn(&str) -> bool) -> (Vec<String>, Vec<(usize, String)>) {
    let (mut out, mut bad) = (vec![], vec![]);
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if !check(l) {
            bad.push((i + 1, l.to_owned()));
        } else if !out.iter().any(|o: &String| o.eq_ignore_ascii_case(l)) {
            out.push(l.to_owned());
        }
    }
    (out, bad)
}

/// Replaces the group's lists from their text (one entry per line).
pub async fn set(app: &App, who: &Principal, nets: &str, agents: &str) -> Result<Scanners> {
    if !crate::manages(who, None) {
        return Err(AppError::Forbidden);
    }
    let (nets, bad_nets) = lines(nets, |l| Net::parse(l).is_some());
    // A word of fewer than three characters would name half the browsers.
    let (agents, bad_agents) = lines(agents, |l| (3..=100).contains(&l.chars().count()) && !l.chars().any(char::is_control));
    let mut errors: Vec<FieldError> = bad_nets
        .into_iter()
        .map(|(n, l)| FieldError::coded("nets", "drill-scanner-net", format!("line {n}: `{l}` is not a network")).arg("line", n.to_string()).arg("value", l))
        .collect();
    errors.extend(bad_agents.into_iter().map(|(n, l)| {
        FieldError::coded("agents", "drill-scanner-agent", format!("line {n}: `{l}` is not accepted (3 to 100 characters)"))
            .arg("line", n.to_string())
            .arg("value", l)
    }));
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let s = Scanners { nets, agents: agents.into_iter().map(|a| a.to_ascii_lowercase()).collect() };
    let txn = app.store.write().await?;
    settings::put(&txn, KEY, &serde_json::to_string(&s).map_err(AppError::internal)?).await?;
    record(app, &txn, who, "drills.scanners.update", "setting", Some(KEY), None, json!({"nets": s.nets, "agents": s.agents})).await?;
    txn.commit().await?;
    Ok(s)
}
