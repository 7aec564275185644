//! Attachments of a draft version: checked by content, removed while still a draft, read by whoever may read the version.

use super::*;

/// Attaches a PDF or DOCX file to a draft; the content must be what the name claims.
pub async fn attach(app: &App, who: &Principal, doc_id: &str, number: i32, file_name: &str, bytes: Vec<u8>) -> Result<Attachment> {
    let kind = attachment::check(file_name, &bytes, MAX_ATTACHMENT_BYTES)?;
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    writable_draft(who, &d, &v)?;
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let m = att::Model {
        id: uuid::Uuid::now_v7().to_string(),
        version_id: v.id.clone(),
        file_name: file_name.trim().to_owned(),
        content_type: kind.content_type().into(),
        size: bytes.len() as i64,
        sha256: sha.clone(),
        data: bytes,
        uploaded_by: who.user_id.clone(),
        created_ms: now_ms(),
    };
    let saved = m.into_active_model().insert(&txn).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("file", "file-exists", "this version already has a file by this name"),
        other => other,
    })?;
    record(
        app,
        &txn,
        who,
        "policies.attachment.add",
        "document",
        Some(doc_id),
        d.company_id.as_deref(),
        json!({"number": number, "file": saved.file_name, "sha256": sha, "size": saved.size}),
    )
    .await?;
    txn.commit().await?;
    Ok(Attachment {
        id: saved.id,
        file_name: saved.file_name,
        content_type: saved.content_type,
        size: saved.size,
        sha256: saved.sha256,
        uploaded_by: saved.uploaded_by,
        created_ms: saved.created_ms,
    })
}

/// Removes a file from a draft.
pub async fn detach(app: &App, who: &Principal, doc_id: &str, number: i32, attachment_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let (d, v) = managed(&txn, who, doc_id, number).await?;
    writable_draft(who, &d, &v)?;
    let f = att::Entity::find_by_id(attachment_id.to_owned()).one(&txn).await?.filter(|f| f.version_id == v.id).ok_or(AppError::NotFound)?;
    att::Entity::delete_by_id(f.id.clone()).exec(&txn).await?;
    record(
        app,
        &txn,
        who,
        "policies.attachment.remove",
        "document",
        Some(doc_id),
        d.company_id.as_deref(),
        json!({"number": number, "file": f.file_name, "sha256": f.sha256}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A file's content for someone who may see its version (the public, for a public
/// document's version in force, through `reading::public_file`).
pub async fn file(app: &App, who: &Principal, doc_id: &str, attachment_id: &str) -> Result<att::Model> {
    let db = app.store.conn();
    let d = load(db, who, doc_id).await?;
    let f = att::Entity::find_by_id(attachment_id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let v = version::Entity::find_by_id(f.version_id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    if v.document_id != d.id || (!reads_all(who, &d) && d.current_version_id.as_deref() != Some(v.id.as_str())) {
        return Err(AppError::NotFound);
    }
    Ok(f)
}
