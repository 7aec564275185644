//! Drill templates: a lure of one of the three kinds, with its sender as shown, subject
//! and body in Japanese and English (merge fields in braces, checked when saved), the
//! landing page's words for a credential lure, the marker attachment's name for a virus
//! lure, the look-alike reply address for a BEC request, and the teachable moment shown
//! to whoever falls for it.

use crate::profiles::is_address;
use crate::{new_id, require_manages, require_reads};
use isms_core::FieldError;
use isms_core::drills::{DrillKind, check_template};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::drills::{template, text};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::ExprTrait as _;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DrillTemplate)]
pub struct Template {
    pub id: String,
    pub company_id: Option<String>,
    pub name: String,
    pub kind: DrillKind,
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub attachment_name: Option<String>,
    pub texts: Vec<TemplateText>,
    pub retired: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateText {
    pub lang: String,
    pub subject: String,
    pub body: String,
    pub landing: String,
    pub lesson: String,
}

impl Template {
    /// The text in `lang`, or in the other language when this one was not written.
    pub fn text(&self, lang: &str) -> Option<&TemplateText> {
        self.texts.iter().find(|t| t.lang == lang).or_else(|| self.texts.first())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = DrillTemplateInput)]
pub struct TemplateInput {
    #[serde(default)]
    pub company_id: Option<String>,
    pub name: String,
    /// virus, credential or bec
    pub kind: String,
    pub from_name: String,
    pub from_address: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub attachment_name: Option<String>,
    #[serde(default)]
    pub subject_ja: String,
    #[serde(default)]
    pub body_ja: String,
    #[serde(default)]
    pub landing_ja: String,
    #[serde(default)]
    pub lesson_ja: String,
    #[serde(default)]
    pub subject_en: String,
    #[serde(default)]
    pub body_en: String,
    #[serde(default)]
    pub landing_en: String,
    #[serde(default)]
    pub lesson_en: String,
}

struct Valid {
    company_id: Option<String>,
    name: String,
    kind: DrillKind,
    from_name: String,
    from_address: String,
    reply_to: Option<String>,
    attachment_name: Option<String>,
    texts: Vec<(String, String, String, String, String)>,
}

fn validate(input: &TemplateInput) -> Result<Valid> {
    let mut errors = vec![];
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let kind = DrillKind::parse(&input.kind).map_err(|e| errors.push(e)).ok();
    let from_name = isms_kernel::input::required(&mut errors, "from_name", &input.from_name, 200);
    let from_address = input.from_address.trim().to_owned();
    if from_address.is_empty() {
        errors.push(FieldError::coded("from_address", "required", "is required"));
    } else if !is_address(&from_address) {
        errors.push(FieldError::coded("from_address", "email", "is not an e-mail address").arg("value", from_address.clone()));
    }
    let reply_to = isms_kernel::input::blank_to_none(&input.reply_to);
    if let Some(r) = &reply_to
        && !is_address(r)
    {
        errors.push(FieldError::coded("reply_to", "email", "is not an e-mail address").arg("value", r.clone()));
    }
    let attachment_name = isms_kernel::input::blank_to_none(&input.attachment_name);
    if let Some(a) = &attachment_name
        && (a.contains(['/', '\\', '\r', '\n']) || a.chars().count() > 120)
    {
        errors.push(FieldError::coded("attachment_name", "drill-attachment-name", "is not a file name").arg("value", a.clone()));
    }
    let langs = [
        ("ja", &input.subject_ja, &input.body_ja, &input.landing_ja, &input.lesson_ja),
        ("en", &input.subject_en, &input.body_en, &input.landing_en, &input.lesson_en),
    ];
    let mut texts = vec![];
    for (lang, subject, body, landing, lesson) in langs {
        // A language left wholly blank is not written; the other one is then sent.
        if subject.trim().is_empty() && body.trim().is_empty() && landing.trim().is_empty() && lesson.trim().is_empty() {
            continue;
        }
        if let Some(k) = kind {
            for mut e in check_template(k, subject, body, reply_to.as_deref()) {
                if e.field == "subject" || e.field == "body" {
                    e.field = format!("{}_{lang}", e.field);
                }
                if !errors.iter().any(|x| x.field == e.field && x.code == e.code) {
                    errors.push(e);
                }
            }
        }
        for (field, v) in [("landing", landing), ("lesson", lesson)] {
            let name = format!("{field}_{lang}");
            if let Err(e) = isms_core::drills::parse_template(&name, v).and_then(|_| isms_core::text::multi_line(&name, v)) {
                errors.push(e);
            }
        }
        if subject.chars().count() > 500 {
            errors.push(FieldError::coded(format!("subject_{lang}"), "too-long", "is longer than 500 characters").arg("max", "500"));
        }
        texts.push((lang.to_owned(), subject.trim().to_owned(), body.trim().to_owned(), landing.trim().to_owned(), lesson.trim().to_owned()));
    }
    if texts.is_empty() {
        errors.push(FieldError::coded("subject_ja", "drill-no-text", "write the mail in Japanese, English or both"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let Some(kind) = kind else { return Err(AppError::Invalid(errors)) };
    let attachment_name = match (kind, attachment_name) {
        (DrillKind::Virus, None) => Some("請求書_2026.html".to_owned()),
        (DrillKind::Virus, Some(a)) => Some(a),
        (_, _) => None,
    };
    Ok(Valid {
        company_id: isms_kernel::input::blank_to_none(&input.company_id),
        name,
        kind,
        from_name,
        from_address,
        reply_to: if kind == DrillKind::Bec { reply_to } else { None },
        attachment_name,
        texts,
    })
}

async fn assemble(db: &impl ConnectionTrait, m: template::Model) -> Result<Template> {
    let texts = text::Entity::find().filter(text::Column::TemplateId.eq(m.id.clone())).order_by_desc(text::Column::Lang).all(db).await?;
    Ok(Template {
        kind: DrillKind::parse(&m.kind).map_err(|e| AppError::internal(e.message))?,
        texts: texts.into_iter().map(|t| TemplateText { lang: t.lang, subject: t.subject, body: t.body, landing: t.landing, lesson: t.lesson }).collect(),
        id: m.id,
        company_id: m.company_id,
        name: m.name,
        from_name: m.from_name,
        from_address: m.from_address,
        reply_to: m.reply_to,
        attachment_name: m.attachment_name,
        retired: m.retired,
    })
}

pub async fn list(app: &App, who: &Principal) -> Result<Vec<Template>> {
    let within = who.within(isms_core::Permission::DrillsRead)?;
    let mut q = template::Entity::find().order_by_asc(template::Column::Name);
    if let Some(c) = within {
        q = q.filter(template::Column::CompanyId.is_in(c).or(template::Column::CompanyId.is_null()));
    }
    let db = app.store.conn();
    let mut out = vec![];
    for m in q.all(db).await? {
        out.push(assemble(db, m).await?);
    }
    Ok(out)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Template> {
    let db = app.store.conn();
    let m = template::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    assemble(db, m).await
}

/// A template as the sender and the tracking pages read it, without a reader's scope.
pub(crate) async fn load(db: &impl ConnectionTrait, id: &str) -> Result<Template> {
    let m = template::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    assemble(db, m).await
}

async fn write_texts(db: &impl ConnectionTrait, id: &str, texts: &[(String, String, String, String, String)]) -> Result<()> {
    text::Entity::delete_many().filter(text::Column::TemplateId.eq(id.to_owned())).exec(db).await?;
    for (lang, subject, body, landing, lesson) in texts {
        text::ActiveModel {
            template_id: Set(id.to_owned()),
            lang: Set(lang.clone()),
            subject: Set(subject.clone()),
            body: Set(body.clone()),
            landing: Set(landing.clone()),
            lesson: Set(lesson.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn create(app: &App, who: &Principal, input: TemplateInput) -> Result<Template> {
    require_manages(who, isms_kernel::input::blank_to_none(&input.company_id).as_deref())?;
    let v = validate(&input)?;
    let now = now_ms();
    let id = new_id();
    let txn = app.store.write().await?;
    let m = template::ActiveModel {
        id: Set(id.clone()),
        company_id: Set(v.company_id.clone()),
        name: Set(v.name.clone()),
        kind: Set(v.kind.code().into()),
        from_name: Set(v.from_name.clone()),
        from_address: Set(v.from_address.clone()),
        reply_to: Set(v.reply_to.clone()),
        attachment_name: Set(v.attachment_name.clone()),
        retired: Set(false),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    write_texts(&txn, &id, &v.texts).await?;
    record(app, &txn, who, "drills.template.create", "drill_template", Some(&id), v.company_id.as_deref(), json!({"name": v.name, "kind": v.kind})).await?;
    let t = assemble(&txn, m).await?;
    txn.commit().await?;
    Ok(t)
}

pub async fn update(app: &App, who: &Principal, id: &str, input: TemplateInput) -> Result<Template> {
    let txn = app.store.write().await?;
    let m = template::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    require_reads(who, m.company_id.as_deref())?;
    require_manages(who, m.company_id.as_deref())?;
    let v = validate(&TemplateInput { company_id: m.company_id.clone(), ..input })?;
    let company = m.company_id.clone();
    let mut am = m.into_active_model();
    am.name = Set(v.name.clone());
    am.kind = Set(v.kind.code().into());
    am.from_name = Set(v.from_name);
    am.from_address = Set(v.from_address);
    am.reply_to = Set(v.reply_to);
    am.attachment_name = Set(v.attachment_name);
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    write_texts(&txn, id, &v.texts).await?;
    record(app, &txn, who, "drills.template.update", "drill_template", Some(id), company.as_deref(), json!({"name": v.name, "kind": v.kind})).await?;
    let t = assemble(&txn, saved).await?;
    txn.commit().await?;
    Ok(t)
}
