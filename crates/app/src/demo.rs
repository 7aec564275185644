//! The demo group: a fictional airline group with a holding company, six group
//! companies, their departments, 240 people and one account per role, so a newcomer
//! can try every screen. Loading it twice changes nothing.

use crate::accounts::{self, GrantView, NewUser};
use crate::org::{self, CompanyInput, DepartmentInput};
use crate::people;
use crate::{App, Principal, Result};
use isms_core::Role;

/// The password of every demo account. Printed at start; never use demo data in production.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

const COMPANIES: [(&str, &str, &str, bool); 7] = [
    ("AZH", "Aozora Group Holdings", "あおぞらグループホールディングス", true),
    ("AZA", "Aozora Airlines", "あおぞら航空", false),
    ("AZX", "Aozora Express", "あおぞらエクスプレス", false),
    ("AZC", "Aozora Cargo", "あおぞらカーゴ", false),
    ("AZG", "Aozora Ground Services", "あおぞらグランドサービス", false),
    ("AZS", "Aozora Systems", "あおぞらシステムズ", false),
    ("AZT", "Aozora Travel", "あおぞらトラベル", false),
];

const DEPARTMENTS: [(&str, &str); 6] = [
    ("IT", "Information Technology"),
    ("SEC", "Information Security"),
    ("HR", "Human Resources"),
    ("OPS", "Operations"),
    ("CS", "Customer Service"),
    ("FIN", "Finance"),
];

const FAMILY: [&str; 20] = [
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato",
    "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Mori",
];
const GIVEN: [&str; 12] = ["Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mei", "Kaito", "Sakura", "Riku", "Akari"];

/// One account per role. The company administrator and HR act for Aozora Airlines only.
pub const ACCOUNTS: [(&str, Role, bool); 10] = [
    ("admin", Role::SystemAdministrator, false),
    ("ciso", Role::Ciso, false),
    ("council", Role::CouncilMember, false),
    ("committee", Role::CommitteeMember, false),
    ("secadmin", Role::CompanySecurityAdmin, true),
    ("csirt", Role::CsirtMember, false),
    ("auditor", Role::Auditor, false),
    ("hr", Role::Hr, true),
    ("desk", Role::ContactDeskAgent, false),
    ("employee", Role::Employee, true),
];

