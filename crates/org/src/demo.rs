//! The demo group: a fictional airline group with a holding company, six group
//! companies, their departments, 240 people and one account per role, so a newcomer
//! can try every screen. Each module adds its own records on top (its `demo::load`,
//! registered with the module); loading twice changes nothing.

use crate::accounts::{self, GrantView, NewUser};
use crate::org::{self, CompanyInput, DepartmentInput};
use crate::people;
use isms_core::Role;
use isms_kernel::{App, Principal, Result};

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
    ("IT", "情報システム部"),
    ("SEC", "情報セキュリティ推進部"),
    ("HR", "人事部"),
    ("OPS", "オペレーション本部"),
    ("CS", "カスタマーサービス部"),
    ("FIN", "財務部"),
];

/// Family and given names with the romanised spelling their e-mail addresses use. With
/// 40 family and 30 given names, every person of the demo group has a name of their own.
const FAMILY: [(&str, &str); 40] = [
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("渡辺", "watanabe"),
    ("伊藤", "ito"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("山口", "yamaguchi"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("清水", "shimizu"),
    ("森", "mori"),
    ("池田", "ikeda"),
    ("橋本", "hashimoto"),
    ("阿部", "abe"),
    ("石川", "ishikawa"),
    ("山崎", "yamazaki"),
    ("中島", "nakajima"),
    ("前田", "maeda"),
    ("藤田", "fujita"),
    ("後藤", "goto"),
    ("小川", "ogawa"),
    ("岡田", "okada"),
    ("村上", "murakami"),
    ("長谷川", "hasegawa"),
    ("近藤", "kondo"),
    ("石井", "ishii"),
    ("斎藤", "saito"),
    ("坂本", "sakamoto"),
    ("遠藤", "endo"),
    ("青木", "aoki"),
    ("藤井", "fujii"),
];
const GIVEN: [(&str, &str); 30] = [
    ("陽翔", "haruto"),
    ("結衣", "yui"),
    ("蒼", "sou"),
    ("葵", "aoi"),
    ("蓮", "ren"),
    ("陽菜", "hina"),
    ("悠真", "yuma"),
    ("芽依", "mei"),
    ("湊", "minato"),
    ("さくら", "sakura"),
    ("陸", "riku"),
    ("あかり", "akari"),
    ("大翔", "hiroto"),
    ("美咲", "misaki"),
    ("颯太", "sota"),
    ("凛", "rin"),
    ("健太", "kenta"),
    ("彩花", "ayaka"),
    ("翔太", "shota"),
    ("七海", "nanami"),
    ("誠", "makoto"),
    ("真由美", "mayumi"),
    ("浩二", "koji"),
    ("恵子", "keiko"),
    ("拓也", "takuya"),
    ("由美子", "yumiko"),
    ("隆", "takashi"),
    ("直子", "naoko"),
    ("智也", "tomoya"),
    ("裕子", "yuko"),
];

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

/// What the modules' demo data builds on: the companies by code and id, and the people of
/// the first airline (owners of the records the modules add).
pub struct Group {
    pub companies: Vec<(String, String)>,
    pub people: Vec<people::Person>,
}

/// A module's demo data, loaded once the group exists.
pub type Loader = for<'a> fn(&'a App, &'a Group) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

/// Creates the demo group unless companies exist already; `None` when they do.
pub async fn group(app: &App) -> Result<Option<Group>> {
    let system = Principal::system();
    if !org::list_companies(app, &system).await?.is_empty() {
        return Ok(None);
    }
    let mut companies = vec![];
    for (code, name, name_ja, holding) in COMPANIES {
        let c = org::create_company(app, &system, CompanyInput { code: code.into(), name: name.into(), name_ja: Some(name_ja.into()), is_holding: holding })
            .await?;
        let mut deps = vec![];
        for (dcode, dname) in DEPARTMENTS {
            deps.push(org::create_department(app, &system, DepartmentInput { company_id: c.id.clone(), code: dcode.into(), name: dname.into() }).await?);
        }
        companies.push((c, deps));
    }
    // People as one CSV import: the same path a real group takes.
    let mut csv = String::from("employee_number,name,email,company_code,department_code,manager_employee_number,status,joined_on\n");
    let mut n = 0usize;
    for (c, deps) in companies.iter() {
        let per_company = if c.is_holding { 30 } else { 35 };
        let mut first_in_dep: Vec<Option<String>> = vec![None; deps.len()];
        for i in 0..per_company {
            n += 1;
            // n = 40q + a picks family a and given (11q + a) mod 30: no pair repeats
            // within 40 × 6 = 240 people.
            let (a, q) = (n % FAMILY.len(), n / FAMILY.len());
            let (family, family_r) = FAMILY[a];
            let (given, given_r) = GIVEN[(11 * q + a) % GIVEN.len()];
            let number = format!("E{:05}", n);
            let di = i % deps.len();
            let manager = first_in_dep[di].clone().unwrap_or_default();
            if first_in_dep[di].is_none() {
                first_in_dep[di] = Some(number.clone());
            }
            let status = if n.is_multiple_of(41) { "on_leave" } else { "active" };
            let joined = format!("{}-{:02}-01", 2005 + (n % 20), 1 + n % 12);
            csv.push_str(&format!(
                "{number},{family} {given},{given_r}.{family_r}{}@{}.example,{},{},{manager},{status},{joined}\n",
                n,
                c.code.to_lowercase(),
                c.code,
                deps[di].code,
            ));
        }
    }
    people::import_csv(app, &system, csv.as_bytes(), |_, _| {}).await.map_err(|e| match e {
        people::ImportFailure::App(a) => a,
        people::ImportFailure::Rows(r) => {
            isms_kernel::AppError::internal(format!("demo data: {}", r.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))
        }
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
                display_name: format!("Sample {}", username),
                password: DEMO_PASSWORD.into(),
                person_id: aza_people.items.get(i).map(|p| p.id.clone()),
                grants: vec![GrantView { role, company_id, expires_on: None }],
            },
        )
        .await?;
    }
    Ok(Some(Group { companies: companies.iter().map(|(c, _)| (c.code.clone(), c.id.clone())).collect(), people: aza_people.items }))
}
