//! Events as the engine sees them: field name → value, flattened from JSON. Nested EVTX
//! layouts (`Event.System.EventID`, `Event.EventData.Image`) are also reachable by their
//! leaf names, as Sigma rules name them.
//!
//! An event borrows its text from the JSON it was read from wherever the JSON needs no
//! unescaping, and keeps the lower-case text of all its scalar values in one buffer, so
//! reading an event allocates a handful of times rather than once per field.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    List(Vec<Value<'a>>),
}

impl<'a> Value<'a> {
    /// The text a string pattern is compared with.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(f.to_string())),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
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

    /// The same value, owning its text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::List(l) => Value::List(l.into_iter().map(Value::into_owned).collect()),
        }
    }

    fn from_json(v: &'a serde_json::Value) -> Value<'a> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n.as_i64().map(Value::Int).unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Value::Str(Cow::Borrowed(s)),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            // Objects inside arrays are rare in logs; keep their text for keyword search.
            serde_json::Value::Object(_) => Value::Str(Cow::Owned(v.to_string())),
        }
    }
}

type Hasher = foldhash::fast::RandomState;

/// Marks a value without lower-case text (null, a list).
const NO_TEXT: (u32, u32) = (u32::MAX, 0);

/// One event: its fields by name, and the lower-case text of each scalar value.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    index: HashMap<Cow<'a, str>, u32, Hasher>,
    values: Vec<Value<'a>>,
    /// Per value: its lower-case text as a range of `lower_text`.
    lower: Vec<(u32, u32)>,
    lower_text: String,
}

/// A JSON text that is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(String);

/// Prefixes of nested layouts whose leaves are also reachable by their own names.
const LEAF_PREFIXES: [&str; 3] = ["Event.System.", "Event.EventData.", "Event.UserData."];

