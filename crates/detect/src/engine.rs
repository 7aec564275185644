//! The engine: all loaded rules, each tied to the events its log source means. An event
//! is checked against each distinct log-source constraint once, and only the rules whose
//! constraint holds are evaluated.

use crate::event::Event;
use crate::logsource::{Constraint, LogSourceMap};
use crate::pattern::Placeholders;
use crate::rule::{parse_documents, Level, Rule};
use crate::Position;
use std::collections::{BTreeMap, HashMap};

/// A rule that could not be used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub file: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub position: Position,
    pub kind: &'static str,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file, self.position)?;
        if let Some(id) = &self.id {
            write!(f, "rule {id}: ")?;
        }
        write!(f, "{}", self.reason)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub loaded: usize,
    pub refused: Vec<Refusal>,
}

impl LoadReport {
    /// Refusals counted by kind.
    pub fn by_kind(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.refused {
            *m.entry(r.kind).or_insert(0) += 1;
        }
        m
    }
}

struct Loaded {
    rule: Rule,
    file: String,
    /// Index into the engine's distinct constraints; `None`: every event.
    source: Option<usize>,
}

/// A rule that fired on an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Detection {
    pub rule: usize,
    pub id: Option<String>,
    pub title: String,
    pub level: Option<Level>,
}

pub struct Engine {
    map: LogSourceMap,
    placeholders: Placeholders,
    rules: Vec<Loaded>,
    constraints: Vec<Constraint>,
    by_constraint: HashMap<String, usize>,
}

impl Engine {
    pub fn new(map: LogSourceMap, placeholders: Placeholders) -> Self {
        Self { map, placeholders, rules: vec![], constraints: vec![], by_constraint: HashMap::new() }
    }

    /// Parses the rules in one file's text; the rules that cannot be used are reported
    /// and the others are loaded.
    pub fn add_rules(&mut self, file: &str, text: &str, report: &mut LoadReport) {
        let docs = match parse_documents(text, &self.placeholders) {
            Ok(d) => d,
            Err(e) => {
                report.refused.push(Refusal { file: file.into(), id: None, title: None, position: e.position, kind: e.kind, reason: e.reason });
                return;
            }
        };
        for d in docs {
            match d.rule {
                Ok(rule) => {
                    let source = self.map.constraint(&rule.logsource).map(|c| {
                        let key = format!("{c:?}");
                        *self.by_constraint.entry(key).or_insert_with(|| {
                            self.constraints.push(c);
                            self.constraints.len() - 1
                        })
                    });
                    self.rules.push(Loaded { rule, file: file.into(), source });
                    report.loaded += 1;
                }
                Err(e) => report.refused.push(Refusal { file: file.into(), id: d.id, title: d.title, position: e.position, kind: e.kind, reason: e.reason }),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rule(&self, i: usize) -> &Rule {
        &self.rules[i].rule
    }

    pub fn rule_file(&self, i: usize) -> &str {
        &self.rules[i].file
    }

    /// Prepares an event (field aliases of its source) for matching.
    pub fn prepare(&self, e: &mut Event) {
        self.map.apply_aliases(e);
    }

    /// The rules that fire on a prepared event.
    pub fn matches(&self, e: &Event) -> Vec<Detection> {
        let mut source_ok: Vec<Option<bool>> = vec![None; self.constraints.len()];
        let mut out = vec![];
        for (i, l) in self.rules.iter().enumerate() {
            if let Some(c) = l.source {
                let ok = *source_ok[c].get_or_insert_with(|| self.constraints[c].iter().any(|a| a.matches(e)));
                if !ok {
                    continue;
                }
            }
            if l.rule.matches(e) {
                out.push(Detection { rule: i, id: l.rule.id.clone(), title: l.rule.title.clone(), level: l.rule.level });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_log_source_and_reports_refusals() {
        let mut e = Engine::new(LogSourceMap::builtin(), Placeholders::new());
        let mut report = LoadReport::default();
        e.add_rules(
            "a.yml",
            "title: proc\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel: {Image|endswith: '\\x.exe'}\n  condition: sel\n",
            &mut report,
        );
        e.add_rules("b.yml", "title: bad\ndetection:\n  sel: {A|nope: 1}\n  condition: sel\n", &mut report);
        assert_eq!(report.loaded, 1);
        assert_eq!(report.refused.len(), 1);
        assert_eq!(report.refused[0].to_string(), "b.yml:3:17: `A|nope`: unknown modifier `nope`");
        let hit = Event::from_json_str(r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\x.exe"}"#).unwrap();
        let wrong_source = Event::from_json_str(r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 3, "Image": "C:\\x.exe"}"#).unwrap();
        assert_eq!(e.matches(&hit).len(), 1);
        assert!(e.matches(&wrong_source).is_empty());
    }
}

// The engine is shared by the threads that read events.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
};
