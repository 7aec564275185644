//! The demo cases: a reported phishing mail in triage, a lost laptop, and a mail sent
//! to the wrong members whose legal reporting clocks are running.

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
            title: "マイレージ口座の確認を求めるメールが届いた".into(),
            description: "差出人はマイレージプログラムに見えましたが、リンク先は別のドメインでした。何も入力していません。".into(),
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
        ReportInput { title: "電車内にノート PC を置き忘れた".into(), kind: Some("loss_theft".into()), customer_data: true, ..Default::default() },
    )
    .await?;
    // A mail to the wrong list: personal data of more than 1,000 members, so the reports
    // to the Personal Information Protection Commission and the notice to the members
    // are due, and their clocks run on the CSIRT's list.
    let misdirected = cases::report(
        app,
        &csirt,
        ReportInput {
            title: "マイレージ会員への案内メールを別の会員リストに誤送信".into(),
            description: "会員番号と氏名を差し込んだ案内メールが、別のキャンペーンの送信リスト宛てに送られた。".into(),
            kind: Some("data_leak".into()),
            customer_data: true,
            ..Default::default()
        },
    )
    .await?;
    cases::transition_to(app, &csirt, &misdirected.id, TransitionInput { to: "triage".into(), reason: String::new() }).await?;
    cases::update_facts(
        app,
        &csirt,
        &misdirected.id,
        FactsInput {
            title: misdirected.title.clone(),
            kind: "data_leak".into(),
            description: misdirected.description.clone(),
            impact: Some("significant".into()),
            exposure: Some("customer".into()),
            personal_data: Some(true),
            people_affected: Some(1_800),
            data_categories: "氏名、会員番号、メールアドレス".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
