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
        SupportInput { internet_exposed: true, owner_id: None, ..hardened(aza.clone(), "system", "Passenger service system", "Tokyo data centre, hall 2") },
    )
    .await?;
    let crm = supports::create(
        app,
        &system,
        SupportInput {
            approved_categories: vec![cat("CUSTOMER-PI"), cat("EMPLOYEE-PI")],
            ..hardened(aza.clone(), "cloud_service", "Customer relationship SaaS", "Tokyo region")
        },
    )
    .await?;
    let analytics = supports::create(
        app,
        &system,
        SupportInput { approved_categories: vec![cat("INTERNAL")], ..hardened(aza.clone(), "cloud_service", "Marketing analytics SaaS", "Overseas region") },
    )
    .await?;
    let drive = supports::create(
        app,
        &system,
        SupportInput { mfa: false, access_logging: false, ..hardened(aza.clone(), "system", "Sales shared drive", "Head office server room") },
    )
    .await?;
    let laptop = supports::create(
        app,
        &system,
        SupportInput { encrypted_at_rest: false, ..hardened(aza.clone(), "terminal", "Laptop AZA-PC-0142", "Sales department") },
    )
    .await?;
    let cabinet = supports::create(app, &system, hardened(aza.clone(), "paper_storage", "Records room B2, cabinet 4", "Head office B2")).await?;
    let web =
        supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZH"), "system", "Group website", "Hosting provider") })
            .await?;
    let tour =
        supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZT"), "system", "Tour booking site", "Osaka data centre") })
            .await?;
    let cargo = supports::create(app, &system, hardened(company("AZC"), "system", "Cargo tracking system", "Narita cargo building")).await?;
    let items: [(&str, &str, &str, Option<String>, &str, Option<i64>, Vec<String>); 10] = [
        ("AZA", "Passenger reservation records", "CUSTOMER-PI", owner(1), "electronic", Some(12_400_000), vec![pss.id.clone(), crm.id.clone()]),
        ("AZA", "Mileage programme members", "CUSTOMER-PI", owner(1), "electronic", Some(3_100_000), vec![crm.id.clone(), analytics.id.clone()]),
        ("AZA", "Lost and found claims", "CUSTOMER-PI", owner(2), "paper", Some(8_200), vec![cabinet.id.clone()]),
        ("AZA", "Employee personnel files", "EMPLOYEE-PI", owner(7), "paper", Some(5_300), vec![cabinet.id.clone()]),
        ("AZA", "Crew rosters", "EMPLOYEE-PI", owner(3), "electronic", Some(2_400), vec![laptop.id.clone()]),
        ("AZA", "Fleet maintenance manuals", "CONFIDENTIAL", owner(4), "electronic", None, vec![drive.id.clone()]),
        ("AZA", "Route planning studies", "CONFIDENTIAL", None, "electronic", None, vec![drive.id.clone()]),
        ("AZH", "Press releases", "PUBLIC", owner(0), "electronic", None, vec![web.id.clone()]),
        ("AZT", "Tour customer bookings", "CUSTOMER-PI", owner(5), "electronic", Some(640_000), vec![tour.id.clone()]),
        ("AZC", "Shipment manifests", "INTERNAL", owner(6), "electronic", Some(90_000), vec![cargo.id.clone()]),
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
