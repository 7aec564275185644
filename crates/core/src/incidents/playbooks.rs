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
    vec![
        (
            "PB-LEAK",
            "Personal data leak",
            Some("data_leak"),
            1,
            "2 | csirt_member | Confirm what data left, how, and for whom\n4 | csirt_member | Stop further disclosure (recall mail, remove files, revoke links)\n24 | ciso | Decide on the APPI report and the notice to individuals\n72 | csirt_member | Draft the notice to the individuals and the public announcement\n168 | csirt_member | Find the root cause and propose corrective actions",
        ),
        (
            "PB-MALWARE",
            "Malware infection",
            Some("malware"),
            1,
            "1 | csirt_member | Isolate the infected device from the network\n4 | csirt_member | Collect memory and disk evidence with checksums\n24 | csirt_member | Sweep the fleet for the same indicators\n72 | csirt_member | Rebuild or restore the device and confirm it is clean",
        ),
        (
            "PB-LOSS",
            "Lost or stolen device or documents",
            Some("loss_theft"),
            1,
            "1 | csirt_member | Lock or wipe the device remotely; revoke its sessions\n2 | csirt_member | Check disk encryption and what information it held\n24 | csirt_member | Report to the police and keep the receipt number",
        ),
        (
            "PB-PHISH",
            "Phishing and business e-mail compromise",
            Some("phishing"),
            1,
            "2 | csirt_member | Block the sender, domains and URLs at the mail gateway and proxy\n4 | csirt_member | Find and remove the message from every mailbox\n4 | csirt_member | Reset the credentials of everyone who entered them\n24 | ciso | Warn all staff with what to look for",
        ),
        (
            "PB-ACCESS",
            "Unauthorized access to a system",
            Some("unauthorized_access"),
            1,
            "1 | csirt_member | Cut the attacker's access (accounts, keys, network paths)\n4 | csirt_member | Preserve logs and images before anything is rebuilt\n24 | csirt_member | Establish what data was read or taken\n24 | ciso | Decide on the APPI report (a possibly unlawful purpose means 60 days for the final report)\n168 | csirt_member | Close the hole and verify with a re-test",
        ),
        (
            "PB-GENERIC",
            "Any incident",
            None,
            1,
            "4 | csirt_member | Triage: scope, severity, personal data yes or no\n24 | csirt_member | Contain and record every step in the timeline",
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
