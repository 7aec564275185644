//! The demo register: handling categories, information assets and supporting assets.

use isms_kernel::{App, Principal, Result};
use isms_org::demo::Group;

/// Loads this module's part of the demo group.
pub async fn load(app: &App, group: &Group) -> Result<()> {
    load_register(app, &group.companies, &group.people).await
}

/// A small register that already shows what the conformance check finds: customer data in
/// a cloud service not approved for it, a shared drive without MFA, an unencrypted laptop,
/// an asset with no owner.
async fn load_register(app: &App, companies: &[(String, String)], owners: &[isms_org::people::Person]) -> Result<()> {
    use crate::{AssetInput, SupportInput, categories, register, supports};
    let system = Principal::system();
    categories::ensure_defaults(app).await?;
    let cats = categories::list(app, &system).await?;
    let cat = |code: &str| cats.iter().find(|c| c.code == code).map(|c| c.id.clone()).unwrap_or_default();
    let company = |code: &str| companies.iter().find(|c| c.0 == code).map(|c| c.1.clone()).unwrap_or_default();
    let owner = |i: usize| owners.get(i).map(|p| p.employee_number.clone());
    let hardened = |company_id: String, kind: &str, name: &str, location: &str| SupportInput {
        company_id,
        kind: kind.into(),
        name: name.into(),
        location: location.into(),
        mfa: true,
        access_logging: true,
        encrypted_at_rest: true,
        encrypted_in_transit: true,
        endpoint_protection: true,
        zero_trust: true,
        locked: true,
        patched_on: Some(isms_core::calendar::today().to_string()),
        ..Default::default()
    };
    let aza = company("AZA");
    let pss = supports::create(
        app,
        &system,
        SupportInput {
            internet_exposed: true, owner_id: None, ..hardened(aza.clone(), "system", "旅客サービスシステム", "東京データセンター 第 2 ホール")
        },
    )
    .await?;
    let crm = supports::create(
        app,
        &system,
        SupportInput {
            approved_categories: vec![cat("CUSTOMER-PI"), cat("EMPLOYEE-PI")],
            ..hardened(aza.clone(), "cloud_service", "顧客管理 SaaS", "東京リージョン")
        },
    )
    .await?;
    let analytics = supports::create(
        app,
        &system,
        SupportInput {
            approved_categories: vec![cat("INTERNAL")], ..hardened(aza.clone(), "cloud_service", "マーケティング分析 SaaS", "海外リージョン")
        },
    )
    .await?;
    let drive = supports::create(
        app,
        &system,
        SupportInput { mfa: false, access_logging: false, ..hardened(aza.clone(), "system", "営業部共有ドライブ", "本社サーバー室") },
    )
    .await?;
    let laptop =
        supports::create(app, &system, SupportInput { encrypted_at_rest: false, ..hardened(aza.clone(), "terminal", "ノート PC AZA-PC-0142", "営業部") })
            .await?;
    let cabinet = supports::create(app, &system, hardened(aza.clone(), "paper_storage", "記録保管室 B2、キャビネット 4", "本社 地下 2 階")).await?;
    let web = supports::create(
        app,
        &system,
        SupportInput { internet_exposed: true, ..hardened(company("AZH"), "system", "グループ公式ウェブサイト", "ホスティング事業者") },
    )
    .await?;
    let tour =
        supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZT"), "system", "ツアー予約サイト", "大阪データセンター") })
            .await?;
    let cargo = supports::create(app, &system, hardened(company("AZC"), "system", "貨物追跡システム", "成田貨物ビル")).await?;
    let items: [(&str, &str, &str, Option<String>, &str, Option<i64>, Vec<String>); 10] = [
        ("AZA", "旅客予約記録", "CUSTOMER-PI", owner(1), "electronic", Some(12_400_000), vec![pss.id.clone(), crm.id.clone()]),
        ("AZA", "マイレージ会員情報", "CUSTOMER-PI", owner(1), "electronic", Some(3_100_000), vec![crm.id.clone(), analytics.id.clone()]),
        ("AZA", "遺失物の届出", "CUSTOMER-PI", owner(2), "paper", Some(8_200), vec![cabinet.id.clone()]),
        ("AZA", "従業員の人事記録", "EMPLOYEE-PI", owner(7), "paper", Some(5_300), vec![cabinet.id.clone()]),
        ("AZA", "乗務員の勤務表", "EMPLOYEE-PI", owner(3), "electronic", Some(2_400), vec![laptop.id.clone()]),
        ("AZA", "機材整備マニュアル", "CONFIDENTIAL", owner(4), "electronic", None, vec![drive.id.clone()]),
        ("AZA", "路線計画の検討資料", "CONFIDENTIAL", None, "electronic", None, vec![drive.id.clone()]),
        ("AZH", "プレスリリース", "PUBLIC", owner(0), "electronic", None, vec![web.id.clone()]),
        ("AZT", "ツアー顧客の予約", "CUSTOMER-PI", owner(5), "electronic", Some(640_000), vec![tour.id.clone()]),
        ("AZC", "貨物の積荷目録", "INTERNAL", owner(6), "electronic", Some(90_000), vec![cargo.id.clone()]),
    ];
    for (co, name, category, owner_id, medium, volume, held) in items {
        register::create(
            app,
            &system,
            AssetInput {
                company_id: company(co),
                category_id: cat(category),
                name: name.into(),
                owner_id,
                medium: medium.into(),
                volume,
                supports: held,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
