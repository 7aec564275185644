//! The demo compliance: frameworks in scope, controls with evidence, the Statement of Applicability and risks.

use isms_kernel::{App, Result};
use isms_org::demo::Group;

/// Loads this module's part of the demo group.
pub async fn load(app: &App, group: &Group) -> Result<()> {
    load_compliance(app, &group.people).await
}

/// Controls behind the seed's measures, linked to ISO/IEC 27001 and NIST CSF; a few
/// Statement of Applicability decisions; and risks of Aozora Airlines, one accepted by
/// its owner.
async fn load_compliance(app: &App, owners: &[isms_org::people::Person]) -> Result<()> {
    use crate::controls::{self, ControlInput, LinkInput};
    use crate::risks::{self, Acceptance, ActionInput, RiskInput};
    use crate::soa::{self, Decision};
    use crate::{Scope, frameworks};
    frameworks::ensure_shipped(app).await?;
    let ciso = isms_org::accounts::acting_as(app, "ciso").await?;
    let iso = frameworks::get(app, &ciso, "iso27001-2022").await?.requirements;
    let csf = frameworks::get(app, &ciso, "nist-csf-2.0").await?.requirements;
    let refs =
        |list: &[&str]| -> Vec<String> { list.iter().filter_map(|r| iso.iter().chain(csf.iter()).find(|q| q.reference == *r).map(|q| q.id.clone())).collect() };
    let owner = |i: usize| owners.get(i).map(|p| p.employee_number.clone()).unwrap_or_default();
    let today = isms_core::calendar::today();
    let mut made = vec![];
    for (code, title, status, reqs, who) in [
        ("CTL-001", "ISAC の脅威インテリジェンスを用いた 24 時間 365 日のセキュリティ監視", "implemented", &["A.5.7", "A.8.16", "DE.CM-01", "ID.RA-02"][..], 5),
        ("CTL-002", "顧客情報を扱うシステムへの多要素認証", "implemented", &["A.8.5", "A.5.17", "PR.AA-03"], 1),
        ("CTL-003", "年 2 回の情報セキュリティ教育と標的型メール訓練", "in_progress", &["A.6.3", "PR.AT-01"], 1),
        ("CTL-004", "取扱区分による顧客情報の分離", "implemented", &["A.5.12", "A.5.10", "ID.AM-07"], 1),
        ("CTL-005", "リスク管理マニュアルに基づく CSIRT の対応", "implemented", &["A.5.24", "A.5.25", "A.5.26", "A.5.27", "RS.MA-01", "RS.MA-02"], 5),
        ("CTL-006", "委託先・クラウドサービスのセキュリティ評価", "planned", &["A.5.19", "A.5.23", "GV.SC-06"], 1),
    ] {
        let c = controls::create(
            app,
            &ciso,
            ControlInput {
                code: code.into(),
                title: title.into(),
                owner_id: owner(who),
                status: status.into(),
                requirement_ids: refs(reqs),
                ..Default::default()
            },
        )
        .await?;
        made.push(c);
    }
    controls::add_link(
        app,
        &ciso,
        &made[0].id,
        LinkInput {
            title: "SOC 月次報告（10 月）".into(),
            url: "https://soc.example/reports/2026-10".into(),
            evidence_on: Some(today.saturating_sub(jiff::Span::new().days(20)).to_string()),
        },
    )
    .await?;
    controls::add_file(
        app,
        &ciso,
        &made[1].id,
        "mfa-enrolment.csv",
        b"system,users,enrolled\nreservations,412,412\nmileage,96,96\n".to_vec(),
        "システム別の多要素認証登録状況",
        &None,
    )
    .await?;
    controls::add_link(
        app,
        &ciso,
        &made[3].id,
        LinkInput { title: "取扱区分見直しの議事録".into(), url: "https://intranet.example/isms/categories-2026".into(), evidence_on: None },
    )
    .await?;
    controls::add_link(
        app,
        &ciso,
        &made[4].id,
        LinkInput { title: "CSIRT 訓練報告（上期）".into(), url: "https://intranet.example/csirt/drill-h1".into(), evidence_on: None },
    )
    .await?;
    let a85 = |r: &str| iso.iter().find(|q| q.reference == r).map(|q| q.id.clone()).unwrap_or_default();
    soa::decide(
        app,
        &ciso,
        "iso27001-2022",
        &Scope::Group,
        &a85("A.5.1"),
        Decision { applicable: true, justification: "基本方針 POL-001 を毎年見直し、公開している".into() },
    )
    .await?;
    soa::decide(
        app,
        &ciso,
        "iso27001-2022",
        &Scope::Group,
        &a85("A.8.30"),
        Decision {
            applicable: false, justification: "ISMS の適用範囲内にソフトウェア開発の外部委託はない（開発はあおぞらシステムズが内製）".into()
        },
    )
    .await?;

    let manager = isms_org::accounts::acting_as(app, "secadmin").await?;
    let aza = owners.first().map(|p| p.company_id.clone()).unwrap_or_default();
    let leak = risks::create(
        app,
        &manager,
        RiskInput {
            title: "予約システムからの顧客情報の漏えい".into(),
            company_id: aza.clone(),
            owner_id: owner(1),
            threat: "窃取された認証情報による不正アクセス".into(),
            vulnerability: "オペレーターがパスワードのみでログインしている（多要素認証の導入前）".into(),
            inherent_likelihood: 4,
            inherent_impact: 5,
            residual_likelihood: 2,
            residual_impact: 4,
            treatment: "mitigate".into(),
            plan: "全オペレーターへの多要素認証の導入と、予約システムの 24 時間監視".into(),
            control_ids: vec![made[0].id.clone(), made[1].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    risks::add_action(
        app,
        &manager,
        &leak.id,
        ActionInput {
            title: "残る委託先アカウントを多要素認証に登録する".into(),
            control_id: Some(made[1].id.clone()),
            owner_id: None,
            due_on: today.saturating_add(jiff::Span::new().days(30)).to_string(),
        },
    )
    .await?;
    risks::create(
        app,
        &manager,
        RiskInput {
            title: "フィッシングによる従業員アカウントの乗っ取り".into(),
            company_id: aza.clone(),
            owner_id: owner(1),
            threat: "標的型フィッシングメール".into(),
            vulnerability: "今期の教育を未受講の従業員がいる".into(),
            inherent_likelihood: 4,
            inherent_impact: 4,
            residual_likelihood: 3,
            residual_impact: 3,
            treatment: "mitigate".into(),
            control_ids: vec![made[2].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    let cloud = risks::create(
        app,
        &manager,
        RiskInput {
            title: "クラウドストレージの設定不備によるマイレージ明細の露出".into(),
            company_id: aza,
            owner_id: owner(1),
            threat: "公開設定のバケットや共有リンク".into(),
            vulnerability: "本番稼働前にクラウド設定を確認していない".into(),
            inherent_likelihood: 3,
            inherent_impact: 4,
            residual_likelihood: 2,
            residual_impact: 3,
            treatment: "accept".into(),
            plan: "委託先評価（CTL-006）が整うまで受容する".into(),
            control_ids: vec![made[5].id.clone()],
            ..Default::default()
        },
    )
    .await?;
    risks::accept(
        app,
        &ciso,
        &cloud.id,
        Acceptance {
            reason: "残留リスクが低く、委託先評価は次の四半期に開始するため".into(),
            expires_on: today.saturating_add(jiff::Span::new().months(6)).to_string(),
        },
    )
    .await?;
    Ok(())
}
