//! Reminders: a person is told a week and a day before an assignment falls due, and once
//! when it is overdue; their manager is told each week which of their reports are overdue
//! in a campaign. Every notice has a key, so the hourly job tells no one twice.

use isms_core::training::AssignmentStatus;
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, Result};
use isms_store::org::person;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use isms_store::training::{assignment, campaign, text};
use jiff::civil::Date;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Days before the due date a person is reminded.
pub const BEFORE_DAYS: [i64; 2] = [7, 1];

/// The reminders one assignment is owed on `today`: the window it is in (7, 1 or overdue
/// as 0), or none.
pub fn window(due_on: Date, today: Date) -> Option<i64> {
    let left = (due_on - today).get_days();
    if left < 0 {
        return Some(0);
    }
    BEFORE_DAYS.iter().rev().find(|d| i64::from(left) <= **d).copied()
}

/// Sends what is due. Returns how many notices were new.
pub async fn run(app: &App) -> Result<u64> {
    let today = isms_core::calendar::today();
    let horizon = today.checked_add(jiff::Span::new().days(BEFORE_DAYS[0])).unwrap_or(today).to_string();
    let due = assignment::Entity::find()
        .filter(assignment::Column::Status.eq(AssignmentStatus::Assigned.code()))
        .filter(assignment::Column::DueOn.lte(horizon.clone()));
    // Nothing due, no write: a job that takes SQLite's write lock for nothing keeps the
    // jobs that have work waiting.
    if due.clone().one(app.store.conn()).await?.is_none() {
        return Ok(0);
    }
    let txn = app.store.write_quiet().await?;
    let open = due.all(&txn).await?;
    let titles: HashMap<(String, String), String> = text::Entity::find()
        .filter(text::Column::CourseId.is_in(open.iter().map(|a| a.course_id.clone()).collect::<std::collections::HashSet<_>>()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| ((t.course_id, t.lang), t.title))
        .collect();
    let title = |course: &str, lang: &str| {
        titles.get(&(course.to_owned(), lang.to_owned())).or_else(|| titles.get(&(course.to_owned(), "ja".to_owned()))).cloned().unwrap_or_default()
    };
    let campaigns: HashMap<String, campaign::Model> = campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(open.iter().map(|a| a.campaign_id.clone()).collect::<std::collections::HashSet<_>>()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut sent = 0;
    // Overdue people per (campaign, manager).
    let mut overdue: BTreeSet<(String, String)> = BTreeSet::new();
    for a in &open {
        let Ok(due) = a.due_on.parse::<Date>() else { continue };
        let Some(w) = window(due, today) else { continue };
        let args = json!({"course_ja": title(&a.course_id, "ja"), "course_en": title(&a.course_id, "en"), "due": a.due_on, "days": w});
        let link = format!("/training/assignments/{}", a.id);
        let n = if w == 0 {
            Notice::new("training-overdue", args, link).once(format!("training-overdue:{}", a.id))
        } else {
            Notice::new("training-due", args, link).once(format!("training-due:{}:{}:{w}", a.id, a.due_on))
        };
        if notify::to_person(app, &txn, &a.person_id, &n).await? {
            sent += 1;
        }
        if w == 0 {
            overdue.insert((a.campaign_id.clone(), a.person_id.clone()));
        }
    }
    // Managers: each overdue person's manager, in the manager's own words per campaign.
    let people: HashMap<String, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(overdue.iter().map(|(_, p)| p.clone()).collect::<std::collections::HashSet<_>>()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let mut by_manager: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (campaign_id, person_id) in &overdue {
        let Some(p) = people.get(person_id) else { continue };
        if let Some(m) = &p.manager_id {
            by_manager.entry((campaign_id.clone(), m.clone())).or_default().push(p.name.clone());
        }
    }
    let week = today.iso_week_date();
    for ((campaign_id, manager), mut names) in by_manager {
        names.sort();
        let Some(c) = campaigns.get(&campaign_id) else { continue };
        let n = Notice::new(
            "training-overdue-reports",
            json!({"campaign": c.title, "count": names.len(), "names": names.join("、"), "due": c.due_on}),
            // A manager may not read campaigns: the names are in the notice itself.
            "/training",
        )
        .once(format!("training-overdue-reports:{campaign_id}:{manager}:{}-W{}", week.year(), week.week()));
        if notify::to_person(app, &txn, &manager, &n).await? {
            sent += 1;
        }
    }
    txn.commit().await?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn reminders_fall_a_week_and_a_day_before_and_once_overdue() {
        let due = d("2026-12-20");
        assert_eq!(window(due, d("2026-12-01")), None);
        assert_eq!(window(due, d("2026-12-13")), Some(7));
        assert_eq!(window(due, d("2026-12-18")), Some(7));
        assert_eq!(window(due, d("2026-12-19")), Some(1));
        assert_eq!(window(due, d("2026-12-20")), Some(1));
        assert_eq!(window(due, d("2026-12-21")), Some(0));
    }
}