/// Loads the demo group unless companies exist already. Returns whether it loaded.
pub async fn load(app: &App) -> Result<bool> {
    let system = Principal::system();
    if !org::list_companies(app, &system).await?.is_empty() {
        return Ok(false);
    }
    let mut companies = vec![];
    for (code, name, name_ja, holding) in COMPANIES {
        let c = org::create_company(app, &system, CompanyInput { code: code.into(), name: name.into(), name_ja: Some(name_ja.into()), is_holding: holding }).await?;
        let mut deps = vec![];
        for (dcode, dname) in DEPARTMENTS {
            deps.push(org::create_department(app, &system, DepartmentInput { company_id: c.id.clone(), code: dcode.into(), name: dname.into() }).await?);
        }
        companies.push((c, deps));
    }
    // People as one CSV import: the same path a real group takes.
    let mut csv = String::from("employee_number,name,email,company_code,department_code,manager_employee_number,status,joined_on\n");
    let mut n = 0usize;
    for (ci, (c, deps)) in companies.iter().enumerate() {
        let per_company = if c.is_holding { 30 } else { 35 };
        let mut first_in_dep: Vec<Option<String>> = vec![None; deps.len()];
        for i in 0..per_company {
            n += 1;
            let family = FAMILY[(n * 7 + ci) % FAMILY.len()];
            let given = GIVEN[(n * 5 + i) % GIVEN.len()];
            let number = format!("E{:05}", n);
            let di = i % deps.len();
            let manager = first_in_dep[di].clone().unwrap_or_default();
            if first_in_dep[di].is_none() {
                first_in_dep[di] = Some(number.clone());
            }
            let status = if n % 41 == 0 { "on_leave" } else { "active" };
            let joined = format!("{}-{:02}-01", 2005 + (n % 20), 1 + n % 12);
            csv.push_str(&format!(
                "{number},{given} {family},{}.{}{}@{}.example,{},{},{manager},{status},{joined}\n",
                given.to_lowercase(),
                family.to_lowercase(),
                n,
                c.code.to_lowercase(),
                c.code,
                deps[di].code,
            ));
        }
    }
    people::import_csv(app, &system, csv.as_bytes(), |_, _| {}).await.map_err(|e| match e {
        people::ImportFailure::App(a) => a,
        people::ImportFailure::Rows(r) => crate::AppError::Internal(format!("demo data: {}", r.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))),
    })?;
    let aza = companies.iter().find(|(c, _)| c.code == "AZA").map(|(c, _)| c.id.clone());
    let aza_people = people::list(app, &system, &isms_store::org::PeopleQuery { company_id: aza.clone(), limit: 20, ..Default::default() }).await?;
    for (i, (username, role, in_aza)) in ACCOUNTS.into_iter().enumerate() {
        let company_id = if in_aza { aza.clone() } else { None };
        accounts::create_user(
            app,
            &system,
            NewUser {
                username: username.into(),
                display_name: format!("Demo {}", username),
                password: DEMO_PASSWORD.into(),
                person_id: aza_people.items.get(i).map(|p| p.id.clone()),
                grants: vec![GrantView { role, company_id, expires_on: None }],
            },
        )
        .await?;
    }
    load_register(app, &companies.iter().map(|(c, _)| (c.code.clone(), c.id.clone())).collect::<Vec<_>>(), &aza_people.items).await?;
    Ok(true)
}

/// A small register that already shows what the conformance check finds: customer data in
/// a cloud service not approved for it, a shared drive without MFA, an unencrypted laptop,
/// an asset with no owner.
async fn load_register(app: &App, companies: &[(String, String)], owners: &[people::Person]) -> Result<()> {
    use crate::assets::{categories, register, supports, AssetInput, SupportInput};
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
        patched_on: Some(crate::assets::today().to_string()),
        ..Default::default()
    };
    let aza = company("AZA");
    let pss = supports::create(app, &system, SupportInput { internet_exposed: true, owner_id: None, ..hardened(aza.clone(), "system", "Passenger service system", "Tokyo data centre, hall 2") }).await?;
    let crm = supports::create(app, &system, SupportInput { approved_categories: vec![cat("CUSTOMER-PI"), cat("EMPLOYEE-PI")], ..hardened(aza.clone(), "cloud_service", "Customer relationship SaaS", "Tokyo region") }).await?;
    let analytics = supports::create(app, &system, SupportInput { approved_categories: vec![cat("INTERNAL")], ..hardened(aza.clone(), "cloud_service", "Marketing analytics SaaS", "Overseas region") }).await?;
    let drive = supports::create(app, &system, SupportInput { mfa: false, access_logging: false, ..hardened(aza.clone(), "system", "Sales shared drive", "Head office server room") }).await?;
    let laptop = supports::create(app, &system, SupportInput { encrypted_at_rest: false, ..hardened(aza.clone(), "terminal", "Laptop AZA-PC-0142", "Sales department") }).await?;
    let cabinet = supports::create(app, &system, hardened(aza.clone(), "paper_storage", "Records room B2, cabinet 4", "Head office B2")).await?;
    let web = supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZH"), "system", "Group website", "Hosting provider") }).await?;
    let tour = supports::create(app, &system, SupportInput { internet_exposed: true, ..hardened(company("AZT"), "system", "Tour booking site", "Osaka data centre") }).await?;
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
            AssetInput { company_id: company(co), category_id: cat(category), name: name.into(), owner_id, medium: medium.into(), volume, supports: held, ..Default::default() },
        )
        .await?;
    }
    Ok(())
}
