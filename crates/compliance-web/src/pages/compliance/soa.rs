//! The Statement of Applicability page: one framework and one scope, the assessment at
//! the top (met, partly met, not met, by clause or function), every requirement with its
//! decision, state, controls, evidence and risks, the gap list, and the XLSX and PDF
//! exports for a certification auditor.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_compliance::soa::{self, Decision, Labels, Statement};
use isms_compliance::{Framework, Scope, frameworks};
use isms_core::compliance::{Compliance, ControlStatus, Tally};
use isms_kernel::Principal;
use isms_org::org::Company;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render_form};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize, Default, Clone)]
pub struct SoaQ {
    #[serde(default)]
    pub framework: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// `gaps` for the gap list only.
    #[serde(default)]
    pub view: Option<String>,
}

#[derive(Template)]
#[template(path = "soa.html")]
struct SoaPage {
    shell: Shell,
    s: Statement,
    frameworks: Vec<Framework>,
    companies: Vec<Company>,
    gaps_only: bool,
    query: String,
    group_ok: bool,
    /// A decision that was refused: drawn again in its row with the reason beside it.
    refused: Option<Refused>,
}

/// A refused decision as it was sent: which requirement, the choice and the reason typed,
/// and why it was refused (in the reader's language).
struct Refused {
    requirement_id: String,
    applicable: String,
    justification: String,
    message: String,
}

impl SoaPage {
    /// The choice to show in a row's select: the refused one for its row, else the stored one.
    fn choice(&self, row: &soa::SoaRow) -> &'static str {
        let applicable = match self.refused_in(row) {
            Some(r) => ["yes", "no"].contains(&r.applicable.as_str()).then(|| r.applicable == "yes"),
            None => row.applicable,
        };
        match applicable {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }
    }

    fn refused_in<'a>(&'a self, row: &soa::SoaRow) -> Option<&'a Refused> {
        self.refused.as_ref().filter(|r| r.requirement_id == row.requirement.id)
    }

    fn share(&self, t: &Tally) -> (String, String, String) {
        let (m, p, n) = t.per_mille();
        (Tally::percent(m), Tally::percent(p), Tally::percent(n))
    }

    /// Bar widths in whole per cent, for the stacked bar.
    fn widths(&self, t: &Tally) -> (u32, u32, u32) {
        let (m, p, n) = t.per_mille();
        (m / 10, p / 10, n / 10)
    }
}

/// The scope the reader may look at: the one asked for, else the group's when they read
/// group-wide, else their first company.
fn pick_scope(who: &Principal, companies: &[Company], asked: Option<&str>) -> isms_kernel::Result<Scope> {
    if let Some(s) = asked.filter(|s| !s.is_empty()) {
        return Scope::parse(s);
    }
    if who.access.can_for(isms_core::Permission::ComplianceRead, None) {
        return Ok(Scope::Group);
    }
    companies.first().map(|c| Scope::Company(c.id.clone())).ok_or(isms_kernel::AppError::Forbidden)
}

async fn load(state: &WebState, who: &Principal, q: &SoaQ) -> isms_kernel::Result<(Statement, Vec<Framework>, Vec<Company>)> {
    let frameworks = frameworks::list(&state.app, who).await?;
    let companies: Vec<Company> = isms_org::org::list_companies(&state.app, who)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| who.access.can_for(isms_core::Permission::ComplianceRead, c.id.parse().ok()))
        .collect();
    let fw = q
        .framework
        .clone()
        .filter(|f| !f.is_empty())
        .or_else(|| frameworks.iter().find(|f| f.code == "iso27001-2022").or(frameworks.first()).map(|f| f.code.clone()));
    let fw = fw.ok_or(isms_kernel::AppError::NotFound)?;
    let scope = pick_scope(who, &companies, q.scope.as_deref())?;
    let s = soa::statement(&state.app, who, &fw, &scope).await?;
    Ok((s, frameworks, companies))
}

pub async fn page(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<SoaQ>) -> PageResult {
    soa_page(&state, &ctx, &headers, &who, &q, None).await
}

async fn soa_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, q: &SoaQ, refused: Option<Refused>) -> PageResult {
    let (s, frameworks, companies) = load(state, who, q).await.or_page(ctx)?;
    let query = format!("framework={}&scope={}", s.framework.code, s.scope);
    let shell = Shell::new(ctx, headers, "soa-title").crumb("/frameworks", "frameworks-title").titled(format!(
        "{} — {}",
        ctx.i18n.get(ctx.lang, "soa-title"),
        s.framework.name
    ));
    let invalid = refused.is_some();
    let r = render_form(
        &SoaPage {
            shell,
            s,
            frameworks,
            companies,
            gaps_only: q.view.as_deref() == Some("gaps"),
            query,
            group_ok: who.access.can_for(isms_core::Permission::ComplianceRead, None),
            refused,
        },
        invalid,
    );
    Ok(clear_flash(state, r, headers))
}

