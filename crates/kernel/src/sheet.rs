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

pub fn xlsx(sheet_name: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let wrap = rust_xlsxwriter::Format::new().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top);
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if r == 0 {
                sheet.write_string_with_format(r as u32, c as u16, cell, &bold)?;
            } else {
                sheet.write_string_with_format(r as u32, c as u16, cell, &wrap)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
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
