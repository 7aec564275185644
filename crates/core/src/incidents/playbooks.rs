//! Playbooks of the Risk Management Manual: for an incident type and a severity, who is
//! mobilised, which tasks are due how many hours after the start, and whom to tell
//! inside the group. Tasks are written one per line as `hours | role | task`, so the
//! manual's owners can edit them in a text box; errors name the line.

use crate::{FieldError, Role};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TaskTemplate {
    /// Hours after the playbook starts.
    pub hours: i64,
    pub role: Role,
    pub title: String,
}

/// Parses the task lines; blank lines and lines starting with `#` are skipped.
pub fn parse_tasks(text: &str) -> Result<Vec<TaskTemplate>, Vec<FieldError>> {
    let mut out = vec![];
    let mut errors = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        let bad =
            |msg: String| FieldError::coded("tasks", "playbook-line", format!("line {}: {msg}", n + 1)).arg("line", (n + 1).to_string()).arg("text", line);
        if parts.len() != 3 {
            errors.push(bad("write `hours | role | task`".into()));
            continue;
        }
        let hours = match parts[0].parse::<i64>() {
            Ok(h) if (0..=24 * 90).contains(&h) => h,
            _ => {
                errors.push(bad(format!("`{}` is not a number of hours (0 to 2160)", parts[0])));
                continue;
            }
        };
        let role = match parts[1].parse::<Role>() {
            Ok(r) => r,
            Err(_) => {
                errors.push(bad(format!("`{}` is not a role", parts[1])));
                continue;
            }
        };
        if parts[2].is_empty() || parts[2].chars().count() > 300 {
            errors.push(bad("the task needs a title of at most 300 characters".into()));
            continue;
        }
        out.push(TaskTemplate { hours, role, title: parts[2].to_owned() });
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(FieldError::coded("tasks", "required", "is required"));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The tasks as the text box shows them.
pub fn tasks_text(tasks: &[TaskTemplate]) -> String {
    tasks.iter().map(|t| format!("{} | {} | {}", t.hours, t.role.code(), t.title)).collect::<Vec<_>>().join("\n")
}

/// Whether a playbook fits a case: its type (or any) and at least its minimum severity.
pub fn fits(playbook_kind: Option<&str>, min_severity: i16, kind: &str, severity: Option<i16>) -> bool {
    playbook_kind.is_none_or(|k| k == kind) && severity.unwrap_or(1) >= min_severity
}

/// Whom to tell inside the group: the CISO always, the Committee from high severity, the
/// Council when critical.
pub fn escalation(severity: Option<i16>) -> Vec<Role> {
    let s = severity.unwrap_or(1);
    let mut v = vec![Role::Ciso];
    if s >= 3 {
        v.push(Role::CommitteeMember);
    }
    if s >= 4 {
        v.push(Role::CouncilMember);
    }
    v
}

/// The playbooks a new installation starts with (the group edits them in the UI).
pub fn defaults() -> Vec<(&'static str, &'static str, Option<&'static str>, i16, &'static str)> {
    // Installed in Japanese, the group's working language; each stays editable.
    vec![
        (
            "PB-LEAK",
            "個人データの漏えい",
            Some("data_leak"),
            1,
            "2 | csirt_member | 何のデータが、どの経路で、誰に渡ったかを確認する\n4 | csirt_member | さらなる流出を止める（メールの取り消し、ファイルの削除、共有リンクの無効化）\n24 | ciso | 個人情報保護委員会への報告と本人への通知を判断する\n72 | csirt_member | 本人への通知文と公表文の案を作成する\n168 | csirt_member | 根本原因を特定し、再発防止策を提案する",
        ),
        (
            "PB-MALWARE",
            "マルウェア感染",
            Some("malware"),
            1,
            "1 | csirt_member | 感染した端末をネットワークから隔離する\n4 | csirt_member | メモリとディスクの証拠をハッシュ値とともに保全する\n24 | csirt_member | 同じ痕跡（IoC）が他の端末にないか全台を調査する\n72 | csirt_member | 端末を再構築または復元し、駆除を確認する",
        ),
        (
            "PB-LOSS",
            "端末・書類の紛失・盗難",
            Some("loss_theft"),
            1,
            "1 | csirt_member | 端末を遠隔でロックまたは消去し、セッションを無効化する\n2 | csirt_member | ディスク暗号化の有無と保存されていた情報を確認する\n24 | csirt_member | 警察に届け出て、受理番号を記録する",
        ),
        (
            "PB-PHISH",
            "フィッシング・ビジネスメール詐欺",
            Some("phishing"),
            1,
            "2 | csirt_member | メールゲートウェイとプロキシで送信元・ドメイン・URL を遮断する\n4 | csirt_member | 全メールボックスから該当メールを探して削除する\n4 | csirt_member | 認証情報を入力した全員のパスワード等を再設定する\n24 | ciso | 見分け方を添えて全従業員に注意を呼びかける",
        ),
        (
            "PB-ACCESS",
            "システムへの不正アクセス",
            Some("unauthorized_access"),
            1,
            "1 | csirt_member | 攻撃者のアクセス手段（アカウント、鍵、通信経路）を断つ\n4 | csirt_member | 再構築の前にログとイメージを保全する\n24 | csirt_member | 閲覧・窃取されたデータを特定する\n24 | ciso | 個人情報保護委員会への報告を判断する（不正の目的のおそれがあれば確報は 60 日以内）\n168 | csirt_member | 脆弱性を塞ぎ、再診断で確認する",
        ),
        (
            "PB-GENERIC",
            "インシデント全般",
            None,
            1,
            "4 | csirt_member | 初動評価: 影響範囲、重大度、個人データの有無\n24 | csirt_member | 封じ込め、すべての対応を時系列に記録する",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let t = parse_tasks("# first hour\n1 | csirt_member | Isolate the host\n\n24 | ciso | Decide on the report").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1], TaskTemplate { hours: 24, role: Role::Ciso, title: "Decide on the report".into() });
        assert_eq!(parse_tasks(&tasks_text(&t)).unwrap(), t);
        for (_, _, _, _, text) in defaults() {
            assert!(parse_tasks(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_tasks("1 | csirt_member | ok\nsoon | ciso | x\n2 | janitor | y\n3 | ciso\n").unwrap_err();
        assert_eq!(e.len(), 3);
        assert!(e[0].message.starts_with("line 2:") && e[1].message.starts_with("line 3:") && e[2].message.starts_with("line 4:"), "{e:?}");
        assert!(parse_tasks("\n# nothing\n").is_err());
    }

    #[test]
    fn fit_and_escalation() {
        assert!(fits(Some("malware"), 2, "malware", Some(3)));
        assert!(!fits(Some("malware"), 2, "malware", Some(1)));
        assert!(!fits(Some("malware"), 1, "phishing", Some(4)));
        assert!(fits(None, 1, "other", None));
        assert_eq!(escalation(Some(2)), vec![Role::Ciso]);
        assert_eq!(escalation(Some(4)), vec![Role::Ciso, Role::CommitteeMember, Role::CouncilMember]);
    }
}
