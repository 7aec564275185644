//! Two versions side by side: lines matched by a diff, and within a changed pair of
//! lines the words (or, for Japanese text without spaces, the characters) that differ.

use similar::{ChangeTag, DiffOp, TextDiff};

/// A piece of a line, marked when it differs from the other side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Segment {
    pub text: String,
    pub changed: bool,
}

/// One side of a row: the line number (from 1) and its pieces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Side {
    pub line: usize,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Same,
    Changed,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Row {
    pub kind: RowKind,
    pub left: Option<Side>,
    pub right: Option<Side>,
}

fn whole(line: &str, n: usize, changed: bool) -> Side {
    Side { line: n + 1, segments: vec![Segment { text: line.trim_end_matches(['\n', '\r']).to_owned(), changed }] }
}

/// The pieces of a changed pair of lines.
fn inline(old: &str, new: &str, ln: (usize, usize)) -> (Side, Side) {
    let (old, new) = (old.trim_end_matches(['\n', '\r']), new.trim_end_matches(['\n', '\r']));
    let diff = if old.is_ascii() && new.is_ascii() { TextDiff::from_words(old, new) } else { TextDiff::from_chars(old, new) };
    let (mut l, mut r): (Vec<Segment>, Vec<Segment>) = (vec![], vec![]);
    fn push(v: &mut Vec<Segment>, text: &str, changed: bool) {
        match v.last_mut() {
            Some(s) if s.changed == changed => s.text.push_str(text),
            _ => v.push(Segment { text: text.to_owned(), changed }),
        }
    }
    for c in diff.iter_all_changes() {
        match c.tag() {
            ChangeTag::Equal => {
                push(&mut l, c.value(), false);
                push(&mut r, c.value(), false);
            }
            ChangeTag::Delete => push(&mut l, c.value(), true),
            ChangeTag::Insert => push(&mut r, c.value(), true),
        }
    }
    (Side { line: ln.0 + 1, segments: l }, Side { line: ln.1 + 1, segments: r })
}

/// Rows for a side-by-side view of `old` and `new`.
pub fn side_by_side(old: &str, new: &str) -> Vec<Row> {
    let ol: Vec<&str> = old.split_inclusive('\n').collect();
    let nl: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiff::from_slices(&ol, &nl);
    let mut rows = vec![];
    for op in diff.ops() {
        match *op {
            DiffOp::Equal { old_index, new_index, len } => {
                for i in 0..len {
                    rows.push(Row {
                        kind: RowKind::Same,
                        left: Some(whole(ol[old_index + i], old_index + i, false)),
                        right: Some(whole(nl[new_index + i], new_index + i, false)),
                    });
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                for (i, line) in ol.iter().enumerate().skip(old_index).take(old_len) {
                    rows.push(Row { kind: RowKind::Removed, left: Some(whole(line, i, true)), right: None });
                }
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                for (i, line) in nl.iter().enumerate().skip(new_index).take(new_len) {
                    rows.push(Row { kind: RowKind::Added, left: None, right: Some(whole(line, i, true)) });
                }
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                // Pair lines in order; what is left over on one side is removed or added.
                for k in 0..old_len.max(new_len) {
                    match (k < old_len, k < new_len) {
                        (true, true) => {
                            let (l, r) = inline(ol[old_index + k], nl[new_index + k], (old_index + k, new_index + k));
                            rows.push(Row { kind: RowKind::Changed, left: Some(l), right: Some(r) });
                        }
                        (true, false) => rows.push(Row { kind: RowKind::Removed, left: Some(whole(ol[old_index + k], old_index + k, true)), right: None }),
                        (false, true) => rows.push(Row { kind: RowKind::Added, left: None, right: Some(whole(nl[new_index + k], new_index + k, true)) }),
                        (false, false) => {}
                    }
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &Option<Side>) -> String {
        s.as_ref().map(|s| s.segments.iter().map(|g| g.text.as_str()).collect()).unwrap_or_default()
    }

    #[test]
    fn rows_cover_both_texts() {
        let old = "# Policy\nReview every 12 months.\nKeep records.\n";
        let new = "# Policy\nReview every 6 months.\nKeep records.\nPublish on the website.\n";
        let rows = side_by_side(old, new);
        assert_eq!(rows.iter().map(|r| r.kind).collect::<Vec<_>>(), [RowKind::Same, RowKind::Changed, RowKind::Same, RowKind::Added]);
        let left: String = rows.iter().filter(|r| r.left.is_some()).map(|r| text(&r.left) + "\n").collect();
        let right: String = rows.iter().filter(|r| r.right.is_some()).map(|r| text(&r.right) + "\n").collect();
        assert_eq!(left, old);
        assert_eq!(right, new);
        let changed = &rows[1];
        let marked: Vec<&str> = changed.right.as_ref().unwrap().segments.iter().filter(|s| s.changed).map(|s| s.text.as_str()).collect();
        assert_eq!(marked, ["6"]);
    }

    #[test]
    fn japanese_lines_differ_by_character() {
        let rows = side_by_side("年1回見直す。\n", "年2回見直す。\n");
        assert_eq!(rows.len(), 1);
        let l = rows[0].left.as_ref().unwrap();
        assert_eq!(l.segments.iter().filter(|s| s.changed).map(|s| s.text.as_str()).collect::<Vec<_>>(), ["1"]);
    }

    #[test]
    fn removals_and_identity() {
        let rows = side_by_side("a\nb\nc\n", "a\nc\n");
        assert_eq!(rows.iter().map(|r| r.kind).collect::<Vec<_>>(), [RowKind::Same, RowKind::Removed, RowKind::Same]);
        assert!(side_by_side("x\n", "x\n").iter().all(|r| r.kind == RowKind::Same));
    }
}
