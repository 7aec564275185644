//! Releasing information about a breach: first drafts of the public announcement, the
//! notice to customers and the report to the Personal Information Protection Commission,
//! written from the case's facts in Japanese or English for people to edit. The report
//! follows the items the Commission asks for: overview, data items, number of people,
//! cause, risk of secondary harm, response to the individuals, public announcement and
//! recurrence prevention.

code_enum!(
    /// What is being released.
    ReleaseKind, "kind" {
        Announcement => "announcement",
        CustomerNotice => "customer_notice",
        RegulatorReport => "regulator_report",
    }
);

/// The facts a draft is written from (already formatted for the reader).
#[derive(Debug, Clone, Default)]
pub struct DraftFacts {
    pub reference: String,
    pub title: String,
    /// When it became known, as a date in the reader's language.
    pub known_on: String,
    pub data_items: String,
    pub people_affected: Option<i64>,
    pub cause: String,
    pub secondary_harm: bool,
    pub measures: String,
    pub contact: String,
}

fn or<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s.trim() }
}

/// A first draft in Markdown. Placeholders in square brackets mark what a person must fill in.
pub fn draft(kind: ReleaseKind, lang: crate::policies::DocLang, f: &DraftFacts) -> String {
    use crate::policies::DocLang::*;
    use ReleaseKind::*;
    let people_ja = f.people_affected.map(|n| format!("{n} 名")).unwrap_or_else(|| "[調査中]".into());
    let people_en = f.people_affected.map(|n| n.to_string()).unwrap_or_else(|| "[under investigation]".into());
    match (kind, lang) {
        (Announcement, Ja) => format!(
            "# {title}についてのお知らせとお詫び\n\n{known}、当社グループにおいて、お客さまの個人情報が漏えいした可能性があることが判明しました。お客さまには多大なご迷惑とご心配をおかけしますことを、深くお詫び申し上げます。\n\n## 概要\n\n{title}\n\n## 対象となる情報\n\n{items}(対象人数: {people})\n\n## 原因\n\n{cause}\n\n## 対応と再発防止\n\n{measures}\n\n## お問い合わせ\n\n{contact}\n",
            title = f.title,
            known = or(&f.known_on, "[日付]"),
            items = or(&f.data_items, "[対象項目]"),
            people = people_ja,
            cause = or(&f.cause, "[調査中]"),
            measures = or(&f.measures, "[対応内容]"),
            contact = or(&f.contact, "[窓口]"),
        ),
        (Announcement, En) => format!(
            "# Notice and apology: {title}\n\nOn {known} we found that personal information of our customers may have been disclosed. We sincerely apologise for the concern and inconvenience this causes.\n\n## What happened\n\n{title}\n\n## Information involved\n\n{items} (people affected: {people})\n\n## Cause\n\n{cause}\n\n## What we are doing\n\n{measures}\n\n## Contact\n\n{contact}\n",
            title = f.title,
            known = or(&f.known_on, "[date]"),
            items = or(&f.data_items, "[data items]"),
            people = people_en,
            cause = or(&f.cause, "[under investigation]"),
            measures = or(&f.measures, "[measures]"),
            contact = or(&f.contact, "[contact point]"),
        ),
        (CustomerNotice, Ja) => format!(
            "# お客さまの個人情報に関するお詫びとご連絡\n\nお客さま各位\n\n{known}、お客さまの個人情報({items})が第三者に漏えいした可能性があることが判明しました。\n\n{harm}\n\n当社では次の対応を行っています。\n\n{measures}\n\nご不明な点は次の窓口までお問い合わせください。\n\n{contact}\n",
            known = or(&f.known_on, "[日付]"),
            items = or(&f.data_items, "[対象項目]"),
            harm = if f.secondary_harm {
                "不審な連絡やメールにご注意ください。当社からパスワードやカード番号をお尋ねすることはありません。"
            } else {
                "現時点で、この情報が不正に利用された事実は確認されていません。"
            },
            measures = or(&f.measures, "[対応内容]"),
            contact = or(&f.contact, "[窓口]"),
        ),
        (CustomerNotice, En) => format!(
            "# About your personal information\n\nDear customer,\n\nOn {known} we found that your personal information ({items}) may have been disclosed to a third party.\n\n{harm}\n\nWhat we are doing:\n\n{measures}\n\nIf you have questions, please contact us:\n\n{contact}\n",
            known = or(&f.known_on, "[date]"),
            items = or(&f.data_items, "[data items]"),
            harm = if f.secondary_harm {
                "Please be careful with unexpected calls and e-mails: we will never ask for your password or card number."
            } else {
                "We have found no sign that this information has been misused."
            },
            measures = or(&f.measures, "[measures]"),
            contact = or(&f.contact, "[contact point]"),
        ),
        (RegulatorReport, Ja) => format!(
            "# 個人データの漏えい等の報告({reference})\n\n## 1. 概要\n\n{title}({known} 発覚)\n\n## 2. 漏えい等が発生した個人データの項目\n\n{items}\n\n## 3. 本人の数\n\n{people}\n\n## 4. 原因\n\n{cause}\n\n## 5. 二次被害またはそのおそれの有無と内容\n\n{harm}\n\n## 6. 本人への対応の実施状況\n\n[本人への通知の状況]\n\n## 7. 公表の実施状況\n\n[公表の有無と日付]\n\n## 8. 再発防止のための措置\n\n{measures}\n",
            reference = f.reference,
            title = f.title,
            known = or(&f.known_on, "[日付]"),
            items = or(&f.data_items, "[対象項目]"),
            people = people_ja,
            cause = or(&f.cause, "[調査中]"),
            harm = if f.secondary_harm { "あり: [内容]" } else { "現時点で確認されていない" },
            measures = or(&f.measures, "[措置]"),
        ),
        (RegulatorReport, En) => format!(
            "# Report of a personal data breach ({reference})\n\n## 1. Overview\n\n{title} (known on {known})\n\n## 2. Personal data items involved\n\n{items}\n\n## 3. Number of people\n\n{people}\n\n## 4. Cause\n\n{cause}\n\n## 5. Secondary harm or its risk\n\n{harm}\n\n## 6. Response to the individuals\n\n[notices sent]\n\n## 7. Public announcement\n\n[published or not, and when]\n\n## 8. Recurrence prevention\n\n{measures}\n",
            reference = f.reference,
            title = f.title,
            known = or(&f.known_on, "[date]"),
            items = or(&f.data_items, "[data items]"),
            people = people_en,
            cause = or(&f.cause, "[under investigation]"),
            harm = if f.secondary_harm { "Yes: [details]" } else { "None found so far" },
            measures = or(&f.measures, "[measures]"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::DocLang;

    #[test]
    fn the_report_has_every_item_the_commission_asks_for() {
        let f = DraftFacts {
            reference: "INC-2026-0001".into(),
            title: "Customer list mailed to the wrong address".into(),
            people_affected: Some(1500),
            ..Default::default()
        };
        let ja = draft(ReleaseKind::RegulatorReport, DocLang::Ja, &f);
        for h in ["概要", "項目", "本人の数", "原因", "二次被害", "本人への対応", "公表", "再発防止"] {
            assert!(ja.contains(h), "{h}");
        }
        assert!(ja.contains("1500 名"));
        let en = draft(ReleaseKind::RegulatorReport, DocLang::En, &f);
        assert_eq!(en.matches("\n## ").count(), 8);
        assert!(en.contains("[under investigation]"), "unknowns are marked for a person to fill in");
    }

    #[test]
    fn drafts_in_both_languages() {
        let f = DraftFacts { title: "x".into(), secondary_harm: true, contact: "privacy@example.com".into(), ..Default::default() };
        for k in ReleaseKind::ALL {
            for l in DocLang::ALL {
                let d = draft(*k, *l, &f);
                assert!(d.starts_with("# "), "{k} {l}");
            }
        }
        assert!(draft(ReleaseKind::CustomerNotice, DocLang::En, &f).contains("never ask for your password"));
        assert!(draft(ReleaseKind::Announcement, DocLang::Ja, &f).contains("privacy@example.com"));
    }
}
