//! Attachments to a document version: PDF and Word (DOCX) files only, each checked to be
//! what its name claims by its content, within the size limit and under a plain name.

use crate::FieldError;
use std::io::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentType {
    Pdf,
    Docx,
}

impl AttachmentType {
    pub fn content_type(self) -> &'static str {
        match self {
            AttachmentType::Pdf => "application/pdf",
            AttachmentType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }
}

/// Checks the file's name, size and content; the error names field `file`.
pub fn check(name: &str, bytes: &[u8], max_bytes: usize) -> Result<AttachmentType, FieldError> {
    let name = name.trim();
    // Codes listed in the catalog test (file-name, file-type, file-empty, file-too-large,
    // file-mismatch, file-macros).
    let field = "file";
    let err = |code: &'static str, msg: String| FieldError::coded(field, code, msg);
    if name.is_empty() {
        return Err(err("file-name", "the file has no name".into()));
    }
    if name.chars().count() > 200
        || name.starts_with('.')
        || name.contains("..")
        || name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return Err(err("file-name", format!("`{name}` is not a plain file name")).arg("value", name));
    }
    let lower = name.to_ascii_lowercase();
    let claimed = if lower.ends_with(".pdf") {
        AttachmentType::Pdf
    } else if lower.ends_with(".docx") {
        AttachmentType::Docx
    } else {
        return Err(err("file-type", format!("`{name}` is neither a PDF nor a DOCX file")).arg("value", name));
    };
    if bytes.is_empty() {
        return Err(err("file-empty", "the file is empty".into()));
    }
    if bytes.len() > max_bytes {
        return Err(
            err("file-too-large", format!("the file is larger than {} MiB", max_bytes / (1024 * 1024))).arg("max", (max_bytes / (1024 * 1024)).to_string())
        );
    }
    let is_pdf = bytes.windows(5).take(1024).any(|w| w == b"%PDF-");
    let ok = match claimed {
        AttachmentType::Pdf => is_pdf,
        AttachmentType::Docx => {
            let Ok(zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
                return Err(err("file-mismatch", format!("`{name}` is not a Word document")).arg("value", name));
            };
            let names: Vec<String> = zip.file_names().filter_map(|n| n.ok()).map(|n| n.into_owned()).collect();
            if names.iter().any(|n| n.eq_ignore_ascii_case("word/vbaProject.bin")) {
                return Err(err("file-macros", format!("`{name}` contains macros")).arg("value", name));
            }
            names.iter().any(|n| n == "[Content_Types].xml") && names.iter().any(|n| n == "word/document.xml")
        }
    };
    if !ok {
        let what = if claimed == AttachmentType::Pdf { "a PDF" } else { "a Word document" };
        return Err(err("file-mismatch", format!("`{name}` is not {what}")).arg("value", name));
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn docx(extra: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for n in ["[Content_Types].xml", "word/document.xml"].iter().chain(extra) {
            w.start_file(*n, opts).unwrap();
            w.write_all(b"<x/>").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn accepts_real_files() {
        assert_eq!(check("Handbook.pdf", b"%PDF-1.7\n...", 1 << 20), Ok(AttachmentType::Pdf));
        assert_eq!(check("規程.docx", &docx(&[]), 1 << 20), Ok(AttachmentType::Docx));
    }

    #[test]
    fn refuses_with_the_reason() {
        let code = |r: Result<AttachmentType, FieldError>| r.unwrap_err().code;
        assert_eq!(code(check("a.pdf", b"MZ\x90\x00", 1 << 20)), "file-mismatch");
        assert_eq!(code(check("a.docx", b"%PDF-1.4", 1 << 20)), "file-mismatch");
        assert_eq!(code(check("a.docx", &docx(&["word/vbaProject.bin"]), 1 << 20)), "file-macros");
        assert_eq!(code(check("a.exe", b"MZ", 1 << 20)), "file-type");
        assert_eq!(code(check("../a.pdf", b"%PDF-", 1 << 20)), "file-name");
        assert_eq!(code(check("a\u{0}.pdf", b"%PDF-", 1 << 20)), "file-name");
        assert_eq!(code(check("", b"%PDF-", 1 << 20)), "file-name");
        assert_eq!(code(check("a.pdf", b"", 1 << 20)), "file-empty");
        assert_eq!(code(check("a.pdf", &[b'%'; 2048], 1024)), "file-too-large");
    }
}
