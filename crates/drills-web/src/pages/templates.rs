//! Drill mails: the list, the form that writes one in Japanese and English, and a
//! preview of each language as a recipient would receive it, with sample values in the
//! merge fields.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::FieldError;
use isms_core::drills::{DrillKind, MERGE_FIELDS, parse_template, render};
use isms_drills::{Template, TemplateInput, templates};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render as render_page, render_form};
use serde::Deserialize;

#[derive(askama::Template)]
#[template(path = "drills_templates.html")]
struct ListPage {
    shell: Shell,
    items: Vec<Template>,
    look: Lookup,
    can_manage: bool,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    let items = templates::list(&state.app, &who).await.or_page(&ctx)?;
    let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "drills-templates-title").crumb("/drills", "maildrills-title");
    let can_manage = who.access.can(isms_core::Permission::DrillsManage);
    Ok(clear_flash(&state, render_page(&ListPage { shell, items, look, can_manage }), &headers))
}

/// One language of a mail as the recipient would see it.
pub struct Preview {
    pub lang: &'static str,
    pub subject: String,
    pub body: String,
}

/// Sample values for the merge fields, in the preview's language.
fn sample(shell: &Shell, lang: &str, field: &str) -> String {
    match field {
        "email" => "taro.yamada@example.com".into(),
        "employee_number" => "E012345".into(),
        "link" => "https://drill.example.com/d/k7m3p5qd2x6fa4hwz6tnb5cj2e".into(),
        "date" => isms_core::calendar::today().to_string(),
        "ref" => "k7m3-p5qd-2x6f".into(),
        _ => shell.t_in(lang, &format!("drills-sample-{}", field.replace('_', "-"))),
    }
}

fn previews(shell: &Shell, t: &Template) -> Vec<Preview> {
    let mut out = vec![];
    for lang in ["ja", "en"] {
        let Some(x) = t.texts.iter().find(|x| x.lang == lang) else { continue };
        let fill = |field: &str, text: &str| match parse_template(field, text) {
            Ok(p) => render(&p, |f| sample(shell, lang, f), |s| s.to_owned()),
            Err(_) => text.to_owned(),
        };
        out.push(Preview { lang, subject: fill("subject", &x.subject), body: fill("body", &x.body) });
    }
    out
}

#[derive(askama::Template)]
#[template(path = "drills_template.html")]
struct ShowPage {
    shell: Shell,
    t: Template,
    look: Lookup,
    previews: Vec<Preview>,
    can_edit: bool,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    let t = templates::get(&state.app, &who, &id).await.or_page(&ctx)?;
    let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "drills-templates-title").crumb("/drills/templates", "drills-templates-title").titled(t.name.clone());
    let previews = previews(&shell, &t);
    let can_edit = isms_drills::manages(&who, t.company_id.as_deref());
    Ok(clear_flash(&state, render_page(&ShowPage { shell, t, look, previews, can_edit }), &headers))
}

/// The mail form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    pub company_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from_name: String,
    #[serde(default)]
    pub from_address: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub attachment_name: String,
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

impl TemplateForm {
    fn of(t: &Template) -> Self {
        let text = |lang: &str| t.texts.iter().find(|x| x.lang == lang).cloned();
        let (ja, en) = (text("ja"), text("en"));
        let part = |x: &Option<isms_drills::templates::TemplateText>, f: fn(&isms_drills::templates::TemplateText) -> &String| {
            x.as_ref().map(|x| f(x).clone()).unwrap_or_default()
        };
        Self {
            company_id: t.company_id.clone().unwrap_or_default(),
            name: t.name.clone(),
            kind: t.kind.code().into(),
            from_name: t.from_name.clone(),
            from_address: t.from_address.clone(),
            reply_to: t.reply_to.clone().unwrap_or_default(),
            attachment_name: t.attachment_name.clone().unwrap_or_default(),
            subject_ja: part(&ja, |x| &x.subject),
            body_ja: part(&ja, |x| &x.body),
            landing_ja: part(&ja, |x| &x.landing),
            lesson_ja: part(&ja, |x| &x.lesson),
            subject_en: part(&en, |x| &x.subject),
            body_en: part(&en, |x| &x.body),
            landing_en: part(&en, |x| &x.landing),
            lesson_en: part(&en, |x| &x.lesson),
        }
    }

