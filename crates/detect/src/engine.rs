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
    index: Option<Index>,
    correlations: Vec<crate::correlation::Correlation>,
}

/// What `finish` builds: per field, one automaton over the literals some rule requires.
struct Index {
    fields: HashMap<String, FieldIndex>,
    /// Rules without a prerequisite: evaluated for every event.
    always: Vec<usize>,
}

struct FieldIndex {
    automaton: aho_corasick::AhoCorasick,
    /// Per literal: the rules it wakes.
    rules: Vec<Vec<usize>>,
}

impl Engine {
    pub fn new(map: LogSourceMap, placeholders: Placeholders) -> Self {
        Self { map, placeholders, rules: vec![], constraints: vec![], by_constraint: HashMap::new(), index: None, correlations: vec![] }
    }

    /// Builds the shared literal automata once all rules are added. Matching works without
    /// it too, evaluating every rule.
    pub fn finish(&mut self) {
        let mut per_field: HashMap<String, (Vec<String>, HashMap<String, usize>, Vec<Vec<usize>>)> = HashMap::new();
        let mut always = vec![];
        for (i, l) in self.rules.iter().enumerate() {
            match crate::prereq::needs(&l.rule) {
                None => always.push(i),
                Some(needs) => {
                    for n in needs {
                        let (lits, pos, rules) = per_field.entry(n.field).or_default();
                        let at = *pos.entry(n.literal.clone()).or_insert_with(|| {
                            lits.push(n.literal);
                            rules.push(vec![]);
                            lits.len() - 1
                        });
                        if rules[at].last() != Some(&i) {
                            rules[at].push(i);
                        }
                    }
                }
            }
        }
        let mut fields = HashMap::new();
        for (field, (lits, _, rules)) in per_field {
            // Plain literals: building cannot fail short of memory limits; fall back to
            // evaluating those rules every time if it ever does.
            match aho_corasick::AhoCorasick::builder().build(&lits) {
                Ok(automaton) => {
                    fields.insert(field, FieldIndex { automaton, rules });
                }
                Err(_) => always.extend(rules.into_iter().flatten()),
            }
        }
        always.sort_unstable();
        always.dedup();
        self.index = Some(Index { fields, always });
    }

    /// Rules evaluated for every event (no literal prerequisite), after `finish`.
    pub fn unindexed(&self) -> Option<usize> {
        self.index.as_ref().map(|i| i.always.len())
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
            if let Some(c) = d.correlation {
                match c {
                    Ok(c) => {
                        self.correlations.push(c);
                        report.loaded += 1;
                    }
                    Err(e) => report.refused.push(Refusal { file: file.into(), id: d.id, title: d.title, position: e.position, kind: e.kind, reason: e.reason }),
                }
                continue;
            }
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

    pub fn correlations(&self) -> &[crate::correlation::Correlation] {
        &self.correlations
    }

    /// A fresh correlation state over this engine's correlation rules.
    pub fn correlator(&self) -> crate::correlation::Correlator {
        crate::correlation::Correlator::new(self.correlations.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.correlations.is_empty()
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
        let mut out = vec![];
        let Some(index) = &self.index else {
            let mut source_ok = vec![None; self.constraints.len()];
            for i in 0..self.rules.len() {
                self.check(i, e, &mut source_ok, &mut out);
            }
            return out;
        };
        // Wake the rules whose required literals occur in this event's fields.
        let mut woken = vec![false; self.rules.len()];
        for &i in &index.always {
            woken[i] = true;
        }
        for (name, value) in e.fields() {
            let Some(fi) = index.fields.get(name.as_str()) else { continue };
            let mut scan = |text: &str| {
                for m in fi.automaton.find_overlapping_iter(text) {
                    for &r in &fi.rules[m.pattern().as_usize()] {
                        woken[r] = true;
                    }
                }
            };
            match value {
                crate::event::Value::List(items) => {
                    for it in items {
                        if let Some(t) = it.as_text() {
                            scan(&t.to_lowercase());
                        }
                    }
                }
                _ => {
                    if let Some((_, Some(lower))) = e.get_with_lower(name) {
                        scan(lower);
                    }
                }
            }
        }
        let mut source_ok = vec![None; self.constraints.len()];
        for (i, w) in woken.iter().enumerate() {
            if *w {
                self.check(i, e, &mut source_ok, &mut out);
            }
        }
        out
    }

    fn check(&self, i: usize, e: &Event, source_ok: &mut [Option<bool>], out: &mut Vec<Detection>) {
        let l = &self.rules[i];
        if let Some(c) = l.source {
            let ok = *source_ok[c].get_or_insert_with(|| self.constraints[c].iter().any(|a| a.matches(e)));
            if !ok {
                return;
            }
        }
        if l.rule.matches(e) {
            out.push(Detection { rule: i, id: l.rule.id.clone(), title: l.rule.title.clone(), level: l.rule.level });
        }
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
        e.finish();
        assert_eq!(e.unindexed(), Some(0));
        assert_eq!(e.matches(&hit).len(), 1);
        assert!(e.matches(&wrong_source).is_empty());
    }
}

// The engine is shared by the threads that read events.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
};
