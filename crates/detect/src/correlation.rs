//! Sigma correlation rules: `event_count`, `value_count`, `temporal` and
//! `temporal_ordered` over the detections of other rules, grouped by fields, within a
//! time span. Events are fed in time order; memory per group is bounded and groups idle
//! longer than their time span are dropped.

use crate::event::{Event, Value};
use crate::{Position, RuleError};
use saphyr::{MarkedYamlOwned, YamlDataOwned};
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cond {
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Eq(f64),
}

impl Cond {
    fn holds(self, n: f64) -> bool {
        match self {
            Cond::Gt(v) => n > v,
            Cond::Gte(v) => n >= v,
            Cond::Lt(v) => n < v,
            Cond::Lte(v) => n <= v,
            Cond::Eq(v) => n == v,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Correlation {
    pub id: Option<String>,
    pub title: String,
    pub kind: Kind,
    /// The referenced rules, by id or name, in the order given.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    pub condition: Option<Cond>,
    /// For `value_count`: the field whose distinct values are counted.
    pub field: Option<String>,
    /// `aliases`: a `group-by` name → per referenced rule, the field it stands for in
    /// that rule's events (e.g. the source address of one rule is the destination of
    /// another).
    pub aliases: HashMap<String, HashMap<String, String>>,
}

impl Correlation {
    /// The field that holds `group`'s value in the events of referenced rule `rule`.
    fn group_field<'s>(&'s self, group: &'s str, rule: &str) -> &'s str {
        self.aliases.get(group).and_then(|m| m.get(rule)).map_or(group, String::as_str)
    }
}

fn pos(n: &MarkedYamlOwned) -> Position {
    Position { line: n.span.start.line(), column: n.span.start.col() + 1 }
}

fn text(n: &MarkedYamlOwned) -> Option<String> {
    match &n.data {
        YamlDataOwned::Value(saphyr::ScalarOwned::String(s)) => Some(s.clone()),
        YamlDataOwned::Value(saphyr::ScalarOwned::Integer(i)) => Some(i.to_string()),
        YamlDataOwned::Value(saphyr::ScalarOwned::FloatingPoint(f)) => Some(f.to_string()),
        YamlDataOwned::Representation(s, _, _) => Some(s.clone()),
        _ => None,
    }
}

fn list(n: Option<&MarkedYamlOwned>) -> Vec<String> {
    match n.map(|n| &n.data) {
        Some(YamlDataOwned::Sequence(items)) => items.iter().filter_map(text).collect(),
        Some(_) => n.and_then(text).into_iter().collect(),
        None => vec![],
    }
}

/// `30s`, `5m`, `1h`, `2d` in milliseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    (n > 0).then_some(n * ms)
}

/// Reads the `correlation` section of a rule document.
pub fn parse(doc: &MarkedYamlOwned) -> Result<Correlation, RuleError> {
    let get = |n: &MarkedYamlOwned, k: &str| n.data.as_mapping_get(k).cloned();
    let c = get(doc, "correlation").ok_or_else(|| RuleError::new(pos(doc), "missing", "no `correlation`"))?;
    let title = get(doc, "title").as_ref().and_then(text).ok_or_else(|| RuleError::new(pos(doc), "missing", "the rule has no `title`"))?;
    let kind_node = get(&c, "type").ok_or_else(|| RuleError::new(pos(&c), "correlation", "`correlation` has no `type`"))?;
    let kind = match text(&kind_node).as_deref() {
        Some("event_count") => Kind::EventCount,
        Some("value_count") => Kind::ValueCount,
        Some("temporal") => Kind::Temporal,
        Some("temporal_ordered") => Kind::TemporalOrdered,
        other => return Err(RuleError::new(pos(&kind_node), "correlation", format!("unknown correlation type `{}`", other.unwrap_or("")))),
    };
    let rules = list(get(&c, "rules").as_ref());
    if rules.is_empty() {
        return Err(RuleError::new(pos(&c), "correlation", "`rules` names no rule"));
    }
    let span_node = get(&c, "timespan").or_else(|| get(&c, "timeframe")).ok_or_else(|| RuleError::new(pos(&c), "correlation", "`timespan` is missing"))?;
    let timespan_ms = text(&span_node)
        .as_deref()
        .and_then(parse_timespan)
        .ok_or_else(|| RuleError::new(pos(&span_node), "correlation", "`timespan` must look like 30s, 5m, 1h or 2d"))?;
    let mut condition = None;
    let mut field = None;
    if let Some(cond) = get(&c, "condition")
        && let YamlDataOwned::Mapping(m) = &cond.data
    {
        for (k, v) in m {
            let key = text(k).unwrap_or_default();
            if key == "field" {
                field = text(v);
                continue;
            }
            let n: f64 = text(v).and_then(|t| t.parse().ok()).ok_or_else(|| RuleError::new(pos(v), "correlation", format!("`{key}` needs a number")))?;
            condition = Some(match key.as_str() {
                "gt" => Cond::Gt(n),
                "gte" => Cond::Gte(n),
                "lt" => Cond::Lt(n),
                "lte" => Cond::Lte(n),
                "eq" => Cond::Eq(n),
                other => return Err(RuleError::new(pos(k), "correlation", format!("unknown condition `{other}`"))),
            });
        }
    }
    if matches!(kind, Kind::EventCount | Kind::ValueCount) && condition.is_none() {
        return Err(RuleError::new(pos(&c), "correlation", "a count correlation needs a `condition` such as `gte: 10`"));
    }
    if kind == Kind::ValueCount && field.is_none() {
        return Err(RuleError::new(pos(&c), "correlation", "`value_count` needs `condition.field`"));
    }
    let group_by = list(get(&c, "group-by").as_ref());
    let mut aliases = HashMap::new();
    if let Some(node) = get(&c, "aliases") {
        let YamlDataOwned::Mapping(m) = &node.data else {
            return Err(RuleError::new(pos(&node), "correlation", "`aliases` must map each alias to `{rule: field}`"));
        };
        for (alias, per_rule) in m {
            let name = text(alias).ok_or_else(|| RuleError::new(pos(alias), "correlation", "an alias must be a name"))?;
            if !group_by.contains(&name) {
                return Err(RuleError::new(pos(alias), "correlation", format!("alias `{name}` is not in `group-by`")));
            }
            let YamlDataOwned::Mapping(fields) = &per_rule.data else {
                return Err(RuleError::new(pos(per_rule), "correlation", format!("alias `{name}` must map referenced rules to fields")));
            };
            let mut map = HashMap::new();
            for (rule, field) in fields {
                let rule_name = text(rule).ok_or_else(|| RuleError::new(pos(rule), "correlation", "a rule reference must be a name"))?;
                if !rules.contains(&rule_name) {
                    return Err(RuleError::new(pos(rule), "correlation", format!("alias `{name}` names `{rule_name}`, which is not in `rules`")));
                }
                let field = text(field).ok_or_else(|| RuleError::new(pos(field), "correlation", "a field name must be text"))?;
                map.insert(rule_name, field);
            }
            aliases.insert(name, map);
        }
    }
    Ok(Correlation { id: get(doc, "id").as_ref().and_then(text), title, kind, rules, group_by, timespan_ms, condition, field, aliases })
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub correlation: usize,
    pub group: Vec<String>,
    pub at_ms: i64,
    /// Events (or distinct values) counted, or rules seen.
    pub count: usize,
}

struct Seen {
    at_ms: i64,
    /// Index of the referenced rule (in the correlation's list).
    rule: usize,
    value: Option<String>,
}

/// Runs correlations over a time-ordered stream of base-rule detections.
pub struct Correlator {
    rules: Vec<Correlation>,
    state: HashMap<(usize, Vec<String>), VecDeque<Seen>>,
    /// Bound on the entries kept per group.
    max_per_group: usize,
    last_sweep: i64,
}

impl Correlator {
    pub fn new(rules: Vec<Correlation>) -> Self {
        Self { rules, state: HashMap::new(), max_per_group: 10_000, last_sweep: i64::MIN }
    }

    pub fn rules(&self) -> &[Correlation] {
        &self.rules
    }

    /// Feeds one event at `at_ms` that matched base rules known by these ids/names.
    pub fn feed(&mut self, at_ms: i64, matched: &[&str], event: &Event) -> Vec<Hit> {
        let mut hits = vec![];
        for (ci, c) in self.rules.iter().enumerate() {
            for (ri, r) in c.rules.iter().enumerate() {
                if !matched.contains(&r.as_str()) {
                    continue;
                }
                let group: Vec<String> =
                    c.group_by.iter().map(|g| event.get(c.group_field(g, r)).and_then(Value::as_text).map(|t| t.into_owned()).unwrap_or_default()).collect();
                let value = c.field.as_ref().and_then(|f| event.get(f).and_then(Value::as_text).map(|t| t.into_owned()));
                let q = self.state.entry((ci, group.clone())).or_default();
                q.push_back(Seen { at_ms, rule: ri, value });
                while q.front().is_some_and(|s| s.at_ms <= at_ms - c.timespan_ms) || q.len() > self.max_per_group {
                    q.pop_front();
                }
                let fired = match c.kind {
                    Kind::EventCount => c.condition.is_some_and(|k| k.holds(q.len() as f64)).then_some(q.len()),
                    Kind::ValueCount => {
                        let distinct: std::collections::HashSet<&str> = q.iter().filter_map(|s| s.value.as_deref()).collect();
                        c.condition.is_some_and(|k| k.holds(distinct.len() as f64)).then_some(distinct.len())
                    }
                    Kind::Temporal => {
                        let seen: std::collections::HashSet<usize> = q.iter().map(|s| s.rule).collect();
                        (seen.len() == c.rules.len()).then_some(seen.len())
                    }
                    Kind::TemporalOrdered => {
                        // The rules appear in their given order within the window.
                        let mut want = 0;
                        for s in q.iter() {
                            if s.rule == want {
                                want += 1;
                                if want == c.rules.len() {
                                    break;
                                }
                            }
                        }
                        (want == c.rules.len()).then_some(want)
                    }
                };
                if let Some(count) = fired {
                    hits.push(Hit { correlation: ci, group, at_ms, count });
                    // Fire once per window: start counting afresh.
                    q.clear();
                }
                break;
            }
        }
        // Drop idle groups now and then so memory follows the active groups only.
        if at_ms.saturating_sub(self.last_sweep) > 60_000 {
            self.last_sweep = at_ms;
            let rules = &self.rules;
            self.state.retain(|(ci, _), q| q.back().is_some_and(|s| s.at_ms > at_ms - rules[*ci].timespan_ms));
        }
        hits
    }

    /// Groups currently held (for tests and metrics).
    pub fn groups(&self) -> usize {
        self.state.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saphyr::LoadableYamlNode;

    fn corr(src: &str) -> Correlation {
        parse(&MarkedYamlOwned::load_from_str(src).unwrap().remove(0)).unwrap()
    }

    fn ev(user: &str, host: &str) -> Event<'static> {
        Event::from_json_str(&format!(r#"{{"User": "{user}", "Host": "{host}"}}"#)).unwrap().into_owned()
    }

    #[test]
    fn event_count_in_a_window_by_group() {
        let c = corr("title: brute\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 3}\n");
        let mut k = Correlator::new(vec![c]);
        assert!(k.feed(0, &["failed_logon"], &ev("a", "h")).is_empty());
        assert!(k.feed(10_000, &["failed_logon"], &ev("b", "h")).is_empty());
        assert!(k.feed(20_000, &["failed_logon"], &ev("a", "h")).is_empty());
        assert!(k.feed(70_000, &["failed_logon"], &ev("a", "h")).is_empty(), "the first one left the window");
        let hits = k.feed(75_000, &["failed_logon"], &ev("a", "h"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].group, vec!["a".to_owned()]);
        assert_eq!(hits[0].count, 3);
    }

    #[test]
    fn value_count_counts_distinct_values() {
        let c = corr(
            "title: spray\ncorrelation:\n  type: value_count\n  rules: [failed_logon]\n  group-by: [Host]\n  timespan: 5m\n  condition: {gte: 3, field: User}\n",
        );
        let mut k = Correlator::new(vec![c]);
        for u in ["a", "a", "b"] {
            assert!(k.feed(1, &["failed_logon"], &ev(u, "h")).is_empty());
        }
        assert_eq!(k.feed(2, &["failed_logon"], &ev("c", "h")).len(), 1);
    }

    #[test]
    fn temporal_and_ordered() {
        let t = corr("title: t\ncorrelation:\n  type: temporal\n  rules: [recon, exfil]\n  group-by: [Host]\n  timespan: 10m\n");
        let o = corr("title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [recon, exfil]\n  group-by: [Host]\n  timespan: 10m\n");
        let mut k = Correlator::new(vec![t, o]);
        assert!(k.feed(0, &["exfil"], &ev("u", "h")).is_empty());
        let hits = k.feed(1_000, &["recon"], &ev("u", "h"));
        assert_eq!(hits.iter().map(|h| h.correlation).collect::<Vec<_>>(), vec![0], "any order for temporal, not for ordered");
        let hits = k.feed(2_000, &["exfil"], &ev("u", "h"));
        assert_eq!(hits.iter().map(|h| h.correlation).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn aliases_join_different_fields_of_different_rules() {
        let c = corr(
            "title: tunnel\ncorrelation:\n  type: temporal\n  rules: [inbound, outbound]\n  group-by: [peer]\n  timespan: 1m\n  aliases:\n    peer:\n      inbound: Src\n      outbound: Dst\n",
        );
        let mut k = Correlator::new(vec![c]);
        let e = |src: &str, dst: &str| Event::from_json_str(&format!(r#"{{"Src": "{src}", "Dst": "{dst}"}}"#)).unwrap().into_owned();
        assert!(k.feed(0, &["inbound"], &e("10.0.0.5", "10.0.0.1")).is_empty());
        assert!(k.feed(1_000, &["outbound"], &e("10.0.0.1", "10.0.0.9")).is_empty(), "another peer");
        let hits = k.feed(2_000, &["outbound"], &e("10.0.0.1", "10.0.0.5"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].group, vec!["10.0.0.5".to_owned()]);
        for (bad, says) in [
            ("  aliases:\n    other:\n      inbound: Src\n", "not in `group-by`"),
            ("  aliases:\n    peer:\n      nope: Src\n", "not in `rules`"),
            ("  aliases: [x]\n", "`aliases` must map"),
        ] {
            let src = format!("title: t\ncorrelation:\n  type: temporal\n  rules: [inbound, outbound]\n  group-by: [peer]\n  timespan: 1m\n{bad}");
            let err = parse(&MarkedYamlOwned::load_from_str(&src).unwrap().remove(0)).unwrap_err();
            assert!(err.reason.contains(says), "{}", err.reason);
        }
    }

    #[test]
    fn bad_correlations_are_named() {
        let doc = MarkedYamlOwned::load_from_str("title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5 minutes\n  condition: {gte: 1}\n")
            .unwrap()
            .remove(0);
        let e = parse(&doc).unwrap_err();
        assert_eq!(e.position.line, 5);
        assert!(e.reason.contains("timespan"));
        assert_eq!(parse_timespan("90s"), Some(90_000));
        assert_eq!(parse_timespan("0m"), None);
    }

    #[test]
    fn idle_groups_are_dropped() {
        let c = corr("title: b\ncorrelation:\n  type: event_count\n  rules: [r]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 100}\n");
        let mut k = Correlator::new(vec![c]);
        for i in 0..1000 {
            k.feed(i, &["r"], &ev(&format!("u{i}"), "h"));
        }
        assert_eq!(k.groups(), 1000);
        k.feed(10 * 60_000, &["r"], &ev("late", "h"));
        assert_eq!(k.groups(), 1, "memory follows the active groups");
    }
}