    fn input(&self) -> TemplateInput {
        TemplateInput {
            company_id: Some(self.company_id.clone()),
            name: self.name.clone(),
            kind: self.kind.clone(),
            from_name: self.from_name.clone(),
            from_address: self.from_address.clone(),
            reply_to: Some(self.reply_to.clone()),
            attachment_name: Some(self.attachment_name.clone()),
            subject_ja: self.subject_ja.clone(),
            body_ja: self.body_ja.clone(),
            landing_ja: self.landing_ja.clone(),
            lesson_ja: self.lesson_ja.clone(),
            subject_en: self.subject_en.clone(),
            body_en: self.body_en.clone(),
            landing_en: self.landing_en.clone(),
            lesson_en: self.lesson_en.clone(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "drills_template_form.html")]
struct FormPage {
    shell: Shell,
    v: TemplateForm,
    look: Lookup,
    form: FormState,
    kinds: Vec<&'static str>,
    fields: String,
    action: String,
    creating: bool,
}

const LABELS: &[(&str, &str)] = &[
    ("company_id", "field-owning-company"),
    ("name", "drills-template-name"),
    ("kind", "drills-kind"),
    ("from_name", "drills-from-name"),
    ("from_address", "drills-from-address"),
    ("reply_to", "drills-reply-to"),
    ("attachment_name", "drills-attachment-name"),
    ("subject_ja", "drills-subject-ja"),
    ("body_ja", "drills-body-ja"),
    ("landing_ja", "drills-landing-ja"),
    ("lesson_ja", "drills-lesson-ja"),
    ("subject_en", "drills-subject-en"),
    ("body_en", "drills-body-en"),
    ("landing_en", "drills-landing-en"),
    ("lesson_en", "drills-lesson-en"),
];

async fn form_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: TemplateForm, id: Option<&str>, errors: Vec<FieldError>) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let shell = Shell::new(ctx, headers, if id.is_some() { "drills-template-edit" } else { "drills-template-new" })
        .crumb("/drills/templates", "drills-templates-title");
    let form = FormState::new(&shell, errors).labelled(&shell, LABELS);
    let invalid = !form.errors.is_empty();
    let action = match id {
        Some(id) => format!("/drills/templates/{id}/edit"),
        None => "/drills/templates/new".into(),
    };
    let kinds = DrillKind::ALL.iter().map(|k| k.code()).collect();
    let fields = MERGE_FIELDS.iter().map(|f| format!("{{{{{f}}}}}")).collect::<Vec<_>>().join(" ");
    render_form(&FormPage { shell, v, look, form, kinds, fields, action, creating: id.is_none() }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = TemplateForm { kind: "credential".into(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, None, vec![]).await
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let t = isms_webkit::page_try!(&ctx, templates::get(&state.app, &who, &id).await);
    form_page(&state, &ctx, &headers, &who, TemplateForm::of(&t), Some(&id), vec![]).await
}

async fn save(state: WebState, ctx: Ctx, headers: HeaderMap, who: Principal, f: TemplateForm, id: Option<String>) -> Response {
    let r = match &id {
        None => templates::create(&state.app, &who, f.input()).await,
        Some(id) => templates::update(&state.app, &who, id, f.input()).await,
    };
    match r {
        Ok(t) => redirect_with_flash(&state, &format!("/drills/templates/{}", t.id), "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            form_page(&state, &ctx, &headers, &who, f, id.as_deref(), errors).await
        }
    }
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, axum::Form(f): axum::Form<TemplateForm>) -> Response {
    save(state, ctx, headers, who, f, None).await
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, axum::Form(f): axum::Form<TemplateForm>) -> Response {
    save(state, ctx, headers, who, f, Some(id)).await
}
