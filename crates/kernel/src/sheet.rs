//! Lists as spreadsheets: one sheet, a bold frozen header row, every cell text (numbers
//! and codes stay as typed, so a reference like `5.10` is not read as a number).

/// Every CSV the product writes: rows as given, except that a cell a spreadsheet would
/// run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return before one) starts
/// with an apostrophe, which spreadsheets show as text. The one writer for every export.
pub fn csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(vec![]);
    for r in rows {
        // Writing to a Vec cannot fail; a record of another length than the first is
        // allowed by `flexible`, so nothing here can return an error.
        let _ = w.write_record(r.iter().map(|c| inert(c).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

pub use isms_core::text::{inert, typed};

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A table as a workbook of one sheet whose first row is the header: columns as wide
/// as their text (within limits), a filter on the header, the header kept in view. The
/// product's own imports read this back (row 1 is the header).
pub fn xlsx(sheet_name: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    report(sheet_name, &[], rows)
}

/// How wide a column shows `text`: East Asian characters take two places.
fn width_of(text: &str) -> usize {
    text.lines().map(|l| l.chars().map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 }).sum::<usize>()).max().unwrap_or(0)
}

/// A report: the lines of `title` (what it is, its scope, when it was made) above the
/// table, then the table as [`xlsx`] writes it. The workbook's title is the first line.
pub fn report(sheet_name: &str, title: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
    let mut book = Workbook::new();
    if let Some(t) = title.first() {
        book.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(t));
    }
    let heading = Format::new().set_bold().set_font_size(14);
    let note = Format::new().set_font_color(rust_xlsxwriter::Color::RGB(0x5B6676));
    let head = Format::new().set_bold().set_background_color(rust_xlsxwriter::Color::RGB(0xEEF2F6)).set_border_bottom(FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (i, line) in title.iter().enumerate() {
        sheet.write_string_with_format(i as u32, 0, line, if i == 0 { &heading } else { &note })?;
    }
    // A blank row between the title block and the table.
    let top = if title.is_empty() { 0 } else { title.len() as u32 + 1 };
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string_with_format(top + r as u32, c as u16, cell, if r == 0 { &head } else { &wrap })?;
        }
    }
    for c in 0..columns {
        let widest = rows.iter().filter_map(|r| r.get(c)).map(|t| width_of(t)).max().unwrap_or(0);
        sheet.set_column_width(c as u16, (widest + 2).clamp(8, 60) as f64)?;
    }
    if columns > 0 && !rows.is_empty() {
        sheet.autofilter(top, 0, top + rows.len() as u32 - 1, columns as u16 - 1)?;
        sheet.set_freeze_panes(top + 1, 0)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formula_cells_are_written_as_text() {
        let rows = vec![vec!["=1+1".to_owned(), "+cmd".into(), "-2".into(), "@SUM(A1)".into(), "\t=x".into(), "plain".into(), "a=b".into()]];
        let out = String::from_utf8(super::csv(&rows)).unwrap();
        assert_eq!(out.trim_end(), "'=1+1,'+cmd,'-2,'@SUM(A1),'\t=x,plain,a=b");
        // Read back, each cell is what was written.
        let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_bytes());
        let back: Vec<String> = rd.records().next().unwrap().unwrap().iter().map(|c| super::typed(c).to_owned()).collect();
        assert_eq!(back, rows[0]);
        assert_eq!(super::typed("'quoted'"), "'quoted'");
    }
}
