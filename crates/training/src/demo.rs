//! The demo group's training: this half's awareness course with its quiz, the remedial
//! course a drill's clickers take, and this half's campaign for everyone, in which a few
//! people have completed already.

use crate::{campaigns, courses, taking};
use isms_core::training::parse_quiz_text;
use isms_kernel::{App, Principal, Result};
use isms_org::demo::Group;

const AWARENESS_JA: &str = "# 情報セキュリティ教育（年度下期）\n\n## 1. お客さまの情報を守る\n\nお客さまの個人情報は、ほかの情報と厳格に区別して取り扱います。業務に必要な範囲でだけ参照し、社外へのメール送信や USB メモリへの保存はしません。\n\n## 2. 不審なメールに気づいたら\n\n- 添付ファイルを開かず、リンクを押さず、メールソフトの「報告」ボタンで報告します。\n- 取引先を名乗る振込先変更の依頼は、メールに返信せず、登録済みの電話番号で確認します（ビジネスメール詐欺）。\n\n## 3. 事故に気づいたら\n\n誤送信、紛失、不審なログインに気づいたら、ただちに CSIRT に報告します。早い報告が被害を小さくします。\n";

const AWARENESS_EN: &str = "# Information security training (second half of the fiscal year)\n\n## 1. Protecting customer information\n\nCustomers' personal information is kept strictly apart from other information. Look at it only as far as your work needs; never e-mail it outside the company or save it to a USB stick.\n\n## 2. When an e-mail looks suspicious\n\n- Do not open attachments or follow links; report it with the Report button of your mail program.\n- A request from a supplier to change their bank account is confirmed by calling the number on file, never by replying (business e-mail compromise).\n\n## 3. When something has gone wrong\n\nReport a misdirected e-mail, a lost device or an unusual sign-in to the CSIRT at once. An early report keeps the damage small.\n";

const AWARENESS_QUIZ: &str = "? 不審なメールを受け取ったときの正しい対応は / What do you do with a suspicious e-mail\n* メールソフトの報告ボタンで報告する / Report it with the Report button\n- 添付ファイルを開いて中身を確かめる / Open the attachment to see what it is\n- 同僚に転送して意見を聞く / Forward it to a colleague for an opinion\n\n? 取引先から振込先変更の依頼がメールで届いたら / A supplier e-mails you a new bank account\n- メールに返信して確認する / Reply to the e-mail to check\n* 登録済みの電話番号に電話して確認する / Call the number on file to confirm\n- すぐに変更する / Change it at once\n\n? お客さまの個人情報の取扱いとして正しいものをすべて選ぶ / Choose every right way to handle customer information\n* 業務に必要な範囲でだけ参照する / Look at it only as far as the work needs\n* ほかの情報と区別して保管する / Keep it apart from other information\n- 自宅で作業するため私用メールに送る / Send it to a personal address to work at home\n\n? メールを誤送信したことに気づいたら / You notice an e-mail went to the wrong person\n- 相手から連絡があるまで待つ / Wait until the recipient says something\n* ただちに CSIRT に報告する / Report it to the CSIRT at once\n";

const REMEDIAL_JA: &str = "# 標的型メール訓練のふりかえり\n\n訓練メールのリンクを開いたり、添付ファイルを開いたりした方向けの短い教材です。\n\n- 差出人の表示名とアドレスが合っているか確かめます。\n- 急がせる文面、ログインを求める文面は疑います。\n- 迷ったら開かずに報告します。報告は何度でも歓迎です。\n";

const REMEDIAL_EN: &str = "# Looking back on the phishing drill\n\nA short course for those who followed a link or opened an attachment in a drill e-mail.\n\n- Check that the sender's display name matches their address.\n- Be wary of mail that hurries you or asks you to sign in.\n- When in doubt, do not open it: report it. Every report is welcome.\n";

pub async fn load(app: &App, group: &Group) -> Result<()> {
    let system = Principal::system();
    let quiz = parse_quiz_text(AWARENESS_QUIZ).map_err(isms_kernel::AppError::Invalid)?;
    let awareness = courses::create(
        app,
        &system,
        courses::CourseInput {
            code: "SEC-AWARE".into(),
            kind: "awareness".into(),
            duration_minutes: Some(30),
            pass_mark: Some(75),
            max_attempts: Some(3),
            title_ja: "情報セキュリティ教育（年度下期）".into(),
            body_ja: AWARENESS_JA.into(),
            title_en: "Information security training (second half)".into(),
            body_en: AWARENESS_EN.into(),
            quiz,
            ..Default::default()
        },
    )
    .await?;
    courses::create(
        app,
        &system,
        courses::CourseInput {
            code: "PHISH-REVIEW".into(),
            kind: "remedial".into(),
            duration_minutes: Some(10),
            title_ja: "標的型メール訓練のふりかえり".into(),
            body_ja: REMEDIAL_JA.into(),
            title_en: "Looking back on the phishing drill".into(),
            body_en: REMEDIAL_EN.into(),
            ..Default::default()
        },
    )
    .await?;
    let today = isms_core::calendar::today();
    let (year, half) = isms_core::incidents::drills::half_of(today);
    let start: jiff::civil::Date = if half == 1 { jiff::civil::date(year, 4, 1) } else { jiff::civil::date(year, 10, 1) };
    let due = today.checked_add(jiff::Span::new().days(30)).unwrap_or(today);
    let (campaign, _) = campaigns::create(
        app,
        &system,
        campaigns::CampaignInput {
            title: format!("{year}年度{} 情報セキュリティ教育", if half == 1 { "上期" } else { "下期" }),
            course_id: awareness.id.clone(),
            starts_on: Some(start.min(today).to_string()),
            due_on: due.to_string(),
            ..Default::default()
        },
    )
    .await?;
    // A few of the group have taken it already: every fifth person, by the book.
    let db = app.store.conn();
    let c = isms_store::training::course::Entity::find_by_id(awareness.id.clone()).one(db).await?;
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if let Some(c) = c {
        let assignments = isms_store::training::assignment::Entity::find()
            .filter(isms_store::training::assignment::Column::CampaignId.eq(campaign.id.clone()))
            .all(db)
            .await?;
        let txn = app.store.write().await?;
        for (i, p) in group.people.iter().enumerate().filter(|(i, _)| i % 5 == 1) {
            let Some(a) = assignments.iter().find(|a| a.person_id == p.id) else { continue };
            let Some(m) = isms_store::org::person::Entity::find_by_id(p.id.clone()).one(&txn).await? else { continue };
            let at = isms_store::now_ms() - (i as i64 % 20 + 1) * 86_400_000;
            taking::complete(&txn, &m, &c, isms_core::training::CompletionSource::Course, &a.id, Some(100), at).await?;
        }
        txn.commit().await?;
    }
    Ok(())
}
