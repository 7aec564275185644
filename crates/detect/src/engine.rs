//! The engine: all loaded rules, each tied to the events its log source means. An event
//! is checked against each distinct log-source constraint once, and only the rules whose
//! constraint holds are evaluated.

use crate::Position;
use crate::event::Event;
use crate::logsource::{Constraint, LogSourceMap};
use crate::pattern::Placeholders;
use crate::prereq::Anchor;
use crate::rule::{Level, Rule, parse_documents};
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

/// Per-thread working memory of `matches`, kept between events.
#[derive(Default)]
struct Scratch {
    /// Per log-source constraint: whether the event belongs to it, once known.
    source_ok: Vec<Option<bool>>,
    /// One bit per rule: woken by the event.
    woken: Vec<u64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// What `finish` builds: per field and log source, one automaton over the literals some
/// rule requires.
struct Index {
    fields: HashMap<String, Vec<FieldIndex>, foldhash::fast::RandomState>,
    /// Rules without a prerequisite, evaluated for every event: one bit per rule.
    always: Vec<u64>,
    /// How many rules that is.
    always_count: usize,
    /// The fields the log-source constraints look at, each read once per event.
    source_fields: Vec<String>,
    /// Per constraint: alternatives of (position in `source_fields`, accepted values).
    sources: Vec<Vec<Vec<(usize, Vec<String>)>>>,
}

struct FieldIndex {
    /// The log-source constraint of these rules (`None`: every event).
    source: Option<usize>,
    /// Literals that may be anywhere, with the rules each wakes.
    anywhere: Option<(Finder, Vec<Vec<u32>>)>,
    /// Literals the text starts with or is.
    prefixes: Option<Trie>,
    /// Literals the text ends with, reversed.
    suffixes: Option<Trie>,
}

/// Per literal, the rules of the literals it contains (itself included): wherever a
/// literal occurs, so do all of its substrings.
fn wakes(lits: &[String], rules: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
    let Ok(all) = aho_corasick::AhoCorasick::new(lits) else { return rules };
    lits.iter()
        .map(|l| {
            let mut out: Vec<u32> = all.find_overlapping_iter(l).flat_map(|m| rules[m.pattern().as_usize()].iter().copied()).collect();
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect()
}

/// A few literals are looked for one by one; more, with one automaton.
enum Finder {
    Each(Vec<memchr::memmem::Finder<'static>>),
    /// Leftmost-longest over the literals.
    Automaton(aho_corasick::AhoCorasick),
}

/// Up to this many literals are searched one by one: for short values that is cheaper
/// than setting out on an automaton search.
const FEW_LITERALS: usize = 12;

/// A byte trie of anchored literals: walking a text from its anchored end visits every
/// literal it holds there, in as many steps as the longest such literal is long.
#[derive(Default)]
struct Trie {
    nodes: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    /// Rules of the literals that end here.
    ends: Vec<u32>,
    /// Rules of the literals that end here and must be the whole text.
    whole: Vec<u32>,
}

impl Trie {
    fn insert(&mut self, bytes: impl Iterator<Item = u8>, rules: &[u32], whole: bool) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut at = 0usize;
        for b in bytes {
            at = match self.nodes[at].edges.binary_search_by_key(&b, |e| e.0) {
                Ok(i) => self.nodes[at].edges[i].1 as usize,
                Err(i) => {
                    let next = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[at].edges.insert(i, (b, next as u32));
                    next
                }
            };
        }
        let node = &mut self.nodes[at];
        let list = if whole { &mut node.whole } else { &mut node.ends };
        list.extend_from_slice(rules);
    }

    fn walk(&self, bytes: impl Iterator<Item = u8>, len: usize, wake: &mut impl FnMut(u32)) {
        let mut at = 0usize;
        let mut bytes = bytes;
        let mut taken = 0;
        loop {
            let node = &self.nodes[at];
            node.ends.iter().for_each(|&r| wake(r));
            if taken == len {
                node.whole.iter().for_each(|&r| wake(r));
                return;
            }
            let Some(b) = bytes.next() else { return };
            taken += 1;
            match node.edges.binary_search_by_key(&b, |e| e.0) {
                Ok(i) => at = node.edges[i].1 as usize,
                Err(_) => return,
            }
        }
    }
}

impl FieldIndex {
    fn new(source: Option<usize>, lits: &[(String, Anchor)], rules: Vec<Vec<u32>>) -> Result<FieldIndex, aho_corasick::BuildError> {
        let mut fi = FieldIndex { source, anywhere: None, prefixes: None, suffixes: None };
        let (mut any_lits, mut any_rules) = (vec![], vec![]);
        for ((lit, anchor), rules) in lits.iter().zip(rules) {
            match anchor {
                Anchor::Anywhere => {
                    any_lits.push(lit.clone());
                    any_rules.push(rules);
                }
                Anchor::Start | Anchor::Whole => fi.prefixes.get_or_insert_with(Trie::default).insert(lit.bytes(), &rules, *anchor == Anchor::Whole),
                Anchor::End => fi.suffixes.get_or_insert_with(Trie::default).insert(lit.bytes().rev(), &rules, false),
            }
        }
        if any_lits.len() > FEW_LITERALS {
            let automaton = aho_corasick::AhoCorasick::builder().match_kind(aho_corasick::MatchKind::LeftmostLongest).build(&any_lits)?;
            fi.anywhere = Some((Finder::Automaton(automaton), wakes(&any_lits, any_rules)));
        } else if !any_lits.is_empty() {
            let finders = any_lits.iter().map(|l| memchr::memmem::Finder::new(l.as_bytes()).into_owned()).collect();
            fi.anywhere = Some((Finder::Each(finders), any_rules));
        }
        Ok(fi)
    }

    /// Calls `wake` with the rules of every literal that `text` holds where the literal
    /// must be. For literals anywhere, with the automaton: one leftmost-longest search
    /// per position where some literal starts; the longest literal starting there
    /// contains every other that starts there, and its rules include theirs; literals
    /// starting later are found by searching again from the next position. The searches
    /// use the automaton's SIMD prefilters, which an overlapping search cannot.
    fn scan(&self, text: &str, wake: &mut impl FnMut(u32)) {
        if let Some(t) = &self.prefixes {
            t.walk(text.bytes(), text.len(), wake);
        }
        if let Some(t) = &self.suffixes {
            t.walk(text.bytes().rev(), text.len(), wake);
        }
        match &self.anywhere {
            Some((Finder::Each(finders), rules)) => {
                for (i, f) in finders.iter().enumerate() {
                    if f.find(text.as_bytes()).is_some() {
                        rules[i].iter().for_each(|&r| wake(r));
                    }
                }
            }
            Some((Finder::Automaton(automaton), rules)) => {
                let mut at = 0;
                while at < text.len() {
                    let Some(m) = automaton.find(aho_corasick::Input::new(text).span(at..text.len())) else { break };
                    rules[m.pattern().as_usize()].iter().for_each(|&r| wake(r));
                    at = m.start() + 1;
                }
            }
            None => {}
        }
    }
}

impl Engine {
    pub fn new(map: LogSourceMap, placeholders: Placeholders) -> Self {
        Self { map, placeholders, rules: vec![], constraints: vec![], by_constraint: HashMap::new(), index: None, correlations: vec![] }
    }

    /// Builds the shared literal automata once all rules are added. Matching works without
    /// it too, evaluating every rule.
    pub fn finish(&mut self) {
        // Literals are grouped by field and by the log source of their rules, so that an
        // event's field is scanned only for the rules whose log source it belongs to.
        type Group = (Vec<(String, Anchor)>, HashMap<(String, Anchor), usize>, Vec<Vec<u32>>);
        let mut per_field: HashMap<(String, Option<usize>), Group> = HashMap::new();
        let mut always = vec![];
        for (i, l) in self.rules.iter().enumerate() {
            match crate::prereq::needs(&l.rule) {
                None => always.push(i),
                Some(needs) => {
                    for n in needs {
                        let (lits, pos, rules) = per_field.entry((n.field, l.source)).or_default();
                        let key = (n.literal, n.anchor);
                        let at = *pos.entry(key.clone()).or_insert_with(|| {
                            lits.push(key);
                            rules.push(vec![]);
                            lits.len() - 1
                        });
                        if rules[at].last() != Some(&(i as u32)) {
                            rules[at].push(i as u32);
                        }
                    }
                }
            }
        }
        let mut fields: HashMap<String, Vec<FieldIndex>, _> = HashMap::default();
        let mut groups: Vec<_> = per_field.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        for ((field, source), (lits, _, rules)) in groups {
            // Plain literals: building cannot fail short of memory limits; fall back to
            // evaluating those rules every time if it ever does.
            match FieldIndex::new(source, &lits, rules.clone()) {
                Ok(fi) => fields.entry(field).or_default().push(fi),
                Err(_) => always.extend(rules.into_iter().flatten().map(|r| r as usize)),
            }
        }
        always.sort_unstable();
        always.dedup();
        let mut bits = vec![0u64; self.rules.len().div_ceil(64)];
        for &r in &always {
            bits[r / 64] |= 1 << (r % 64);
        }
        let mut source_fields: Vec<String> = vec![];
        let sources = self
            .constraints
            .iter()
            .map(|c| {
                c.iter()
                    .map(|alt| {
                        alt.0
                            .iter()
                            .map(|(f, vals)| {
                                let at = source_fields.iter().position(|x| x == f).unwrap_or_else(|| {
                                    source_fields.push(f.clone());
                                    source_fields.len() - 1
                                });
                                (at, vals.clone())
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        self.index = Some(Index { fields, always: bits, always_count: always.len(), source_fields, sources });
    }

    /// Rules evaluated for every event (no literal prerequisite), after `finish`.
    pub fn unindexed(&self) -> Option<usize> {
        self.index.as_ref().map(|i| i.always_count)
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
                    Err(e) => {
                        report.refused.push(Refusal { file: file.into(), id: d.id, title: d.title, position: e.position, kind: e.kind, reason: e.reason })
                    }
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

    /// Reads one JSON object into a prepared event.
    pub fn event_from_json<'a>(&self, json: &'a [u8]) -> Result<Event<'a>, crate::event::EventError> {
        let mut e = Event::from_json_bytes(json)?;
        self.prepare(&mut e);
        Ok(e)
    }

    /// Reads one JSON object into `e` (emptied first) and prepares it: for reading many
    /// events with one event's memory. Unescaped text goes into `arena`.
    pub fn read_event<'a>(&self, e: &mut Event<'a>, json: &'a [u8], arena: &'a bumpalo::Bump) -> Result<(), crate::event::EventError> {
        e.read_json(json, Some(arena))?;
        self.prepare(e);
        Ok(())
    }

    /// The rules that fire on a prepared event.
    pub fn matches(&self, e: &Event) -> Vec<Detection> {
        let mut out = vec![];
        self.for_each_candidate(e, &mut |i| {
            let r = &self.rules[i].rule;
            if r.matches(e) {
                out.push(Detection { rule: i, id: r.id.clone(), title: r.title.clone(), level: r.level });
            }
        });
        out
    }

    /// The rules an event wakes and whose log source it belongs to: those `matches`
    /// evaluates in full.
    pub fn candidates(&self, e: &Event) -> Vec<usize> {
        let mut out = vec![];
        self.for_each_candidate(e, &mut |i| out.push(i));
        out
    }

    fn for_each_candidate(&self, e: &Event, f: &mut dyn FnMut(usize)) {
        // A call from inside `f` (not made today) would find the scratch taken: it then
        // works in memory of its own.
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.candidates_with(e, f, &mut scratch),
            Err(_) => self.candidates_with(e, f, &mut Scratch::default()),
        });
    }

    fn candidates_with(&self, e: &Event, f: &mut dyn FnMut(usize), scratch: &mut Scratch) {
        let Scratch { source_ok, woken } = scratch;
        source_ok.clear();
        source_ok.resize(self.constraints.len(), None);
        let Some(index) = &self.index else {
            for i in 0..self.rules.len() {
                if self.rules[i].source.is_none_or(|c| *source_ok[c].get_or_insert_with(|| self.constraints[c].iter().any(|a| a.matches(e)))) {
                    f(i);
                }
            }
            return;
        };
        // Whether the event belongs to each log source, found out once when first asked,
        // from the fields the constraints look at, each read once.
        let texts: Vec<Option<&str>> = index.source_fields.iter().map(|f| e.get_with_lower(f).and_then(|(_, l)| l)).collect();
        let mut belongs = |c: Option<usize>| match c {
            None => true,
            Some(c) => *source_ok[c]
                .get_or_insert_with(|| index.sources[c].iter().any(|alt| alt.iter().all(|(at, vals)| texts[*at].is_some_and(|t| vals.iter().any(|v| v == t))))),
        };
        // Wake the rules whose required literals occur in this event's fields: one bit
        // per rule, starting from the rules that are always evaluated.
        woken.clear();
        woken.extend_from_slice(&index.always);
        let mut scan = |fi: &FieldIndex, text: &str| fi.scan(text, &mut |r| woken[r as usize / 64] |= 1 << (r % 64));
        for (name, value, lower) in e.fields_with_lower() {
            let Some(groups) = index.fields.get(name) else { continue };
            for fi in groups.iter().filter(|fi| belongs(fi.source)) {
                match (value, lower) {
                    (crate::event::Value::List(items), _) => {
                        for it in items {
                            if let Some(t) = it.as_text() {
                                scan(fi, &t.to_lowercase());
                            }
                        }
                    }
                    (_, Some(lower)) => scan(fi, lower),
                    _ => {}
                }
            }
        }
        // Keywords: one pass over the text of all values at once (a literal that spans
        // two values only wakes a rule that then does not match).
        for fi in index.fields.get(crate::prereq::ANY_FIELD).into_iter().flatten().filter(|fi| belongs(fi.source)) {
            scan(fi, e.all_lower_text());
            for (v, _) in e.values_with_lower() {
                if let crate::event::Value::List(items) = v {
                    for t in items.iter().filter_map(|it| it.as_text()) {
                        scan(fi, &t.to_lowercase());
                    }
                }
            }
        }
        for (w, &bits) in woken.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if belongs(self.rules[i].source) {
                    f(i);
                }
            }
        }
    }
}

// The engine is shared by the threads that read events.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
};

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