#[derive(Deserialize)]
pub struct DecideForm {
    framework: String,
    scope: String,
    requirement_id: String,
    applicable: String,
    #[serde(default)]
    justification: String,
}

pub async fn decide(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<DecideForm>) -> PageResult {
    let scope = Scope::parse(&f.scope).or_page(&ctx)?;
    let r = match f.applicable.as_str() {
        "yes" | "no" => {
            let d = Decision { applicable: f.applicable == "yes", justification: f.justification.clone() };
            soa::decide(&state.app, &who, &f.framework, &scope, &f.requirement_id, d).await
        }
        _ => Err(isms_kernel::AppError::coded("applicable", "soa-choose-applicable", "choose whether the requirement applies")),
    };
    match r {
        Ok(()) => {
            Ok(redirect_with_flash(&state, &format!("/soa?framework={}&scope={}#r-{}", f.framework, scope.key(), f.requirement_id), "flash-saved", ctx.is_htmx))
        }
        Err(e) => {
            // The statement is drawn again with the refusal in the decision's own row; the
            // form's address carries the row's anchor, so the reader stays where they were.
            let errors = isms_webkit::shell::form_errors(e).or_page(&ctx)?;
            let shell = Shell::new(&ctx, &headers, "soa-title");
            let message = errors.iter().map(|e| shell.message(e.code, &e.args, &e.message)).collect::<Vec<_>>().join(" ");
            let refused = Refused { requirement_id: f.requirement_id, applicable: f.applicable, justification: f.justification, message };
            let q = SoaQ { framework: Some(f.framework), scope: Some(scope.key().to_owned()), view: None };
            soa_page(&state, &ctx, &headers, &who, &q, Some(refused)).await
        }
    }
}

/// The words of an export in the reader's language.
pub fn labels(ctx: &Ctx, s: &Statement, scope_name: &str) -> Labels {
    let t = |k: &str| ctx.i18n.get(ctx.lang, k);
    let mut words = HashMap::new();
    for c in Compliance::ALL {
        words.insert(c.code().to_owned(), t(&format!("compliance-{}", c.code())));
    }
    for c in ControlStatus::ALL {
        words.insert(c.code().to_owned(), t(&format!("control-status-{}", c.code())));
    }
    let when = jiff::Timestamp::from_millisecond(s.generated_ms)
        .map(|ts| ts.to_zoned_datetime(ctx.tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default();
    Labels {
        title: t("soa-title"),
        scope: ctx.i18n.get_with(ctx.lang, "soa-scope-line", &[("scope", scope_name.to_owned())]),
        generated: ctx.i18n.get_with(ctx.lang, "soa-generated-line", &[("when", when)]),
        summary: {
            let (m, p, n) = s.tally.per_mille();
            ctx.i18n.get_with(
                ctx.lang,
                "soa-summary-line",
                &[("met", Tally::percent(m)), ("partial", Tally::percent(p)), ("not_met", Tally::percent(n)), ("excluded", s.tally.excluded.to_string())],
            )
        },
        page: t("page-n-of-total"),
        language: ctx.lang.code().to_owned(),
        columns: ["col-ref", "col-requirement", "col-applicable", "col-justification", "col-state", "controls-title", "col-evidence", "risks-title-short"]
            .map(t),
        yes: t("yes"),
        no: t("no"),
        undecided: t("soa-undecided"),
        words,
    }
}

async fn export(state: &WebState, ctx: &Ctx, who: &Principal, q: &SoaQ, pdf: bool) -> Response {
    let (s, _, companies) = isms_webkit::page_try!(ctx, load(state, who, q).await);
    let scope_name = companies.iter().find(|c| c.id == s.scope).map(|c| c.name.clone()).unwrap_or_else(|| ctx.i18n.get(ctx.lang, "whole-group"));
    let l = labels(ctx, &s, &scope_name);
    let name = format!("soa-{}-{}.{}", s.framework.code, if s.scope == "group" { "group" } else { "company" }, if pdf { "pdf" } else { "xlsx" });
    let r = if pdf { soa::pdf(&s, &l).map(|b| (b, "application/pdf")) } else { soa::xlsx(&s, &l).map(|b| (b, isms_kernel::sheet::CONTENT_TYPE)) };
    let (body, ct) = isms_webkit::page_try!(ctx, r);
    isms_webkit::download::file(&name, ct, body)
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<SoaQ>) -> Response {
    export(&state, &ctx, &who, &q, false).await
}

pub async fn export_pdf(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<SoaQ>) -> Response {
    export(&state, &ctx, &who, &q, true).await
}
