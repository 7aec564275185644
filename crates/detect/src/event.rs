//! Events as the engine sees them: field name → value, flattened from JSON. Nested EVTX
//! layouts (`Event.System.EventID`, `Event.EventData.Image`) are also reachable by their
//! leaf names, as Sigma rules name them.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
}

impl Value {
    /// The text a string pattern is compared with.
    pub fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(std::borrow::Cow::Borrowed(s)),
            Value::Int(i) => Some(std::borrow::Cow::Owned(i.to_string())),
            Value::Float(f) => Some(std::borrow::Cow::Owned(f.to_string())),
            Value::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Null | Value::List(_) => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n.as_i64().map(Value::Int).unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            // Objects inside arrays are rare in logs; keep their text for keyword search.
            serde_json::Value::Object(_) => Value::Str(v.to_string()),
        }
    }
}

/// One event: its fields by name. The lower-case text of a field is computed once, when a
/// case-insensitive pattern first asks for it, and shared by every rule.
#[derive(Debug, Clone, Default)]
pub struct Event {
    index: HashMap<String, usize>,
    values: Vec<Value>,
    lower: Vec<std::cell::OnceCell<Option<String>>>,
}

/// Prefixes of nested layouts whose leaves are also reachable by their own names.
const LEAF_PREFIXES: [&str; 3] = ["Event.System.", "Event.EventData.", "Event.UserData."];

impl Event {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        match self.index.get(&name) {
            Some(&i) => {
                self.values[i] = value;
                self.lower[i] = std::cell::OnceCell::new();
            }
            None => {
                self.index.insert(name, self.values.len());
                self.values.push(value);
                self.lower.push(std::cell::OnceCell::new());
            }
        }
    }

    /// Inserts unless the field is there already.
    fn insert_new(&mut self, name: String, value: Value) {
        if !self.index.contains_key(&name) {
            self.insert(name, value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.index.get(name).map(|&i| &self.values[i])
    }

    /// The field's value and its lower-case text (for scalar values).
    pub fn get_with_lower(&self, name: &str) -> Option<(&Value, Option<&str>)> {
        let &i = self.index.get(name)?;
        let v = &self.values[i];
        let lower = self.lower[i].get_or_init(|| v.as_text().map(|t| t.to_lowercase()));
        Some((v, lower.as_deref()))
    }

    pub fn fields(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.index.iter().map(|(k, &i)| (k, &self.values[i]))
    }

    /// Every field value with its lower-case text, for keyword search.
    pub fn values_with_lower(&self) -> impl Iterator<Item = (&Value, Option<&str>)> {
        self.values.iter().zip(self.lower.iter()).map(|(v, l)| (v, l.get_or_init(|| v.as_text().map(|t| t.to_lowercase())).as_deref()))
    }

    /// Flattens a JSON object: `a.b.c` paths, plus leaf names for the EVTX layout
    /// (`Event.System.Provider.#attributes.Name` is also `Provider_Name`).
    pub fn from_json(v: &serde_json::Value) -> Event {
        let mut e = Event::new();
        if let serde_json::Value::Object(map) = v {
            let mut path = String::new();
            for (k, v) in map {
                flatten(&mut e, &mut path, k, v);
            }
        }
        e
    }

    pub fn from_json_str(s: &str) -> Result<Event, serde_json::Error> {
        Ok(Event::from_json(&serde_json::from_str(s)?))
    }
}

fn flatten(e: &mut Event, path: &mut String, key: &str, v: &serde_json::Value) {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                flatten(e, path, k, child);
            }
        }
        _ => {
            let value = Value::from_json(v);
            for prefix in LEAF_PREFIXES {
                if let Some(rest) = path.strip_prefix(prefix) {
                    // `UserData` wraps its fields in one element named after the event.
                    let rest = if prefix == "Event.UserData." { rest.split_once('.').map(|(_, r)| r).unwrap_or(rest) } else { rest };
                    let short = rest.replace(".#attributes.", "_").replace("#attributes.", "");
                    // Sigma writes field names without the spaces some providers use.
                    if short.contains(' ') {
                        e.insert_new(short.replace(' ', ""), value.clone());
                    }
                    e.insert_new(short, value.clone());
                }
            }
            e.insert(path.clone(), value);
        }
    }
    path.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested_shapes() {
        let e = Event::from_json_str(r#"{"EventID": 1, "Image": "C:\\a.exe"}"#).unwrap();
        assert_eq!(e.get("EventID"), Some(&Value::Int(1)));
        let e = Event::from_json_str(r##"{"Event": {"System": {"EventID": 7, "Provider": {"#attributes": {"Name": "Sysmon"}}}, "EventData": {"Image": "x"}}}"##).unwrap();
        assert_eq!(e.get("EventID"), Some(&Value::Int(7)));
        assert_eq!(e.get("Image"), Some(&Value::Str("x".into())));
        assert_eq!(e.get("Provider_Name"), Some(&Value::Str("Sysmon".into())));
        assert_eq!(e.get("Event.EventData.Image"), Some(&Value::Str("x".into())));
    }
}
