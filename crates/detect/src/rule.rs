//! Sigma rules from YAML: one file may hold several documents. Each rule's detection is
//! compiled here (values and modifiers into matchers, the condition into an expression);
//! anything unusable is reported with its line and column.

use crate::condition::{self, Expr};
use crate::event::Event;
use crate::pattern::{Matcher, Placeholders, RawValue, compile_value};
use crate::{Position, RuleError};
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// One condition on one field: the field's value must match any of the matchers (all of
/// them with the `all` modifier).
#[derive(Debug, Clone)]
pub struct FieldTest {
    pub field: Option<String>,
    pub matchers: Vec<Matcher>,
    pub all: bool,
}

/// A named search: ORed groups of ANDed field tests.
#[derive(Debug, Clone)]
pub struct Search {
    pub groups: Vec<Vec<FieldTest>>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Option<String>,
    /// The name correlation rules may use to refer to this rule.
    pub name: Option<String>,
    pub title: String,
    pub level: Option<Level>,
    pub status: Option<String>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
    pub names: Vec<String>,
    pub searches: Vec<Search>,
    pub condition: Expr,
}

fn pos(n: &MarkedYamlOwned) -> Position {
    Position { line: n.span.start.line(), column: n.span.start.col() + 1 }
}

fn scalar(n: &MarkedYamlOwned) -> Option<RawValue> {
    match &n.data {
        YamlDataOwned::Value(v) => Some(match v {
            ScalarOwned::Null => RawValue::Null,
            ScalarOwned::Boolean(b) => RawValue::Bool(*b),
            ScalarOwned::Integer(i) => RawValue::Int(*i),
            ScalarOwned::FloatingPoint(f) => RawValue::Float(f.into_inner()),
            ScalarOwned::String(s) => RawValue::Str(s.clone()),
        }),
        YamlDataOwned::Representation(s, _, _) => Some(RawValue::Str(s.clone())),
        _ => None,
    }
}

fn text(n: Option<&MarkedYamlOwned>) -> Option<String> {
    n.and_then(scalar).filter(|v| *v != RawValue::Null).map(|v| v.text())
}

fn get<'a>(n: &'a MarkedYamlOwned, key: &str) -> Option<&'a MarkedYamlOwned> {
    n.data.as_mapping_get(key)
}

/// A rule document as it was read, before it is used.
pub struct Parsed {
    pub rule: Result<Rule, RuleError>,
    /// Set for a correlation rule (then `rule` is an error saying so).
    pub correlation: Option<Result<crate::correlation::Correlation, RuleError>>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub position: Position,
}

/// Loads YAML documents. The text is given a final line break first: without one, the
/// YAML scanner (saphyr-parser 0.0.12) loops for ever on a `%` directive at the very end
/// of the text, which fuzzing found.
pub(crate) fn load_yaml(src: &str) -> Result<Vec<MarkedYamlOwned>, saphyr::ScanError> {
    if src.ends_with('\n') { MarkedYamlOwned::load_from_str(src) } else { MarkedYamlOwned::load_from_str(&format!("{src}\n")) }
}