impl<'a> Event<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// An event with room for `fields` fields and `text` bytes of text.
    pub fn with_capacity(fields: usize, text: usize) -> Self {
        Event {
            index: HashMap::with_capacity_and_hasher(fields, Hasher::default()),
            values: Vec::with_capacity(fields),
            lower: Vec::with_capacity(fields),
            lower_text: String::with_capacity(text),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn insert(&mut self, name: impl Into<Cow<'a, str>>, value: Value<'a>) {
        let name = name.into();
        let lower = self.lower_of(&value);
        match self.index.get(&*name) {
            Some(&i) => {
                self.values[i as usize] = value;
                self.lower[i as usize] = lower;
            }
            None => {
                self.index.insert(name, self.values.len() as u32);
                self.values.push(value);
                self.lower.push(lower);
            }
        }
    }

    /// Appends the value's lower-case text to the buffer.
    fn lower_of(&mut self, v: &Value<'_>) -> (u32, u32) {
        let start = self.lower_text.len();
        match v {
            Value::Str(s) => push_lower(&mut self.lower_text, s),
            Value::Int(i) => {
                use std::fmt::Write;
                let _ = write!(self.lower_text, "{i}");
            }
            Value::Float(f) => {
                use std::fmt::Write;
                let _ = write!(self.lower_text, "{f}");
            }
            Value::Bool(b) => self.lower_text.push_str(if *b { "true" } else { "false" }),
            Value::Null | Value::List(_) => return NO_TEXT,
        }
        (start as u32, self.lower_text.len() as u32)
    }

    fn lower_at(&self, i: usize) -> Option<&str> {
        let (s, e) = self.lower[i];
        (s != NO_TEXT.0).then(|| &self.lower_text[s as usize..e as usize])
    }

    /// Inserts unless the field is there already.
    fn insert_new(&mut self, name: Cow<'a, str>, value: Value<'a>) {
        if !self.index.contains_key(&*name) {
            self.insert(name, value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.index.get(name).map(|&i| &self.values[i as usize])
    }

    /// The field's value and its lower-case text (for scalar values).
    pub fn get_with_lower(&self, name: &str) -> Option<(&Value<'a>, Option<&str>)> {
        let &i = self.index.get(name)?;
        Some((&self.values[i as usize], self.lower_at(i as usize)))
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.index.iter().map(|(k, &i)| (&**k, &self.values[i as usize]))
    }

    /// Every field with its value and lower-case text.
    pub fn fields_with_lower(&self) -> impl Iterator<Item = (&str, &Value<'a>, Option<&str>)> {
        self.index.iter().map(|(k, &i)| (&**k, &self.values[i as usize], self.lower_at(i as usize)))
    }

    /// The lower-case text of every scalar value, one after the other (and of values
    /// since replaced): a superset of what keyword search looks at, for prefiltering.
    pub fn all_lower_text(&self) -> &str {
        &self.lower_text
    }

    /// Every field value with its lower-case text, for keyword search.
    pub fn values_with_lower(&self) -> impl Iterator<Item = (&Value<'a>, Option<&str>)> {
        self.values.iter().enumerate().map(|(i, v)| (v, self.lower_at(i)))
    }

    /// Flattens a JSON object: `a.b.c` paths, plus leaf names for the EVTX layout
    /// (`Event.System.Provider.#attributes.Name` is also `Provider_Name`).
    pub fn from_json(v: &'a serde_json::Value) -> Event<'a> {
        let mut e = Event::new();
        if let serde_json::Value::Object(map) = v {
            let mut path = String::new();
            for (k, v) in map {
                flatten(&mut e, &mut path, k, v);
            }
        }
        e
    }

    /// Reads one JSON object (a line of a JSON-lines file) without building a tree:
    /// fields go straight into the event, borrowing the text where they can.
    pub fn from_json_bytes(json: &'a [u8]) -> Result<Event<'a>, EventError> {
        let mut e = Event::with_capacity(32, json.len());
        e.read_json(json, None)?;
        Ok(e)
    }

    /// Empties the event, keeping its memory for the next one.
    pub fn clear(&mut self) {
        self.index.clear();
        self.values.clear();
        self.lower.clear();
        self.lower_text.clear();
    }

    /// Replaces the event's fields with those of one JSON object. Text that needs
    /// unescaping goes into `arena` when one is given (so that reading many events
    /// allocates only when the arena grows), otherwise into strings of its own.
    pub fn read_json(&mut self, json: &'a [u8], arena: Option<&'a bumpalo::Bump>) -> Result<(), EventError> {
        self.clear();
        let mut de = sonic_rs::Deserializer::from_slice(json);
        de.deserialize_any(Node { event: self, arena, path: None }).map_err(|err| EventError(err.to_string()))?;
        de.end().map_err(|err| EventError(err.to_string()))
    }

    pub fn from_json_str(s: &'a str) -> Result<Event<'a>, EventError> {
        Event::from_json_bytes(s.as_bytes())
    }

    /// The same event, owning all its text.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            index: self.index.into_iter().map(|(k, i)| (Cow::Owned(k.into_owned()), i)).collect(),
            values: self.values.into_iter().map(Value::into_owned).collect(),
            lower: self.lower,
            lower_text: self.lower_text,
        }
    }

    /// Inserts a leaf at `path`, and under its short name when it sits in the EVTX layout.
    fn insert_leaf(&mut self, path: Cow<'a, str>, value: Value<'a>) {
        if path.starts_with("Event.") {
            for prefix in LEAF_PREFIXES {
                if let Some(rest) = path.strip_prefix(prefix) {
                    // `UserData` wraps its fields in one element named after the event.
                    let rest = if prefix == "Event.UserData." { rest.split_once('.').map(|(_, r)| r).unwrap_or(rest) } else { rest };
                    let short = rest.replace(".#attributes.", "_").replace("#attributes.", "");
                    // Sigma writes field names without the spaces some providers use.
                    if short.contains(' ') {
                        self.insert_new(Cow::Owned(short.replace(' ', "")), value.clone());
                    }
                    self.insert_new(Cow::Owned(short), value.clone());
                }
            }
        }
        self.insert(path, value);
    }
}

/// Lower-cases `s` onto `out`: copied, then lowered in place when it is ASCII.
fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        for c in s.chars() {
            out.extend(c.to_lowercase());
        }
    }
}

fn flatten<'a>(e: &mut Event<'a>, path: &mut String, key: &'a str, v: &'a serde_json::Value) {
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
            let name = if len == 0 { Cow::Borrowed(key) } else { Cow::Owned(path.clone()) };
            e.insert_leaf(name, Value::from_json(v));
        }
    }
    path.truncate(len);
}

// Reading JSON straight into an event. `Node` is one JSON value at a path: a scalar or a
// list becomes a field, an object's members become fields under `path.`.

struct Node<'e, 'a> {
    event: &'e mut Event<'a>,
    arena: Option<&'a bumpalo::Bump>,
    /// `None` for the top-level value.
    path: Option<Cow<'a, str>>,
}

impl<'e, 'a> DeserializeSeed<'a> for Node<'e, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'e, 'a> Node<'e, 'a> {
    fn item(&self) -> Item<'a> {
        Item { arena: self.arena }
    }

    fn leaf<E: serde::de::Error>(self, v: Value<'a>) -> Result<(), E> {
        match self.path {
            Some(p) => {
                self.event.insert_leaf(p, v);
                Ok(())
            }
            None => Err(E::custom("an event must be a JSON object")),
        }
    }
}

