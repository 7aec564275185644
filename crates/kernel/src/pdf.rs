//! Tables as PDF, made by the binary itself (krilla; no browser): a title block, then a
//! table whose header repeats on every page, cells wrapped to their column, section rows
//! across the whole width, and "page n of N" at the foot. Text is set in an embedded
//! subset of Noto Sans CJK JP (SIL Open Font License; `fonts/OFL.txt`), which covers
//! Latin, kana and the JIS X 0208 kanji, so Japanese statements print as they are.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use std::sync::OnceLock;

/// The embedded font (also used to measure chart labels).
pub static FONT_DATA: &[u8] = include_bytes!("../fonts/NotoSansJP-Subset.otf");

/// One column: its heading and its share of the table's width.
pub struct Column {
    pub heading: String,
    pub weight: f32,
}

pub enum Row {
    /// A row of cells, one per column.
    Cells(Vec<String>),
    /// A heading across the whole table (a clause or theme).
    Section(String),
}

pub struct TableDoc {
    pub title: String,
    /// Lines under the title (scope, date, totals).
    pub lines: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// "Page {n} of {total}" with those placeholders, in the reader's language.
    pub page_label: String,
    /// BCP 47 language of the text (`ja`, `en`).
    pub language: String,
}

const PAGE_W: f32 = 841.89; // A4 landscape
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 36.0;
const SIZE: f32 = 7.5;
const HEAD_SIZE: f32 = 7.5;
const LINE: f32 = SIZE * 1.35;
const PAD: f32 = 3.0;

/// Widths of characters at one size, from the font's own metrics.
struct Measure<'a> {
    font: FontRef<'a>,
}

impl Measure<'_> {
    fn width(&self, text: &str, size: f32) -> f32 {
        let cmap = self.font.charmap();
        let gm = self.font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars().map(|c| cmap.map(c).and_then(|g| gm.advance_width(g)).unwrap_or(size * 0.6)).sum()
    }

    /// Breaks text into lines no wider than `max`: at spaces where there are any, and
    /// between any two characters of a word that is too long (Japanese has no spaces).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = vec![];
        for para in text.split('\n') {
            let mut line = String::new();
            let mut width = 0.0;
            for word in split_keep_spaces(para) {
                let w = self.width(word, size);
                if width + w <= max || line.is_empty() && w <= max {
                    line.push_str(word);
                    width += w;
                    continue;
                }
                if !line.trim().is_empty() {
                    lines.push(line.trim_end().to_owned());
                }
                line = String::new();
                width = 0.0;
                let word = if word.trim().is_empty() { "" } else { word };
                for c in word.chars() {
                    let cw = self.width(c.encode_utf8(&mut [0; 4]), size);
                    if width + cw > max && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        width = 0.0;
                    }
                    line.push(c);
                    width += cw;
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }
}

