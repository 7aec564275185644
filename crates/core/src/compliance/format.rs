//! The documented import formats of frameworks and of mappings between frameworks, in
//! YAML or CSV. Every problem names its line (line 1 of a CSV file is its header); a
//! file with any problem imports nothing. `docs/frameworks.md` describes both formats.

use crate::FieldError;
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use std::collections::HashMap;

/// A problem and the line it is on.
pub type LineError = (u64, FieldError);

/// What a YAML framework file says about the framework itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameworkHead {
    pub code: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub description: String,
}

/// One requirement of a framework file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementRow {
    pub line: u64,
    pub reference: String,
    pub parent: Option<String>,
    pub title: String,
    pub title_ja: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkFile {
    /// Present in YAML files; a CSV file names its framework in the import form.
    pub head: Option<FrameworkHead>,
    pub rows: Vec<RequirementRow>,
}

/// One mapping between requirements of two frameworks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub line: u64,
    pub from_framework: String,
    pub from_ref: String,
    pub to_framework: String,
    pub to_ref: String,
    pub relation: super::Relation,
}

pub const REQUIREMENT_COLUMNS: [&str; 5] = ["ref", "parent", "title", "title_ja", "description"];
pub const MAPPING_COLUMNS: [&str; 5] = ["from_framework", "from_ref", "to_framework", "to_ref", "relation"];

/// A framework's code: lower-case letters, digits, `.`, `-` and `_`, 2 to 40 characters
/// (`iso27001-2022`).
pub fn parse_framework_code(s: &str) -> Result<String, FieldError> {
    let s = s.trim().to_ascii_lowercase();
    let ok = (2..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok { Ok(s) } else { Err(FieldError::coded("code", "framework-code", "use 2 to 40 letters, digits, `.`, `-` or `_`")) }
}

/// A requirement's reference (`A.5.1`, `GV.OC-01`): 1 to 64 characters without spaces.
pub fn parse_reference(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::coded(field, "required", "is required"));
    }
    if s.chars().count() > 64 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::coded(field, "requirement-ref", "use at most 64 characters and no spaces"));
    }
    Ok(s.to_owned())
}

