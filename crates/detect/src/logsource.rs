//! Log-source mappings: which events a rule's `logsource` (product, category, service)
//! means, written as field constraints (for Windows: Channel and EventID), plus field
//! aliases for sources that name a field differently. The shipped Windows mapping is
//! `mappings/windows.yml`; users add their own files in the same format.

use crate::event::Event;
use crate::rule::LogSource;
use crate::{Position, RuleError};
use saphyr::{MarkedYamlOwned, YamlDataOwned};
use std::collections::HashMap;

/// Events whose fields hold one of the listed values, for every listed field. Values
/// compare case-insensitively (they are kept in lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alt(pub Vec<(String, Vec<String>)>);

impl Alt {
    pub fn matches(&self, e: &Event) -> bool {
        self.0.iter().all(|(f, vals)| match e.get_with_lower(f) {
            Some((_, Some(t))) => vals.iter().any(|v| v == t),
            _ => false,
        })
    }
}

/// Any of these alternatives.
pub type Constraint = Vec<Alt>;

#[derive(Debug, Clone, Default)]
pub struct ProductMap {
    services: HashMap<String, Constraint>,
    categories: HashMap<String, Constraint>,
    aliases: Vec<(Alt, Vec<(String, String)>)>,
}

#[derive(Debug, Clone, Default)]
pub struct LogSourceMap {
    products: HashMap<String, ProductMap>,
}

pub const WINDOWS: &str = include_str!("../mappings/windows.yml");

fn text(n: &MarkedYamlOwned) -> Option<String> {
    match &n.data {
        YamlDataOwned::Value(v) => Some(match v {
            saphyr::ScalarOwned::String(s) => s.clone(),
            saphyr::ScalarOwned::Integer(i) => i.to_string(),
            saphyr::ScalarOwned::Boolean(b) => b.to_string(),
            saphyr::ScalarOwned::FloatingPoint(f) => f.to_string(),
            saphyr::ScalarOwned::Null => return None,
        }),
        YamlDataOwned::Representation(s, _, _) => Some(s.clone()),
        _ => None,
    }
}

fn err(n: &MarkedYamlOwned, msg: &str) -> RuleError {
    RuleError::new(Position { line: n.span.start.line(), column: n.span.start.col() + 1 }, "mapping", msg)
}

fn alt(n: &MarkedYamlOwned) -> Result<Alt, RuleError> {
    let YamlDataOwned::Mapping(m) = &n.data else { return Err(err(n, "expected `{Field: [values]}`")) };
    let mut out = vec![];
    for (k, v) in m {
        let field = text(k).ok_or_else(|| err(k, "a field name must be text"))?;
        let values = match &v.data {
            YamlDataOwned::Sequence(items) => items.iter().map(|i| text(i).ok_or_else(|| err(i, "values must be plain"))).collect::<Result<_, _>>()?,
            _ => vec![text(v).ok_or_else(|| err(v, "values must be plain"))?],
        };
        out.push((field, values.into_iter().map(|v: String| v.to_lowercase()).collect()));
    }
    Ok(Alt(out))
}

fn constraint(n: &MarkedYamlOwned) -> Result<Constraint, RuleError> {
    match &n.data {
        YamlDataOwned::Sequence(items) => items.iter().map(alt).collect(),
        _ => Ok(vec![alt(n)?]),
    }
}

impl LogSourceMap {
    /// The shipped mappings.
    pub fn builtin() -> Self {
        let mut m = LogSourceMap::default();
        #[allow(clippy::expect_used, reason = "the shipped file is compiled in and tested: it always parses")]
        m.add(WINDOWS).expect("the shipped Windows mapping parses");
        m
    }

    /// Adds (or extends) a product's mapping from YAML text.
    pub fn add(&mut self, src: &str) -> Result<(), RuleError> {
        let docs = crate::rule::load_yaml(src)
            .map_err(|e| RuleError::new(Position { line: e.marker().line(), column: e.marker().col() + 1 }, "yaml", e.info().to_owned()))?;
        for doc in docs {
            let product = doc.data.as_mapping_get("product").and_then(text).ok_or_else(|| err(&doc, "a mapping needs `product`"))?;
            let p = self.products.entry(product.to_lowercase()).or_default();
            for (section, target) in [("services", &mut p.services), ("categories", &mut p.categories)] {
                if let Some(YamlDataOwned::Mapping(m)) = doc.data.as_mapping_get(section).map(|n| &n.data) {
                    for (k, v) in m {
                        target.insert(text(k).ok_or_else(|| err(k, "a name must be text"))?.to_lowercase(), constraint(v)?);
                    }
                }
            }
            if let Some(YamlDataOwned::Sequence(items)) = doc.data.as_mapping_get("aliases").map(|n| &n.data) {
                for item in items {
                    let when = item.data.as_mapping_get("when").ok_or_else(|| err(item, "an alias needs `when`"))?;
                    let Some(YamlDataOwned::Mapping(fields)) = item.data.as_mapping_get("fields").map(|n| &n.data) else {
                        return Err(err(item, "an alias needs `fields`"));
                    };
                    let pairs = fields.iter().filter_map(|(k, v)| Some((text(k)?, text(v)?))).collect();
                    p.aliases.push((alt(when)?, pairs));
                }
            }
        }
        Ok(())
    }

    /// The events a rule's log source means: `None` when nothing narrows it (an unknown
    /// product, or no category or service given).
    pub fn constraint(&self, ls: &LogSource) -> Option<Constraint> {
        let p = self.products.get(ls.product.as_deref()?)?;
        let cat = ls.category.as_ref().and_then(|c| p.categories.get(c));
        let svc = ls.service.as_ref().and_then(|s| p.services.get(s));
        match (cat, svc) {
            (None, None) => None,
            (Some(c), None) => Some(c.clone()),
            (None, Some(s)) => Some(s.clone()),
            // Both: each category alternative narrowed by the service's fields.
            (Some(c), Some(s)) => Some(c.iter().flat_map(|ca| s.iter().map(move |sa| Alt(ca.0.iter().chain(sa.0.iter()).cloned().collect()))).collect()),
        }
    }

    /// Adds the aliased field names an event's source calls for.
    pub fn apply_aliases(&self, e: &mut Event) {
        for p in self.products.values() {
            for (when, fields) in &p.aliases {
                if when.matches(e) {
                    for (sigma, actual) in fields {
                        if e.get(sigma).is_none()
                            && let Some(v) = e.get(actual).cloned()
                        {
                            e.insert(sigma.clone(), v);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Value;

    #[test]
    fn windows_categories_and_services() {
        let m = LogSourceMap::builtin();
        let ls = LogSource { product: Some("windows".into()), category: Some("process_creation".into()), service: None };
        let c = m.constraint(&ls).unwrap();
        let sysmon = Event::from_json_str(r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}"#).unwrap();
        let other = Event::from_json_str(r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 3}"#).unwrap();
        assert!(c.iter().any(|a| a.matches(&sysmon)));
        assert!(!c.iter().any(|a| a.matches(&other)));
        let ls = LogSource { product: Some("linux".into()), category: Some("process_creation".into()), service: None };
        assert!(m.constraint(&ls).is_none());
    }

    #[test]
    fn aliases_fill_sigma_names() {
        let m = LogSourceMap::builtin();
        let mut e = Event::from_json_str(r#"{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\x.exe"}"#).unwrap();
        m.apply_aliases(&mut e);
        assert_eq!(e.get("Image"), Some(&Value::Str("C:\\x.exe".into())));
    }
}
