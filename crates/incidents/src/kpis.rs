//! Figures for the CSIRT and the Committee: mean times to triage, contain and close by
//! severity and by type, cases per company and month, and what is overdue. Drills never
//! count. Only the cases the reader may see are counted.

use super::cases::{self, IncidentQuery};
use isms_core::Permission;
use isms_kernel::{App, Principal, Result};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Times {
    /// The severity (1–4) or the type code.
    pub key: String,
    pub cases: u64,
    pub mean_minutes_to_triage: Option<i64>,
    pub mean_minutes_to_contain: Option<i64>,
    pub mean_minutes_to_close: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyMonth {
    pub company_id: String,
    /// YYYY-MM in Japan.
    pub month: String,
    pub cases: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Kpis {
    pub cases: u64,
    pub open: u64,
    pub by_severity: Vec<Times>,
    pub by_kind: Vec<Times>,
    pub per_company_month: Vec<CompanyMonth>,
    pub overdue_actions: u64,
    pub overdue_clocks: u64,
}

#[derive(Default)]
struct Acc {
    n: u64,
    t: (i64, i64),
    c: (i64, i64),
    x: (i64, i64),
}

impl Acc {
    fn add(&mut self, i: &cases::Incident) {
        self.n += 1;
        for (slot, v) in [(&mut self.t, i.minutes_to_triage), (&mut self.c, i.minutes_to_contain), (&mut self.x, i.minutes_to_close)] {
            if let Some(m) = v {
                slot.0 += m;
                slot.1 += 1;
            }
        }
    }
    fn times(&self, key: String) -> Times {
        let mean = |(sum, n): (i64, i64)| if n > 0 { Some(sum / n) } else { None };
        Times { key, cases: self.n, mean_minutes_to_triage: mean(self.t), mean_minutes_to_contain: mean(self.c), mean_minutes_to_close: mean(self.x) }
    }
}

pub async fn compute(app: &App, who: &Principal) -> Result<Kpis> {
    who.require(Permission::IncidentsRead)?;
    let mut all = vec![];
    let mut offset = 0;
    loop {
        let page = cases::list(app, who, &IncidentQuery { offset, limit: 500, ..Default::default() }).await?;
        let n = page.items.len() as u64;
        all.extend(page.items);
        if n < 500 {
            break;
        }
        offset += n;
    }
    let japan = isms_core::calendar::japan();
    let (mut sev, mut kind): (BTreeMap<String, Acc>, BTreeMap<String, Acc>) = Default::default();
    let mut per: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut open = 0;
    for i in &all {
        sev.entry(i.severity.map(|s| s.to_string()).unwrap_or_else(|| "-".into())).or_default().add(i);
        kind.entry(i.kind.code().to_owned()).or_default().add(i);
        let month =
            jiff::Timestamp::from_millisecond(i.reported_ms).map(|t| t.to_zoned_datetime(japan.clone()).strftime("%Y-%m").to_string()).unwrap_or_default();
        *per.entry((i.company_id.clone(), month)).or_default() += 1;
        if i.status != isms_core::incidents::Status::Closed {
            open += 1;
        }
    }
    let overdue_actions = super::followup::overdue_actions(app, who).await?.len() as u64;
    let now = isms_store::now_ms();
    let overdue_clocks = super::clocks::running(app, who).await?.iter().filter(|(_, c)| c.due_ms < now).count() as u64;
    Ok(Kpis {
        cases: all.len() as u64,
        open,
        by_severity: sev.into_iter().rev().map(|(k, a)| a.times(k)).collect(),
        by_kind: kind.into_iter().map(|(k, a)| a.times(k)).collect(),
        per_company_month: per.into_iter().rev().map(|((company_id, month), cases)| CompanyMonth { company_id, month, cases }).collect(),
        overdue_actions,
        overdue_clocks,
    })
}
