//! Importing Sigma rules as files or a zip (SigmaHQ as it is published): each file checked, refusals kept with their reasons.

use super::*;

/// One file of an import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = RuleImportReport)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rules edited here keep their local text.
    pub kept_local: Vec<String>,
    pub refused: Vec<ImportRefusal>,
    /// Files that are not rules (not `.yml` or `.yaml`).
    pub skipped: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRefusal {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub reason: String,
}

/// The rule files inside a ZIP archive (a SigmaHQ release, say), by their path in it.
pub fn files_from_zip(bytes: &[u8]) -> Result<Vec<ImportFile>> {
    const MAX_TOTAL: u64 = 256 * 1024 * 1024;
    let bad = |m: String| AppError::coded("file", "archive", m.clone()).into_with_arg("reason", m);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(format!("not a ZIP archive: {e}")))?;
    let mut out = vec![];
    let mut total = 0u64;
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = f.name().map_err(|e| bad(format!("entry {i}: {e}")))?.into_owned();
        if f.is_dir() || !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        total += f.size();
        if total > MAX_TOTAL || f.size() > MAX_RULE_BYTES as u64 {
            return Err(bad(format!("{name}: the archive's rules are too large")));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text).map_err(|e| bad(format!("{name}: {e}")))?;
        out.push(ImportFile { name, text });
    }
    Ok(out)
}

/// Imports rule files: each is checked, and kept only when every rule in it is usable.
/// A rule already here (same Sigma id, or same file name) is updated, unless it was edited
/// here. Refused files are listed with the line and the reason, and change nothing.
pub async fn import(app: &App, who: &Principal, files: Vec<ImportFile>) -> Result<ImportReport> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let mut report = ImportReport::default();
    let mut good = vec![];
    for f in files {
        let name = f.name.trim().trim_start_matches("./").to_owned();
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            report.skipped += 1;
            continue;
        }
        let checked = check_text(&f.text);
        if checked.problems.is_empty() {
            good.push((name, f.text, checked));
        } else {
            for p in checked.problems {
                report.refused.push(ImportRefusal { file: name.clone(), line: p.line, column: p.column, kind: p.kind, reason: p.reason });
            }
        }
    }
    let now = now_ms();
    let txn = app.store.write().await?;
    let existing = rule::Entity::find().all(&txn).await?;
    let mut by_uid: HashMap<String, rule::Model> = HashMap::new();
    let mut by_file: HashMap<String, rule::Model> = HashMap::new();
    for m in existing {
        if let Some(u) = &m.rule_uid {
            by_uid.insert(u.clone(), m.clone());
        }
        by_file.insert(m.file_name.clone(), m);
    }
    for (name, text, c) in good {
        let found = c.uid.as_ref().and_then(|u| by_uid.get(u)).or_else(|| by_file.get(&name)).cloned();
        match found {
            Some(m) if m.origin == "custom" => report.kept_local.push(m.title),
            Some(m) if m.body == text => report.unchanged += 1,
            Some(m) => {
                let mut a = m.into_active_model();
                a.body = Set(text);
                a.title = Set(c.title);
                a.level = Set(c.level);
                a.status = Set(c.status);
                a.tags = Set(c.tags.join(" "));
                a.rule_uid = Set(c.uid);
                a.error = Set(None);
                a.updated_ms = Set(now);
                a.update(&txn).await?;
                report.updated += 1;
            }
            None => {
                if by_file.contains_key(&name) {
                    report.refused.push(ImportRefusal {
                        file: name,
                        line: 1,
                        column: 1,
                        kind: "file-taken".into(),
                        reason: "another rule has this file name".into(),
                    });
                    continue;
                }
                let m = rule::Model {
                    id: uuid::Uuid::now_v7().to_string(),
                    rule_uid: c.uid.clone(),
                    title: c.title,
                    level: c.level,
                    // Deprecated and unsupported rules come in switched off.
                    enabled: !matches!(c.status.as_str(), "deprecated" | "unsupported"),
                    status: c.status,
                    origin: "sigmahq".into(),
                    file_name: name.clone(),
                    body: text,
                    error: None,
                    tags: c.tags.join(" "),
                    created_by: who.user_id.clone(),
                    created_ms: now,
                    updated_ms: now,
                };
                let m = m.into_active_model().insert(&txn).await?;
                if let Some(u) = &m.rule_uid {
                    by_uid.insert(u.clone(), m.clone());
                }
                by_file.insert(name, m);
                report.created += 1;
            }
        }
    }
    crate::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rules.import",
        "detection_rule",
        None,
        None,
        json!({"created": report.created, "updated": report.updated, "unchanged": report.unchanged, "refused": report.refused.len(), "kept_local": report.kept_local.len()}),
    )
    .await?;
    txn.commit().await?;
    crate::shared(app).rules.changed();
    Ok(report)
}