fn limited(field: &str, s: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let s = s.trim();
    if required && s.is_empty() {
        return Err(FieldError::coded(field, "required", "is required"));
    }
    if s.chars().count() > max {
        return Err(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
    }
    Ok(s.to_owned())
}

fn is_yaml(file_name: &str) -> bool {
    let n = file_name.to_ascii_lowercase();
    n.ends_with(".yaml") || n.ends_with(".yml")
}

fn unreadable(file_name: &str) -> Vec<LineError> {
    vec![(0, FieldError::coded("file", "import-format", format!("`{file_name}`: use a .yaml, .yml or .csv file")).arg("value", file_name))]
}

/// Parses a framework file: YAML (with its head) or CSV (requirements only).
pub fn parse_framework(file_name: &str, data: &[u8]) -> Result<FrameworkFile, Vec<LineError>> {
    let text = std::str::from_utf8(data).map_err(|_| vec![(0, FieldError::coded("file", "not-utf8", "is not UTF-8 text"))])?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = file_name.to_ascii_lowercase();
    let file = if is_yaml(file_name) {
        framework_yaml(text)?
    } else if lower.ends_with(".csv") {
        FrameworkFile { head: None, rows: rows_csv(text, &REQUIREMENT_COLUMNS, &["ref", "title"], requirement_from)? }
    } else {
        return Err(unreadable(file_name));
    };
    let mut errors = check_rows(&file.rows);
    if file.rows.is_empty() {
        errors.push((1, FieldError::coded("requirements", "no-requirements", "the file holds no requirements")));
    }
    if errors.is_empty() { Ok(file) } else { Err(errors) }
}

/// References are unique and every parent comes before its children, so the file is a
/// tree in reading order. A parent that is not in the file must already exist; that is
/// checked where the framework is known.
fn check_rows(rows: &[RequirementRow]) -> Vec<LineError> {
    let mut errors = vec![];
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for r in rows {
        if let Some(first) = seen.get(r.reference.as_str()) {
            errors.push((
                r.line,
                FieldError::coded("ref", "duplicate-ref", format!("`{}` is already on line {first}", r.reference))
                    .arg("value", r.reference.clone())
                    .arg("line", first.to_string()),
            ));
            continue;
        }
        if r.parent.as_deref() == Some(r.reference.as_str()) {
            errors.push((r.line, FieldError::coded("parent", "parent-self", "a requirement cannot be its own parent")));
        }
        seen.insert(&r.reference, r.line);
    }
    for r in rows {
        if let Some(p) = &r.parent
            && let Some(pl) = seen.get(p.as_str())
            && *pl > r.line
        {
            errors
                .push((r.line, FieldError::coded("parent", "parent-later", format!("the parent `{p}` must come before its children")).arg("value", p.clone())));
        }
    }
    errors
}

/// Parses a file of mappings between frameworks.
pub fn parse_mappings(file_name: &str, data: &[u8]) -> Result<Vec<MappingRow>, Vec<LineError>> {
    let text = std::str::from_utf8(data).map_err(|_| vec![(0, FieldError::coded("file", "not-utf8", "is not UTF-8 text"))])?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = if is_yaml(file_name) {
        let doc = load_yaml(text)?;
        let list = doc.data.as_mapping_get("mappings").ok_or_else(|| vec![(line_of(&doc), FieldError::coded("mappings", "required", "is required"))])?;
        sequence_rows(list, "mappings", &MAPPING_COLUMNS, mapping_from)?
    } else if file_name.to_ascii_lowercase().ends_with(".csv") {
        rows_csv(text, &MAPPING_COLUMNS, &MAPPING_COLUMNS, mapping_from)?
    } else {
        return Err(unreadable(file_name));
    };
    if rows.is_empty() {
        return Err(vec![(1, FieldError::coded("mappings", "no-mappings", "the file holds no mappings"))]);
    }
    Ok(rows)
}

type Cells<'a> = HashMap<&'a str, String>;

fn requirement_from(line: u64, c: &Cells) -> Result<RequirementRow, Vec<FieldError>> {
    let mut errors = vec![];
    let get = |k: &str| c.get(k).map(String::as_str).unwrap_or("");
    let reference = parse_reference("ref", get("ref")).map_err(|e| errors.push(e)).unwrap_or_default();
    let parent = match get("parent").trim() {
        "" => None,
        p => parse_reference("parent", p).map_err(|e| errors.push(e)).ok(),
    };
    let title = limited("title", get("title"), 500, true).map_err(|e| errors.push(e)).unwrap_or_default();
    let title_ja = limited("title_ja", get("title_ja"), 500, false).map_err(|e| errors.push(e)).unwrap_or_default();
    let description = limited("description", get("description"), 8000, false).map_err(|e| errors.push(e)).unwrap_or_default();
    if errors.is_empty() { Ok(RequirementRow { line, reference, parent, title, title_ja, description }) } else { Err(errors) }
}

fn mapping_from(line: u64, c: &Cells) -> Result<MappingRow, Vec<FieldError>> {
    let mut errors = vec![];
    let get = |k: &str| c.get(k).map(String::as_str).unwrap_or("");
    let mut code = |k: &'static str| parse_framework_code(get(k)).map_err(|e| errors.push(FieldError { field: k.into(), ..e })).unwrap_or_default();
    let from_framework = code("from_framework");
    let to_framework = code("to_framework");
    let from_ref = parse_reference("from_ref", get("from_ref")).map_err(|e| errors.push(e)).unwrap_or_default();
    let to_ref = parse_reference("to_ref", get("to_ref")).map_err(|e| errors.push(e)).unwrap_or_default();
    let relation = super::Relation::parse(get("relation")).map_err(|e| errors.push(e)).unwrap_or(super::Relation::Intersects);
    if errors.is_empty() { Ok(MappingRow { line, from_framework, from_ref, to_framework, to_ref, relation }) } else { Err(errors) }
}

fn rows_csv<T>(text: &str, columns: &[&str], required: &[&str], make: impl Fn(u64, &Cells) -> Result<T, Vec<FieldError>>) -> Result<Vec<T>, Vec<LineError>> {
    // Excel's "CSV UTF-8" (and the product's own exports) begin with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| vec![(1, FieldError::new("header", e.to_string()))])?.clone();
    let mut errors = vec![];
    for h in headers.iter() {
        if !columns.contains(&h) {
            errors.push((
                1,
                FieldError::coded(h, "column-unknown", format!("unknown column; expected {}", columns.join(", "))).arg("expected", columns.join(", ")),
            ));
        }
    }
    for r in required {
        if !headers.iter().any(|h| h == *r) {
            errors.push((1, FieldError::coded(*r, "column-missing", "column is missing")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = vec![];
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push((e.position().map(|p| p.line()).unwrap_or(0), FieldError::new("row", e.to_string())));
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let cells: Cells = headers.iter().zip(rec.iter()).map(|(h, v)| (h, crate::text::typed(v).to_owned())).collect();
        match make(line, &cells) {
            Ok(v) => out.push(v),
            Err(es) => errors.extend(es.into_iter().map(|e| (line, e))),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Loads one YAML document. A final line break is added first: without one, the YAML
/// scanner (saphyr-parser 0.0.12) loops for ever on a `%` directive at the very end.
fn load_yaml(text: &str) -> Result<MarkedYamlOwned, Vec<LineError>> {
    let owned;
    let text = if text.ends_with('\n') {
        text
    } else {
        owned = format!("{text}\n");
        &owned
    };
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| {
        vec![(
            e.marker().line() as u64,
            FieldError::coded("file", "yaml", format!("not valid YAML (column {}): {}", e.marker().col() + 1, e.info())).arg("value", e.info().to_owned()),
        )]
    })?;
    let mut docs = docs.into_iter().filter(|d| !matches!(d.data, YamlDataOwned::Value(ScalarOwned::Null)));
    match (docs.next(), docs.next()) {
        (Some(d), None) if matches!(d.data, YamlDataOwned::Mapping(_)) => Ok(d),
        (Some(d), None) => Err(vec![(line_of(&d), FieldError::coded("file", "yaml-mapping", "the file must be a mapping of keys to values"))]),
        (None, _) => Err(vec![(1, FieldError::coded("file", "no-requirements", "the file is empty"))]),
        (Some(_), Some(d)) => Err(vec![(line_of(&d), FieldError::coded("file", "yaml-one-document", "the file must hold one YAML document"))]),
    }
}

fn line_of(n: &MarkedYamlOwned) -> u64 {
    n.span.start.line() as u64
}

/// A scalar as text. A number that YAML reads as a decimal (`5.10` reads as 5.1) is
/// refused: a reference must keep its digits, so it has to be quoted.
fn scalar_text(field: &str, n: &MarkedYamlOwned) -> Result<String, FieldError> {
    match &n.data {
        YamlDataOwned::Value(ScalarOwned::String(s)) => Ok(s.clone()),
        YamlDataOwned::Value(ScalarOwned::Integer(i)) => Ok(i.to_string()),
        YamlDataOwned::Value(ScalarOwned::Boolean(b)) => Ok(b.to_string()),
        YamlDataOwned::Value(ScalarOwned::Null) => Ok(String::new()),
        YamlDataOwned::Value(ScalarOwned::FloatingPoint(_)) => Err(FieldError::coded(field, "yaml-quote", "reads as a decimal number: put it in quotes")),
        YamlDataOwned::Representation(s, _, _) => Ok(s.clone()),
        _ => Err(FieldError::coded(field, "yaml-scalar", "must be a single value")),
    }
}

/// The entry's known keys, and a problem for each unknown key or unusable value.
fn mapping_cells<'a>(n: &MarkedYamlOwned, columns: &[&'a str]) -> Result<(Cells<'a>, Vec<LineError>), Vec<LineError>> {
    let YamlDataOwned::Mapping(m) = &n.data else {
        return Err(vec![(line_of(n), FieldError::coded("row", "yaml-mapping", "each entry must be a mapping of keys to values"))]);
    };
    let mut cells = Cells::new();
    let mut errors = vec![];
    for (k, v) in m {
        let key = scalar_text("key", k).unwrap_or_default();
        match columns.iter().find(|c| **c == key) {
            Some(c) => match scalar_text(c, v) {
                Ok(t) => {
                    cells.insert(*c, t);
                }
                Err(e) => errors.push((line_of(v), e)),
            },
            None => errors.push((
                line_of(k),
                FieldError::coded(key.clone(), "column-unknown", format!("unknown key; expected {}", columns.join(", "))).arg("expected", columns.join(", ")),
            )),
        }
    }
    Ok((cells, errors))
}

fn sequence_rows<T>(
    list: &MarkedYamlOwned,
    field: &str,
    columns: &[&str],
    make: impl Fn(u64, &Cells) -> Result<T, Vec<FieldError>>,
) -> Result<Vec<T>, Vec<LineError>> {
    let YamlDataOwned::Sequence(items) = &list.data else {
        return Err(vec![(line_of(list), FieldError::coded(field, "yaml-list", "must be a list"))]);
    };
    let mut out = vec![];
    let mut errors = vec![];
    for item in items {
        let line = line_of(item);
        match mapping_cells(item, columns) {
            Ok((cells, problems)) => {
                // A value already refused is not also reported missing.
                let refused: Vec<String> = problems.iter().map(|(_, e)| e.field.clone()).collect();
                errors.extend(problems);
                match make(line, &cells) {
                    Ok(v) => out.push(v),
                    Err(es) => errors.extend(es.into_iter().filter(|e| !refused.contains(&e.field)).map(|e| (line, e))),
                }
            }
            Err(es) => errors.extend(es),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

const HEAD_KEYS: [&str; 6] = ["code", "name", "version", "publisher", "description", "requirements"];

fn framework_yaml(text: &str) -> Result<FrameworkFile, Vec<LineError>> {
    let doc = load_yaml(text)?;
    let YamlDataOwned::Mapping(m) = &doc.data else { unreachable!("load_yaml returns mappings") };
    let mut errors = vec![];
    let mut head = FrameworkHead::default();
    let mut list = None;
    for (k, v) in m {
        let key = scalar_text("key", k).unwrap_or_default();
        let value = || scalar_text(&key, v).map_err(|e| (line_of(v), e));
        let r = match key.as_str() {
            "code" => value().and_then(|s| parse_framework_code(&s).map_err(|e| (line_of(v), e))).map(|s| head.code = s),
            "name" => value().and_then(|s| limited("name", &s, 200, true).map_err(|e| (line_of(v), e))).map(|s| head.name = s),
            "version" => value().and_then(|s| limited("version", &s, 40, false).map_err(|e| (line_of(v), e))).map(|s| head.version = s),
            "publisher" => value().and_then(|s| limited("publisher", &s, 200, false).map_err(|e| (line_of(v), e))).map(|s| head.publisher = s),
            "description" => value().and_then(|s| limited("description", &s, 8000, false).map_err(|e| (line_of(v), e))).map(|s| head.description = s),
            "requirements" => {
                list = Some(v);
                Ok(())
            }
            _ => Err((
                line_of(k),
                FieldError::coded(key.clone(), "column-unknown", format!("unknown key; expected {}", HEAD_KEYS.join(", ")))
                    .arg("expected", HEAD_KEYS.join(", ")),
            )),
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
    for (k, name) in [("code", &head.code), ("name", &head.name)] {
        if name.is_empty() && !errors.iter().any(|(_, e)| e.field == k) {
            errors.push((line_of(&doc), FieldError::coded(k, "required", "is required")));
        }
    }
    let rows = match list {
        Some(l) => sequence_rows(l, "requirements", &REQUIREMENT_COLUMNS, requirement_from).unwrap_or_else(|es| {
            errors.extend(es);
            vec![]
        }),
        None => {
            errors.push((line_of(&doc), FieldError::coded("requirements", "required", "is required")));
            vec![]
        }
    };
    if errors.is_empty() { Ok(FrameworkFile { head: Some(head), rows }) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<impl std::fmt::Debug, Vec<LineError>>) -> Vec<(u64, &'static str, String)> {
        r.expect_err("should fail").into_iter().map(|(l, e)| (l, e.code, e.field)).collect()
    }

    #[test]
    fn yaml_framework_reads_head_and_rows() {
        let f = parse_framework(
            "x.yaml",
            b"code: Own-Rules\nname: Group rules\nversion: '1'\nrequirements:\n  - ref: '1'\n    title: Access\n  - ref: '1.1'\n    parent: '1'\n    title: MFA\n    title_ja: \xe5\xa4\x9a\xe8\xa6\x81\xe7\xb4\xa0\n",
        )
        .unwrap();
        let head = f.head.unwrap();
        assert_eq!(head.code, "own-rules");
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].parent.as_deref(), Some("1"));
        assert_eq!(f.rows[1].line, 7);
        assert_eq!(f.rows[1].title_ja, "多要素");
    }

    #[test]
    fn yaml_errors_name_their_lines() {
        let e = codes(parse_framework("x.yml", b"code: a b\nname: X\nrequirements:\n  - ref: 5.10\n    title: T\n  - ref: B\n    titel: T\n"));
        assert!(e.contains(&(1, "framework-code", "code".into())), "{e:?}");
        assert!(e.contains(&(4, "yaml-quote", "ref".into())), "{e:?}");
        assert!(!e.contains(&(4, "required", "ref".into())), "one problem per value: {e:?}");
        assert!(e.contains(&(7, "column-unknown", "titel".into())), "{e:?}");
        assert!(e.contains(&(6, "required", "title".into())), "{e:?}");
        let e = codes(parse_framework("x.yaml", b"code: x1\nname: [\n"));
        assert_eq!(e[0].1, "yaml");
        assert_eq!(codes(parse_framework("x.yaml", b"- a\n"))[0].1, "yaml-mapping");
        assert_eq!(codes(parse_framework("x.yaml", b"code: ab\nname: X\n"))[0].1, "required");
        assert_eq!(codes(parse_framework("x.yaml", b"%YAML"))[0].1, "yaml");
    }

    #[test]
    fn csv_framework_and_tree_checks() {
        let f = parse_framework("x.csv", "ref,parent,title\nA,,Top\nA.1,A,Child\n".as_bytes()).unwrap();
        assert!(f.head.is_none());
        assert_eq!(f.rows[1].line, 3);
        let e = codes(parse_framework("x.csv", b"ref,title,colour\nA,T,red\n"));
        assert_eq!(e, vec![(1, "column-unknown", "colour".into())]);
        let e = codes(parse_framework("x.csv", b"ref,parent,title\nA,,T\nA,,T\nB,C,T\nC,,T\nD,D,T\n,,\n"));
        assert!(e.contains(&(3, "duplicate-ref", "ref".into())), "{e:?}");
        assert!(e.contains(&(4, "parent-later", "parent".into())), "{e:?}");
        assert!(e.contains(&(6, "parent-self", "parent".into())), "{e:?}");
        assert_eq!(codes(parse_framework("x.csv", b"ref,title\n"))[0].1, "no-requirements");
        assert_eq!(codes(parse_framework("x.txt", b"a"))[0].1, "import-format");
        assert_eq!(codes(parse_framework("x.csv", b"ref,title\nA B,T\n")), vec![(2, "requirement-ref", "ref".into())]);
    }

    #[test]
    fn mappings_in_both_formats() {
        let m =
            parse_mappings("m.csv", b"from_framework,from_ref,to_framework,to_ref,relation\niso27001-2022,A.5.1,nist-csf-2.0,GV.PO-01,intersects\n").unwrap();
        assert_eq!(m[0].relation, crate::compliance::Relation::Intersects);
        assert_eq!(m[0].line, 2);
        let m =
            parse_mappings("m.yaml", b"mappings:\n  - from_framework: a1\n    from_ref: X\n    to_framework: b1\n    to_ref: Y\n    relation: equivalent\n")
                .unwrap();
        assert_eq!(m[0].line, 2);
        let e =
            codes(parse_mappings("m.yaml", b"mappings:\n  - from_framework: a1\n    from_ref: X\n    to_framework: b1\n    to_ref: Y\n    relation: same\n"));
        assert_eq!(e, vec![(2, "one-of", "relation".into())]);
    }
}