/// Parses every document of a YAML text. A text that is not YAML at all is one error.
pub fn parse_documents(src: &str, placeholders: &Placeholders) -> Result<Vec<Parsed>, RuleError> {
    let docs = load_yaml(src)
        .map_err(|e| RuleError::new(Position { line: e.marker().line(), column: e.marker().col() + 1 }, "yaml", format!("not valid YAML: {}", e.info())))?;
    let mut out = vec![];
    let mut global: Option<MarkedYamlOwned> = None;
    for doc in docs {
        if !matches!(doc.data, YamlDataOwned::Mapping(_)) {
            continue;
        }
        // Old-style rule collections: `action: global` holds what the next documents share.
        match text(get(&doc, "action")).as_deref() {
            Some("global") => {
                global = Some(doc);
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {}
            _ => {}
        }
        let doc = match &global {
            Some(g) => merge(g, &doc),
            None => doc,
        };
        let id = text(get(&doc, "id"));
        let title = text(get(&doc, "title"));
        let position = pos(&doc);
        if get(&doc, "correlation").is_some() {
            out.push(Parsed {
                rule: Err(RuleError::new(position, "correlation", "a correlation rule, not a single-event rule")),
                correlation: Some(crate::correlation::parse(&doc)),
                id,
                title,
                position,
            });
            continue;
        }
        out.push(Parsed { rule: parse_rule(&doc, placeholders), correlation: None, id, title, position });
    }
    Ok(out)
}

/// `global` values under the document's own (the document wins).
fn merge(global: &MarkedYamlOwned, doc: &MarkedYamlOwned) -> MarkedYamlOwned {
    match (&global.data, &doc.data) {
        (YamlDataOwned::Mapping(g), YamlDataOwned::Mapping(d)) => {
            let mut m = g.clone();
            for (k, v) in d {
                let merged = match m.get(k) {
                    Some(gv) => merge(gv, v),
                    None => v.clone(),
                };
                m.insert(k.clone(), merged);
            }
            m.remove(&MarkedYamlOwned::value_from_str("action"));
            MarkedYamlOwned { span: doc.span, data: YamlDataOwned::Mapping(m) }
        }
        _ => doc.clone(),
    }
}

pub fn parse_rule(doc: &MarkedYamlOwned, placeholders: &Placeholders) -> Result<Rule, RuleError> {
    let title = text(get(doc, "title")).ok_or_else(|| RuleError::new(pos(doc), "missing", "the rule has no `title`"))?;
    let detection = get(doc, "detection").ok_or_else(|| RuleError::new(pos(doc), "missing", "the rule has no `detection`"))?;
    let YamlDataOwned::Mapping(map) = &detection.data else {
        return Err(RuleError::new(pos(detection), "detection", "`detection` must be a mapping"));
    };
    let mut names = vec![];
    let mut searches = vec![];
    let mut conditions = vec![];
    let mut cond_pos = pos(detection);
    for (k, v) in map {
        let Some(name) = text(Some(k)) else { continue };
        match name.as_str() {
            "condition" => {
                cond_pos = pos(v);
                match &v.data {
                    YamlDataOwned::Sequence(items) => conditions.extend(items.iter().filter_map(|i| text(Some(i)))),
                    _ => conditions.extend(text(Some(v))),
                }
            }
            "timeframe" => {}
            _ => {
                names.push(name.clone());
                searches.push(parse_search(v, placeholders)?);
            }
        }
    }
    if conditions.is_empty() {
        return Err(RuleError::new(pos(detection), "missing", "`detection` has no `condition`"));
    }
    let mut exprs = vec![];
    for c in &conditions {
        exprs.push(condition::parse(c, &names).map_err(|e| RuleError::new(cond_pos, "condition", format!("condition `{c}`: {e}")))?);
    }
    let condition = if exprs.len() == 1 { exprs.remove(0) } else { Expr::Or(exprs) };
    let ls = get(doc, "logsource");
    let logsource = LogSource {
        product: ls.and_then(|l| text(get(l, "product"))).map(|s| s.to_lowercase()),
        category: ls.and_then(|l| text(get(l, "category"))).map(|s| s.to_lowercase()),
        service: ls.and_then(|l| text(get(l, "service"))).map(|s| s.to_lowercase()),
    };
    let tags = match get(doc, "tags").map(|t| &t.data) {
        Some(YamlDataOwned::Sequence(items)) => items.iter().filter_map(|i| text(Some(i))).collect(),
        _ => vec![],
    };
    Ok(Rule {
        id: text(get(doc, "id")),
        name: text(get(doc, "name")),
        title,
        level: text(get(doc, "level")).and_then(|l| Level::parse(&l.to_lowercase())),
        status: text(get(doc, "status")),
        tags,
        logsource,
        names,
        searches,
        condition,
    })
}

fn parse_search(v: &MarkedYamlOwned, placeholders: &Placeholders) -> Result<Search, RuleError> {
    match &v.data {
        YamlDataOwned::Mapping(_) => Ok(Search { groups: vec![parse_map(v, placeholders)?] }),
        YamlDataOwned::Sequence(items) => {
            if items.iter().all(|i| matches!(i.data, YamlDataOwned::Mapping(_))) && !items.is_empty() {
                // A list of maps: any of them.
                let groups = items.iter().map(|i| parse_map(i, placeholders)).collect::<Result<_, _>>()?;
                Ok(Search { groups })
            } else {
                // A list of values: keywords searched across the whole event, as full-text
                // search does (a keyword may sit anywhere in a value).
                let mut matchers = vec![];
                let contains = ["contains".to_owned()];
                for i in items {
                    let raw = scalar(i).ok_or_else(|| RuleError::new(pos(i), "detection", "a keyword list may hold only plain values"))?;
                    matchers.extend(compile_value(&raw, &contains, placeholders).map_err(|(k, m)| RuleError::new(pos(i), k, m))?);
                }
                Ok(Search { groups: vec![vec![FieldTest { field: None, matchers, all: false }]] })
            }
        }
        _ => match scalar(v) {
            Some(raw) => {
                let matchers = compile_value(&raw, &["contains".to_owned()], placeholders).map_err(|(k, m)| RuleError::new(pos(v), k, m))?;
                Ok(Search { groups: vec![vec![FieldTest { field: None, matchers, all: false }]] })
            }
            None => Err(RuleError::new(pos(v), "detection", "a search must be a mapping, a list or a value")),
        },
    }
}

fn parse_map(v: &MarkedYamlOwned, placeholders: &Placeholders) -> Result<Vec<FieldTest>, RuleError> {
    let YamlDataOwned::Mapping(map) = &v.data else { unreachable!("checked by the caller") };
    let mut tests = vec![];
    for (k, val) in map {
        let key = text(Some(k)).ok_or_else(|| RuleError::new(pos(k), "detection", "a field name must be text"))?;
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("").to_owned();
        let modifiers: Vec<String> = parts.map(str::to_owned).collect();
        let all = modifiers.iter().any(|m| m == "all");
        let values: Vec<&MarkedYamlOwned> = match &val.data {
            YamlDataOwned::Sequence(items) => items.iter().collect(),
            _ => vec![val],
        };
        let mut matchers = vec![];
        let mut per_value = vec![];
        for item in &values {
            let raw = scalar(item).ok_or_else(|| RuleError::new(pos(item), "detection", format!("`{key}`: values must be plain, not nested")))?;
            let ms = compile_value(&raw, &modifiers, placeholders).map_err(|(k, m)| RuleError::new(pos(item), k, format!("`{key}`: {m}")))?;
            per_value.push(ms.len());
            matchers.extend(ms);
        }
        if values.is_empty() {
            // `field: []` never matches; keep it explicit.
            tests.push(FieldTest { field: Some(field), matchers: vec![], all: false });
            continue;
        }
        if all && per_value.iter().any(|n| *n > 1) {
            // Each value with its variants must match: one test per value, ANDed.
            let mut at = 0;
            for n in per_value {
                tests.push(FieldTest { field: Some(field.clone()), matchers: matchers[at..at + n].to_vec(), all: false });
                at += n;
            }
            continue;
        }
        let field = if field.is_empty() { None } else { Some(field) };
        tests.push(FieldTest { field, matchers, all });
    }
    Ok(tests)
}

impl FieldTest {
    pub fn matches(&self, e: &Event) -> bool {
        match &self.field {
            Some(f) => {
                let (v, lower) = match e.get_with_lower(f) {
                    Some((v, l)) => (Some(v), l),
                    None => (None, None),
                };
                if self.all {
                    !self.matchers.is_empty() && self.matchers.iter().all(|m| m.matches(v, lower, e))
                } else {
                    self.matchers.iter().any(|m| m.matches(v, lower, e))
                }
            }
            // Keywords: any value of the event.
            None => {
                let test = |m: &Matcher| e.values_with_lower().any(|(v, l)| m.matches(Some(v), l, e));
                if self.all { self.matchers.iter().all(test) } else { self.matchers.iter().any(test) }
            }
        }
    }
}

impl Search {
    pub fn matches(&self, e: &Event) -> bool {
        self.groups.iter().any(|g| g.iter().all(|t| t.matches(e)))
    }
}

impl Rule {
    /// Evaluates the detection (the log source is checked by the engine).
    pub fn matches(&self, e: &Event) -> bool {
        // Each search is evaluated at most once: known and value bits for up to 64 searches.
        if self.searches.len() <= 64 {
            let (mut known, mut value) = (0u64, 0u64);
            return self.condition.eval(&mut |i| {
                let bit = 1u64 << i;
                if known & bit == 0 {
                    known |= bit;
                    if self.searches[i].matches(e) {
                        value |= bit;
                    }
                }
                value & bit != 0
            });
        }
        let mut memo: Vec<Option<bool>> = vec![None; self.searches.len()];
        self.condition.eval(&mut |i| *memo[i].get_or_insert_with(|| self.searches[i].matches(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(src: &str) -> Rule {
        parse_documents(src, &Placeholders::new()).unwrap().remove(0).rule.unwrap()
    }

    fn event(json: &str) -> Event<'_> {
        Event::from_json_str(json).unwrap()
    }

    const R: &str = r#"
title: Whoami
id: 11111111-1111-1111-1111-111111111111
level: high
logsource:
  product: windows
  category: process_creation
detection:
  selection_img:
    Image|endswith: '\whoami.exe'
  selection_cli:
    CommandLine|contains|all:
      - '/priv'
      - '/all'
  filter:
    User: null
  condition: selection_img or (selection_cli and not filter)
"#;

    #[test]
    fn maps_lists_null_and_all() {
        let r = rule(R);
        assert_eq!(r.level, Some(Level::High));
        assert!(r.matches(&event(r#"{"Image": "C:\\Windows\\System32\\WHOAMI.EXE"}"#)));
        assert!(r.matches(&event(r#"{"CommandLine": "x /all /priv", "User": "bob"}"#)));
        assert!(!r.matches(&event(r#"{"CommandLine": "x /all /priv"}"#)), "filter: User missing");
        assert!(!r.matches(&event(r#"{"CommandLine": "x /all", "User": "bob"}"#)));
    }

    #[test]
    fn list_of_maps_and_keywords() {
        let r = rule("title: t\ndetection:\n  sel:\n    - A: 1\n    - B: two\n  kw:\n    - 'evil'\n  condition: sel and kw\n");
        assert!(r.matches(&event(r#"{"B": "TWO", "C": "very evil thing"}"#)));
        assert!(!r.matches(&event(r#"{"A": 2, "C": "evil"}"#)));
        assert!(r.matches(&event(r#"{"A": 1, "C": "evil*"}"#)));
    }

    #[test]
    fn a_directive_at_the_very_end_is_refused_not_looped_on() {
        for src in ["a: 1\n%YAML", "%", "title: t\n%"] {
            let e = parse_documents(src, &Placeholders::new()).err().unwrap_or_else(|| panic!("{src:?} parses"));
            assert_eq!(e.kind, "yaml", "{src:?}");
        }
    }

    #[test]
    fn errors_carry_line_and_column() {
        let src = "title: t\ndetection:\n  sel:\n    A|sometimes: 1\n  condition: sel\n";
        let e = parse_documents(src, &Placeholders::new()).unwrap().remove(0).rule.unwrap_err();
        assert_eq!(e.kind, "unknown-modifier");
        assert_eq!(e.position, Position { line: 4, column: 18 });
        let e =
            parse_documents("title: t\ndetection:\n  sel:\n    A: 1\n  condition: sel and other\n", &Placeholders::new()).unwrap().remove(0).rule.unwrap_err();
        assert_eq!(e.kind, "condition");
        assert_eq!(e.position.line, 5);
        let e = parse_documents("title: [unclosed\n", &Placeholders::new()).err().unwrap();
        assert_eq!(e.kind, "yaml");
    }

    #[test]
    fn multi_document_collections() {
        let src = "action: global\ntitle: shared\ndetection:\n  condition: sel\n---\ndetection:\n  sel:\n    A: 1\n---\ndetection:\n  sel:\n    B: 2\n";
        let docs = parse_documents(src, &Placeholders::new()).unwrap();
        assert_eq!(docs.len(), 2);
        let r = docs[1].rule.as_ref().unwrap();
        assert_eq!(r.title, "shared");
        assert!(r.matches(&event(r#"{"B": 2}"#)));
    }
}