impl<'e, 'a> Visitor<'a> for Node<'e, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    // Scalars and lists are read as list items are, then stored at the path.
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        let v = self.item().visit_bool(v)?;
        self.leaf(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        let v = self.item().visit_i64(v)?;
        self.leaf(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        let v = self.item().visit_u64(v)?;
        self.leaf(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        let v = self.item().visit_f64(v)?;
        self.leaf(v)
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'a str) -> Result<(), E> {
        let v = self.item().visit_borrowed_str(v)?;
        self.leaf(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        let v = self.item().visit_str(v)?;
        self.leaf(v)
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<(), E> {
        let v = self.item().visit_string(v)?;
        self.leaf(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.leaf(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.leaf(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'a>>(self, seq: A) -> Result<(), A::Error> {
        let v = self.item().visit_seq(seq)?;
        self.leaf(v)
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key()? {
            let path = match &self.path {
                None => k,
                Some(p) => Cow::Owned(format!("{p}.{k}")),
            };
            map.next_value_seed(Node { event: self.event, arena: self.arena, path: Some(path) })?;
        }
        Ok(())
    }
}

/// A map key, borrowed from the input when it needs no unescaping.
struct Key<'a>(Cow<'a, str>);

impl<'a> serde::Deserialize<'a> for Key<'a> {
    fn deserialize<D: Deserializer<'a>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'a> Visitor<'a> for V {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'a str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An element of a list: scalars as they are, objects as their JSON text. Text that
/// needs unescaping goes into the arena when there is one.
#[derive(Clone, Copy)]
struct Item<'a> {
    arena: Option<&'a bumpalo::Bump>,
}

impl<'a> DeserializeSeed<'a> for Item<'a> {
    type Value = Value<'a>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Value<'a>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'a> Visitor<'a> for Item<'a> {
    type Value = Value<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value<'a>, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value<'a>, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value<'a>, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value<'a>, E> {
        Ok(Value::Float(v))
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'a str) -> Result<Value<'a>, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value<'a>, E> {
        Ok(Value::Str(match self.arena {
            Some(a) => Cow::Borrowed(&*a.alloc_str(v)),
            None => Cow::Owned(v.to_owned()),
        }))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value<'a>, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value<'a>, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value<'a>, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<Value<'a>, A::Error> {
        let mut items = vec![];
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'a>>(self, map: A) -> Result<Value<'a>, A::Error> {
        let v: serde_json::Value = serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Value::Str(Cow::Owned(v.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested_shapes() {
        let e = Event::from_json_str(r#"{"EventID": 1, "Image": "C:\\a.exe"}"#).unwrap();
        assert_eq!(e.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(e.get_with_lower("Image").unwrap().1, Some("c:\\a.exe"));
        let e =
            Event::from_json_str(r##"{"Event": {"System": {"EventID": 7, "Provider": {"#attributes": {"Name": "Sysmon"}}}, "EventData": {"Image": "x"}}}"##)
                .unwrap();
        assert_eq!(e.get("EventID"), Some(&Value::Int(7)));
        assert_eq!(e.get("Image"), Some(&Value::Str("x".into())));
        assert_eq!(e.get("Provider_Name"), Some(&Value::Str("Sysmon".into())));
        assert_eq!(e.get("Event.EventData.Image"), Some(&Value::Str("x".into())));
    }

    #[test]
    fn reading_bytes_agrees_with_the_tree() {
        let text = r##"{"a": "Ä\"b", "n": null, "l": [1, "X", {"k": 2}], "big": 18446744073709551615, "f": 1.5, "t": true,
            "Event": {"System": {"Provider": {"#attributes": {"Name": "P"}}}, "UserData": {"Op": {"Some Field": "v"}}}}"##;
        let tree: serde_json::Value = serde_json::from_str(text).unwrap();
        let a = Event::from_json(&tree);
        let b = Event::from_json_str(text).unwrap();
        let mut fa: Vec<_> = a.fields_with_lower().map(|(k, v, l)| (k.to_owned(), v.clone(), l.map(str::to_owned))).collect();
        let mut fb: Vec<_> = b.fields_with_lower().map(|(k, v, l)| (k.to_owned(), v.clone(), l.map(str::to_owned))).collect();
        fa.sort_by(|x, y| x.0.cmp(&y.0));
        fb.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(fa, fb);
        assert_eq!(b.get_with_lower("a").unwrap().1, Some("ä\"b"));
        assert_eq!(b.get("SomeField"), Some(&Value::Str("v".into())));
        assert_eq!(b.get("Provider_Name"), Some(&Value::Str("P".into())));
    }

    #[test]
    fn what_is_not_an_event_is_refused() {
        for bad in ["[1]", "\"x\"", "{\"a\": }", "{\"a\": 1} x", ""] {
            assert!(Event::from_json_str(bad).is_err(), "{bad}");
        }
    }
}
