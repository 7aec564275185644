//! The demo documents: the basic policy in both languages, the handbook in two versions, and a manual.

use isms_kernel::{App, Result};
use isms_org::demo::Group;

/// Loads this module's part of the demo group.
pub async fn load(app: &App, group: &Group) -> Result<()> {
    load_documents(app, &group.people).await
}

const BASIC_POLICY_JA: &str = "# 情報セキュリティ基本方針\n\nアオゾラ航空グループは、お客さまからお預かりした情報と、事業を支える情報を守ることを経営の最重要課題の一つと位置づけます。\n\n## 1. 体制\n\n- グループリスク管理会議のもとに情報セキュリティ・個人情報保護委員会を置き、CISO が施策を統括します。\n- 各社に情報セキュリティ管理者を置きます。\n\n## 2. 情報の取扱い\n\n- すべての情報を取扱区分に分類し、**お客さまの情報はほかの情報と厳格に区別して**管理します。\n- 取扱区分ごとに、保管場所、持ち出し、暗号化、廃棄の方法を定めます。\n\n## 3. 監視と対応\n\n- 不正アクセスやウイルス感染などの脅威を、外部機関と連携して 24 時間 365 日監視します。\n- 事故が起きたときは CSIRT が被害を最小限に抑え、必要な情報を速やかに公表し、再発防止に努めます。\n\n## 4. 教育と点検\n\n- 全従業員に年 2 回以上の教育と標的型メール訓練を行います。\n- グループ各社の点検と外部監査を定期的に行います。\n\n## 5. 見直し\n\nこの方針は定期的に見直し、当社ウェブサイトで公開します。\n";

const BASIC_POLICY_EN: &str = "# Basic Information Security Policy\n\nThe Aozora Air group treats protecting the information customers entrust to it, and the information its business runs on, as one of its highest management priorities.\n\n## 1. Organisation\n\n- An Information Security and Personal Information Protection Committee works under the Group Risk Management Council; the CISO leads the measures.\n- Every company names an information security administrator.\n\n## 2. Handling information\n\n- All information is classified into handling categories, and **customer information is kept strictly apart from other information**.\n- Each category sets where information may be kept, whether it may leave, how it is encrypted and how it is destroyed.\n\n## 3. Monitoring and response\n\n- Threats such as unauthorised access and malware are monitored around the clock, together with outside agencies.\n- In an incident the CSIRT limits the damage, releases the necessary information quickly and works to prevent recurrence.\n\n## 4. Training and inspection\n\n- Every employee is trained at least twice a year and takes part in phishing drills.\n- Group companies are inspected and audited by outside auditors regularly.\n\n## 5. Review\n\nThis policy is reviewed at regular intervals and published on our website.\n";

const HANDBOOK_V1: &str = "# 個人情報保護ハンドブック\n\n## お客さまの情報を扱うとき\n\n1. 業務に必要な範囲でだけ参照します。\n2. 社外へのメール送信、USB メモリへの保存はしません。\n3. 紙の資料は施錠できる場所に保管し、不要になったらシュレッダーで廃棄します。\n\n## 事故に気づいたら\n\n誤送信、紛失、不審なメールに気づいたら、すぐに CSIRT に報告してください。\n";

const HANDBOOK_V2: &str = "# 個人情報保護ハンドブック\n\n## お客さまの情報を扱うとき\n\n1. 業務に必要な範囲でだけ参照します。\n2. 社外へのメール送信、USB メモリへの保存はしません。持ち出しが必要なときは事前に申請します。\n3. 紙の資料は施錠できる場所に保管し、不要になったらシュレッダーで廃棄します。\n\n## 在宅勤務のとき\n\n会社の端末だけを使い、画面をほかの人に見られないようにします。\n\n## 事故に気づいたら\n\n誤送信、紛失、不審なメールに気づいたら、すぐに CSIRT に報告してください。\n";

/// A few documents through their real lifecycle: the basic policy in both languages,
/// disclosed and to be read by everyone; the Handbook with a second version awaiting the
/// Committee; the Risk Management Manual for the CSIRT.
async fn load_documents(app: &App, owners: &[isms_org::people::Person]) -> Result<()> {
    use crate::{DocumentInput, documents, versions};
    let ciso = isms_org::accounts::acting_as(app, "ciso").await?;
    let council = isms_org::accounts::acting_as(app, "council").await?;
    let committee = isms_org::accounts::acting_as(app, "committee").await?;
    let owner = owners.first().map(|p| p.employee_number.clone()).unwrap_or_default();
    let doc = |code: &str, kind: &str, title: &str, language: &str, public: bool, ack: bool, body: &str| DocumentInput {
        code: code.into(),
        kind: kind.into(),
        title: title.into(),
        owner_id: owner.clone(),
        language: language.into(),
        public,
        must_acknowledge: ack,
        body: body.into(),
        ..Default::default()
    };
    let approve = versions::DecisionInput { approve: true, note: String::new() };
    let ja = documents::create(app, &ciso, doc("POL-001", "policy", "情報セキュリティ基本方針", "ja", true, true, BASIC_POLICY_JA)).await?;
    let mut en_input = doc("POL-001-EN", "policy", "Basic Information Security Policy", "en", true, false, BASIC_POLICY_EN);
    en_input.translation_id = Some(ja.id.clone());
    let en = documents::create(app, &ciso, en_input).await?;
    for d in [&ja, &en] {
        versions::submit(app, &ciso, &d.id, 1).await?;
        versions::decide(app, &council, &d.id, 1, approve.clone()).await?;
        versions::publish(app, &ciso, &d.id, 1).await?;
    }
    let hb = documents::create(app, &ciso, doc("HBK-001", "handbook", "個人情報保護ハンドブック", "ja", false, true, HANDBOOK_V1)).await?;
    versions::submit(app, &ciso, &hb.id, 1).await?;
    versions::decide(app, &committee, &hb.id, 1, approve.clone()).await?;
    versions::publish(app, &ciso, &hb.id, 1).await?;
    versions::new_version(app, &ciso, &hb.id).await?;
    versions::edit(
        app,
        &ciso,
        &hb.id,
        2,
        versions::VersionInput {
            title: "個人情報保護ハンドブック".into(), body: HANDBOOK_V2.into(), summary: "持ち出し申請と在宅勤務の項を追加".into()
        },
    )
    .await?;
    versions::submit(app, &ciso, &hb.id, 2).await?;
    // A company's own procedure, written by its security administrator; the CISO approves.
    let secadmin = isms_org::accounts::acting_as(app, "secadmin").await?;
    let mut rm_input = doc(
        "PRC-001",
        "procedure",
        "Risk Management Manual: information security incidents",
        "en",
        false,
        false,
        "# Risk Management Manual\n\n## Roles\n\n- CSIRT lead: runs the response and decides containment.\n- CISO: informs the Committee; the Council for high severity.\n\n## First hour\n\n1. Confirm and record what is known.\n2. Contain: isolate affected systems, revoke credentials.\n3. Decide whether personal information is involved; start the regulatory clocks.\n",
    );
    rm_input.company_id = owners.first().map(|p| p.company_id.clone());
    let rm = documents::create(app, &secadmin, rm_input).await?;
    versions::submit(app, &secadmin, &rm.id, 1).await?;
    Ok(())
}
