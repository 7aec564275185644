//! Threat monitoring's pure rules: kinds of event sources, alert severities and the alert
//! lifecycle, the field mapping a source applies to its events, how identical alerts are
//! grouped, and when a silent source becomes an alert of its own.

use crate::FieldError;

code_enum!(
    /// What sends the events; decides the defaults a new source starts with.
    SourceKind, "kind" {
        Windows => "windows",
        Syslog => "syslog",
        Firewall => "firewall",
        Edr => "edr",
        Cloud => "cloud",
        Json => "json",
    }
);

code_enum!(
    /// How urgent an alert is. Ordered: `Critical` is the greatest.
    Severity, "severity" {
        Informational => "informational",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl Severity {
    /// From a Sigma rule's `level`; a rule without one counts as medium.
    pub fn from_level(level: Option<&str>) -> Severity {
        match level.map(str::trim) {
            Some("informational") => Severity::Informational,
            Some("low") => Severity::Low,
            Some("high") => Severity::High,
            Some("critical") => Severity::Critical,
            _ => Severity::Medium,
        }
    }

    /// From an indicator's confidence (0–100, as in STIX): the surer the match, the higher.
    pub fn from_confidence(confidence: u8) -> Severity {
        match confidence {
            0..=24 => Severity::Low,
            25..=59 => Severity::Medium,
            60..=89 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

code_enum!(
    /// Where an alert is in triage.
    AlertState, "state" {
        New => "new",
        Acknowledged => "acknowledged",
        Closed => "closed",
        Escalated => "escalated",
    }
);

impl AlertState {
    /// Closed and escalated alerts take no more events: a new match starts a new alert.
    pub fn is_open(self) -> bool {
        matches!(self, AlertState::New | AlertState::Acknowledged)
    }
}

code_enum!(
    /// Why an alert was closed.
    Resolution, "resolution" {
        TruePositive => "true_positive",
        FalsePositive => "false_positive",
        Benign => "benign",
    }
);

/// What an analyst does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Acknowledge,
    Close(Resolution),
    Escalate,
}

/// Why a step is refused: a stable code for the message catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    AlreadyAcknowledged,
    NotOpen,
}

impl Refused {
    pub const ALL: [Refused; 2] = [Refused::AlreadyAcknowledged, Refused::NotOpen];

    pub fn code(self) -> &'static str {
        match self {
            Refused::AlreadyAcknowledged => "alert-acknowledged",
            Refused::NotOpen => "alert-not-open",
        }
    }
}

/// The state after `step`. An alert is acknowledged once; it is closed or escalated from
/// new or acknowledged (an analyst may close the obvious without acknowledging first);
/// closed and escalated are final.
pub fn next_state(state: AlertState, step: Step) -> Result<AlertState, Refused> {
    match (state, step) {
        (AlertState::New, Step::Acknowledge) => Ok(AlertState::Acknowledged),
        (AlertState::Acknowledged, Step::Acknowledge) => Err(Refused::AlreadyAcknowledged),
        (s, Step::Close(_)) if s.is_open() => Ok(AlertState::Closed),
        (s, Step::Escalate) if s.is_open() => Ok(AlertState::Escalated),
        _ => Err(Refused::NotOpen),
    }
}

/// How long an open alert keeps taking identical matches (same rule, same host) before a
/// new one starts, unless the source or rule says otherwise.
/// How an event source's token begins, so a request carrying one is told from an API
/// token before any lookup.
pub const SOURCE_TOKEN_PREFIX: &str = "isms_src_";

pub const DEFAULT_GROUP_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Whether a match at `at_ms` joins an open alert last seen at `last_ms`.
pub fn joins(last_ms: i64, at_ms: i64, window_ms: i64) -> bool {
    at_ms.saturating_sub(last_ms) <= window_ms
}

/// The key identical alerts share. Host names compare without case (Windows reports
/// `WS01` and `ws01.corp.example` for one machine in different logs; only the first label
/// is kept for that reason).
pub fn group_key(company: Option<&str>, rule: &str, host: &str) -> String {
    let host = host.trim().split('.').next().unwrap_or("").to_lowercase();
    format!("{}|{rule}|{host}", company.unwrap_or("group"))
}

/// Whether a source that expects an event at least every `expected_secs` has gone silent.
/// A source that never sent anything counts from its creation.
pub fn is_silent(last_event_ms: Option<i64>, created_ms: i64, expected_secs: Option<i64>, now_ms: i64) -> bool {
    match expected_secs {
        Some(secs) if secs > 0 => now_ms - last_event_ms.unwrap_or(created_ms) > secs * 1000,
        _ => false,
    }
}

/// Fields the host, the user and the event time are read from, in order of preference
/// (Windows event log, Elastic Common Schema, syslog, cloud audit logs).
pub const HOST_FIELDS: &[&str] = &["Computer", "host.name", "hostname", "host", "Hostname", "device.hostname", "src_host"];
pub const USER_FIELDS: &[&str] =
    &["TargetUserName", "SubjectUserName", "User", "user.name", "user", "userIdentity.userName", "userIdentity.arn", "src_user", "username"];
pub const TIME_FIELDS: &[&str] = &["@timestamp", "TimeCreated", "timestamp", "eventTime", "time", "Event.System.TimeCreated.#attributes.SystemTime"];

/// A source's field mapping: fields of its events copied under the names Sigma rules use
/// (`winlog.event_data.CommandLine = CommandLine`). One `from = to` per line; blank lines
/// and lines starting with `#` are ignored. A prefix maps every field under it:
/// `winlog.event_data.* = *` copies `winlog.event_data.Image` as `Image`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(pub Vec<(String, String)>);

impl FieldMap {
    /// Parses the mapping text; every bad line is reported with its number.
    pub fn parse(text: &str) -> Result<FieldMap, Vec<FieldError>> {
        let mut out = vec![];
        let mut errors = vec![];
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((from, to)) = line.split_once('=') else {
                errors.push(FieldError::coded("field_map", "map-line", format!("line {n}: expected `from = to`")).arg("line", n.to_string()));
                continue;
            };
            let (from, to) = (from.trim(), to.trim());
            let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '=');
            if bad(from) || bad(to) {
                errors.push(FieldError::coded("field_map", "map-line", format!("line {n}: expected `from = to`")).arg("line", n.to_string()));
                continue;
            }
            if from.ends_with(".*") != (to == "*" || to.ends_with(".*")) || from == "*" {
                errors.push(
                    FieldError::coded("field_map", "map-prefix", format!("line {n}: a prefix maps to a prefix (`winlog.event_data.* = *`)"))
                        .arg("line", n.to_string()),
                );
                continue;
            }
            if out.iter().any(|(f, _): &(String, String)| f == from) {
                errors.push(
                    FieldError::coded("field_map", "map-twice", format!("line {n}: `{from}` is mapped twice")).arg("line", n.to_string()).arg("value", from),
                );
                continue;
            }
            out.push((from.to_owned(), to.to_owned()));
        }
        if errors.is_empty() { Ok(FieldMap(out)) } else { Err(errors) }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mapping as text, one line per pair (what `parse` reads back).
    pub fn to_text(&self) -> String {
        self.0.iter().map(|(f, t)| format!("{f} = {t}\n")).collect()
    }

    /// The renaming of one field name, if a line maps it.
    pub fn target(&self, field: &str) -> Option<String> {
        for (from, to) in &self.0 {
            if let Some(prefix) = from.strip_suffix('*') {
                if let Some(rest) = field.strip_prefix(prefix).filter(|r| !r.is_empty()) {
                    return Some(match to.strip_suffix('*') {
                        Some(p) => format!("{p}{rest}"),
                        None => rest.to_owned(),
                    });
                }
            } else if from == field {
                return Some(to.clone());
            }
        }
        None
    }

    /// Whether any line maps a prefix (every field must then be looked at).
    pub fn has_prefixes(&self) -> bool {
        self.0.iter().any(|(f, _)| f.ends_with(".*"))
    }

    /// What a source of `kind` starts with: the Elastic Common Schema names Winlogbeat
    /// and Vector write, mapped to the Windows names SigmaHQ rules use.
    pub fn default_for(kind: SourceKind) -> FieldMap {
        let pairs: &[(&str, &str)] = match kind {
            SourceKind::Windows => &[
                ("winlog.event_id", "EventID"),
                ("winlog.channel", "Channel"),
                ("winlog.computer_name", "Computer"),
                ("winlog.provider_name", "Provider_Name"),
                ("winlog.event_data.*", "*"),
                ("winlog.user_data.*", "*"),
            ],
            SourceKind::Syslog => &[("appname", "program"), ("message", "msg")],
            _ => &[],
        };
        FieldMap(pairs.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect())
    }
}

/// A bounded, clear reason for keeping an event aside (dead letters show it).
pub fn truncate_reason(reason: &str) -> String {
    let mut s: String = reason.chars().take(300).collect();
    if s.len() < reason.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_table() {
        use AlertState::*;
        let cases = [
            (New, Step::Acknowledge, Ok(Acknowledged)),
            (Acknowledged, Step::Acknowledge, Err(Refused::AlreadyAcknowledged)),
            (New, Step::Close(Resolution::Benign), Ok(Closed)),
            (Acknowledged, Step::Close(Resolution::TruePositive), Ok(Closed)),
            (New, Step::Escalate, Ok(Escalated)),
            (Acknowledged, Step::Escalate, Ok(Escalated)),
            (Closed, Step::Acknowledge, Err(Refused::NotOpen)),
            (Closed, Step::Escalate, Err(Refused::NotOpen)),
            (Escalated, Step::Close(Resolution::FalsePositive), Err(Refused::NotOpen)),
            (Escalated, Step::Acknowledge, Err(Refused::NotOpen)),
        ];
        for (state, step, want) in cases {
            assert_eq!(next_state(state, step), want, "{state} {step:?}");
        }
    }

    #[test]
    fn severities_are_ordered_and_read_from_levels() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Informational);
        assert_eq!(Severity::from_level(Some("high")), Severity::High);
        assert_eq!(Severity::from_level(None), Severity::Medium);
        assert_eq!(Severity::from_level(Some("nonsense")), Severity::Medium);
        let mut last = Severity::Informational;
        for c in 0..=100u8 {
            let s = Severity::from_confidence(c);
            assert!(s >= last, "confidence {c}");
            last = s;
        }
        assert_eq!(Severity::from_confidence(100), Severity::Critical);
    }

    #[test]
    fn grouping_ignores_host_case_and_domain() {
        assert_eq!(group_key(Some("c"), "r", "WS01.corp.example"), group_key(Some("c"), "r", "ws01"));
        assert_ne!(group_key(Some("c"), "r", "ws01"), group_key(Some("d"), "r", "ws01"));
        assert_ne!(group_key(None, "r", "ws01"), group_key(None, "s", "ws01"));
        assert!(joins(1_000, 1_000 + DEFAULT_GROUP_WINDOW_MS, DEFAULT_GROUP_WINDOW_MS));
        assert!(!joins(1_000, 1_001 + DEFAULT_GROUP_WINDOW_MS, DEFAULT_GROUP_WINDOW_MS));
    }

    #[test]
    fn silence_counts_from_the_last_event_or_creation() {
        assert!(!is_silent(None, 0, None, 10_000_000));
        assert!(!is_silent(Some(0), 0, Some(0), 10_000_000));
        assert!(is_silent(None, 0, Some(60), 60_001));
        assert!(!is_silent(None, 0, Some(60), 60_000));
        assert!(!is_silent(Some(50_000), 0, Some(60), 100_000));
        assert!(is_silent(Some(50_000), 0, Some(60), 110_001));
    }

    #[test]
    fn field_maps_name_their_bad_lines() {
        let m = FieldMap::parse("# ECS to Sigma\n\nwinlog.event_id = EventID\n process.command_line=CommandLine \n").unwrap();
        assert_eq!(m.0, vec![("winlog.event_id".into(), "EventID".into()), ("process.command_line".into(), "CommandLine".into())]);
        assert_eq!(FieldMap::parse(&m.to_text()).unwrap(), m);
        let p = FieldMap::parse("winlog.event_data.* = *\ndata.* = ev.*\nhost.name = Computer").unwrap();
        assert_eq!(p.target("winlog.event_data.Image").as_deref(), Some("Image"));
        assert_eq!(p.target("data.x.y").as_deref(), Some("ev.x.y"));
        assert_eq!(p.target("host.name").as_deref(), Some("Computer"));
        assert_eq!(p.target("winlog.event_data."), None);
        assert_eq!(p.target("other"), None);
        assert!(p.has_prefixes());
        assert_eq!(FieldMap::parse("a.* = b").unwrap_err()[0].code, "map-prefix");
        assert_eq!(FieldMap::parse("a = b.*").unwrap_err()[0].code, "map-prefix");
        let e = FieldMap::parse("a = b\nnonsense\nc = \na = d\nx y = z").unwrap_err();
        let lines: Vec<_> = e.iter().map(|e| e.args.iter().find(|(k, _)| *k == "line").unwrap().1.clone()).collect();
        assert_eq!(lines, ["2", "3", "4", "5"]);
        assert_eq!(e[2].code, "map-twice");
        for k in SourceKind::ALL {
            let d = FieldMap::default_for(*k);
            assert_eq!(FieldMap::parse(&d.to_text()).unwrap(), d);
        }
    }

    #[test]
    fn reasons_are_bounded() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(500);
        let t = truncate_reason(&long);
        assert_eq!(t.chars().count(), 301);
    }
}
