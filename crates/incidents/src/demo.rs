//! The demo cases: a reported phishing mail in triage and a lost laptop.

use isms_kernel::{App, Result};
use isms_org::demo::Group;

/// Loads this module's part of the demo group.
pub async fn load(app: &App, _group: &Group) -> Result<()> {
    load_incidents(app).await
}

/// Two reports: a suspicious mail in triage, and a lost laptop just reported.
async fn load_incidents(app: &App) -> Result<()> {
    use crate::cases::{self, FactsInput, ReportInput, TransitionInput};
    crate::playbooks::ensure_defaults(app).await?;
    let employee = isms_org::accounts::acting_as(app, "employee").await?;
    let csirt = isms_org::accounts::acting_as(app, "csirt").await?;
    let mail = cases::report(
        app,
        &employee,
        ReportInput {
            title: "Mail asking to confirm my mileage account".into(),
            description: "Sender looked like the mileage programme; the link went to a different domain. I did not enter anything.".into(),
            kind: Some("phishing".into()),
            ..Default::default()
        },
    )
    .await?;
    cases::transition_to(app, &csirt, &mail.id, TransitionInput { to: "triage".into(), reason: String::new() }).await?;
    cases::update_facts(
        app,
        &csirt,
        &mail.id,
        FactsInput {
            title: mail.title.clone(),
            kind: "phishing".into(),
            description: mail.description.clone(),
            impact: Some("limited".into()),
            exposure: Some("none".into()),
            personal_data: Some(false),
            techniques: vec!["T1566.002".into()],
            ..Default::default()
        },
    )
    .await?;
    cases::report(
        app,
        &employee,
        ReportInput { title: "Laptop left on the train".into(), kind: Some("loss_theft".into()), customer_data: true, ..Default::default() },
    )
    .await?;
    Ok(())
}