/// Words with the spaces that follow them.
fn split_keep_spaces(s: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut start = 0;
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b' ' && (i + 1 == b.len() || b[i + 1] != b' ') {
            out.push(&s[start..=i]);
            start = i + 1;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The embedded font, loaded once; `None` if it would not load (then no PDF is made, and
/// the caller says so rather than the process stopping).
fn font() -> Option<&'static (Font, FontRef<'static>)> {
    static F: OnceLock<Option<(Font, FontRef<'static>)>> = OnceLock::new();
    F.get_or_init(|| Some((Font::new(FONT_DATA.into(), 0)?, FontRef::from_index(FONT_DATA, 0).ok()?))).as_ref()
}

struct Laid {
    /// Lines per cell, or one line for a section.
    cells: Vec<Vec<String>>,
    height: f32,
    section: bool,
}

fn fill(r: u8, g: u8, b: u8) -> Fill {
    Fill { paint: rgb::Color::new(r, g, b).into(), opacity: NormalizedF32::ONE, rule: Default::default() }
}

/// The columns' widths: shared by weight, except that no heading breaks inside a word
/// ("Referenc/e"): a column is at least as wide as the longest word of its heading, the
/// room taken from the columns wider than they need.
fn column_widths(m: &Measure, columns: &[Column], width: f32) -> Vec<f32> {
    let total_weight: f32 = columns.iter().map(|c| c.weight).sum::<f32>().max(0.001);
    let mut widths: Vec<f32> = columns.iter().map(|c| width * c.weight / total_weight).collect();
    let needs: Vec<f32> = columns.iter().map(|c| c.heading.split_whitespace().map(|w| m.width(w, HEAD_SIZE)).fold(0.0, f32::max) + 2.0 * PAD + 1.0).collect();
    let short: f32 = widths.iter().zip(&needs).map(|(w, n)| (n - w).max(0.0)).sum();
    if short > 0.0 {
        let spare: f32 = widths.iter().zip(&needs).map(|(w, n)| (w - n).max(0.0)).sum();
        if spare >= short {
            let ratio = short / spare;
            for (w, n) in widths.iter_mut().zip(&needs) {
                *w = if *w < *n { *n } else { *w - (*w - n) * ratio };
            }
        }
    }
    widths
}

pub fn render(doc: &TableDoc) -> Result<Vec<u8>, String> {
    render_counted(doc).map(|(b, _)| b)
}

/// The PDF and its number of pages.
fn render_counted(doc: &TableDoc) -> Result<(Vec<u8>, usize), String> {
    let (font, fref) = font().ok_or("the embedded font does not load")?;
    let m = Measure { font: fref.clone() };
    let width = PAGE_W - 2.0 * MARGIN;
    let widths = column_widths(&m, &doc.columns, width);
    let lay = |cells: &[String], size: f32| {
        let wrapped: Vec<Vec<String>> = cells.iter().zip(&widths).map(|(t, w)| m.wrap(t, size, w - 2.0 * PAD)).collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        (wrapped, lines as f32 * LINE + 2.0 * PAD)
    };
    let (head_cells, head_h) = lay(&doc.columns.iter().map(|c| c.heading.clone()).collect::<Vec<_>>(), HEAD_SIZE);
    let rows: Vec<Laid> = doc
        .rows
        .iter()
        .map(|r| match r {
            Row::Cells(c) => {
                let (cells, height) = lay(c, SIZE);
                Laid { cells, height, section: false }
            }
            Row::Section(t) => {
                let lines = m.wrap(t, SIZE, width - 2.0 * PAD);
                Laid { height: lines.len() as f32 * LINE + 2.0 * PAD, cells: vec![lines], section: true }
            }
        })
        .collect();

    // Title block on the first page only.
    let title_h = 16.0 + doc.lines.len() as f32 * 11.0 + 8.0;
    let foot = 20.0;
    let mut pages: Vec<Vec<usize>> = vec![vec![]];
    let mut y = MARGIN + title_h + head_h;
    for (i, r) in rows.iter().enumerate() {
        // A row taller than a page is cut by the page edge rather than looping.
        if y + r.height > PAGE_H - MARGIN - foot && pages.last().is_some_and(|p| !p.is_empty()) {
            pages.push(vec![]);
            y = MARGIN + head_h;
        }
        if let Some(p) = pages.last_mut() {
            p.push(i);
        }
        y += r.height;
    }

    let mut pdf = Document::new_with(SerializeSettings::default());
    let n_pages = pages.len();
    let black = fill(0, 0, 0);
    let grey = fill(90, 90, 90);
    let stroke = Stroke { paint: rgb::Color::new(160, 160, 160).into(), width: 0.4, ..Default::default() };
    for (p, idx) in pages.iter().enumerate() {
        let mut page = pdf.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?);
        let mut s = page.surface();
        let mut y = MARGIN;
        if p == 0 {
            s.set_fill(Some(black.clone()));
            s.draw_text(Point::from_xy(MARGIN, y + 12.0), font.clone(), 13.0, &doc.title, false, TextDirection::Auto);
            y += 16.0;
            s.set_fill(Some(grey.clone()));
            for l in &doc.lines {
                y += 11.0;
                s.draw_text(Point::from_xy(MARGIN, y), font.clone(), 8.0, l, false, TextDirection::Auto);
            }
            y += 8.0;
        }
        let draw_row = |s: &mut krilla::surface::Surface, y: f32, cells: &[Vec<String>], h: f32, shade: Option<Fill>, section: bool| {
            if let Some(bg) = shade {
                let mut pb = PathBuilder::new();
                if let Some(r) = Rect::from_xywh(MARGIN, y, width, h) {
                    pb.push_rect(r);
                }
                if let Some(path) = pb.finish() {
                    s.set_stroke(None);
                    s.set_fill(Some(bg));
                    s.draw_path(&path);
                }
            }
            s.set_fill(Some(black.clone()));
            let mut x = MARGIN;
            let spans: Vec<f32> = if section { vec![width] } else { widths.clone() };
            for (lines, w) in cells.iter().zip(&spans) {
                for (k, l) in lines.iter().enumerate() {
                    if !l.is_empty() {
                        s.draw_text(Point::from_xy(x + PAD, y + PAD + SIZE + k as f32 * LINE), font.clone(), SIZE, l, false, TextDirection::Auto);
                    }
                }
                x += w;
            }
            // Cell borders.
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(MARGIN, y, width, h) {
                pb.push_rect(r);
            }
            if !section {
                let mut x = MARGIN;
                for w in &widths[..widths.len().saturating_sub(1)] {
                    x += w;
                    pb.move_to(x, y);
                    pb.line_to(x, y + h);
                }
            }
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(stroke.clone()));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        };
        draw_row(&mut s, y, &head_cells, head_h, Some(fill(225, 230, 238)), false);
        y += head_h;
        for &i in idx {
            let r = &rows[i];
            draw_row(&mut s, y, &r.cells, r.height, r.section.then(|| fill(242, 242, 242)), r.section);
            y += r.height;
        }
        let label = doc.page_label.replace("{n}", &(p + 1).to_string()).replace("{total}", &n_pages.to_string());
        s.set_fill(Some(grey.clone()));
        let lw = m.width(&label, 7.0);
        s.draw_text(Point::from_xy(PAGE_W - MARGIN - lw, PAGE_H - MARGIN + 6.0), font.clone(), 7.0, &label, false, TextDirection::Auto);
        s.finish();
        page.finish();
    }
    pdf.set_metadata(krilla::metadata::Metadata::new().title(doc.title.clone()).language(doc.language.clone()).creator("isms".into()));
    pdf.finish().map(|b| (b, n_pages)).map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_never_breaks_inside_a_word() {
        let Some((_, fref)) = font() else { panic!("the embedded font loads") };
        let m = Measure { font: fref.clone() };
        let cols: Vec<Column> = ["Reference", "Requirement", "Applicable", "Justification"]
            .iter()
            .zip([0.4, 4.0, 0.5, 3.0])
            .map(|(h, w)| Column { heading: (*h).into(), weight: w })
            .collect();
        let widths = column_widths(&m, &cols, 770.0);
        for (c, w) in cols.iter().zip(&widths) {
            assert!(m.wrap(&c.heading, HEAD_SIZE, w - 2.0 * PAD).len() == 1, "{} in {w}", c.heading);
        }
        assert!((widths.iter().sum::<f32>() - 770.0).abs() < 0.5, "{widths:?}");
    }

    #[test]
    fn wraps_words_and_japanese() {
        let (_, f) = font().unwrap();
        let m = Measure { font: f.clone() };
        let max = m.width("alpha beta", 10.0).max(m.width("gamma delta", 10.0)) + 0.1;
        let lines = m.wrap("alpha beta gamma delta", 10.0, max);
        assert_eq!(lines, ["alpha beta", "gamma delta"]);
        let ja = "情報セキュリティ方針を定め周知する";
        let lines = m.wrap(ja, 10.0, 50.0);
        assert!(lines.len() > 1 && lines.concat() == ja, "{lines:?}");
        assert!(lines.iter().all(|l| m.width(l, 10.0) <= 50.0));
        assert_eq!(m.wrap("a\nb", 10.0, 100.0), ["a", "b"]);
    }

    #[test]
    fn renders_a_multi_page_table() {
        let rows = (0..120)
            .map(|i| if i % 10 == 0 { Row::Section(format!("節 {i}")) } else { Row::Cells(vec![format!("A.5.{i}"), "適用 applicable".repeat(i % 4 + 1)]) })
            .collect();
        let doc = TableDoc {
            title: "適用宣言書 Statement of Applicability".into(),
            lines: vec!["ISO/IEC 27001:2022".into()],
            columns: vec![Column { heading: "Ref".into(), weight: 1.0 }, Column { heading: "Text".into(), weight: 4.0 }],
            rows,
            page_label: "{n} / {total}".into(),
            language: "ja".into(),
        };
        let (bytes, pages) = render_counted(&doc).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        // 120 rows of one to four lines do not fit one landscape page.
        assert!(pages >= 3, "{pages}");
    }
}
