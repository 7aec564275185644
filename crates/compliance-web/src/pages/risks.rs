//! The risk register: the list with its filters, exports and the inherent and residual
//! heat maps (HTML grids coloured and worded by the matrix's bands, each cell a link), a risk's page with acceptance and
//! treatment actions, the risk form, and the matrix with its levels' meanings.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_compliance::Control;
use isms_compliance::controls::ControlQuery;
use isms_compliance::risks::{self, Acceptance, ActionInput, HeatMap, Risk, RiskDetail, RiskInput, RiskQuery};
use isms_core::Permission;
use isms_core::compliance::risk::{Level, Matrix, Rating, RiskStatus, Treatment};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::{ListView, PageQ, offset_of};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

/// One heat map: likelihood rows from the highest down, impact columns from the lowest,
/// each cell with its count, its band (colour and word) and a link to the risks in it.
pub struct HeatGrid {
    /// `inherent` or `residual`: which scores the cells count.
    pub basis: &'static str,
    pub impacts: Vec<String>,
    pub rows: Vec<HeatRow>,
}

pub struct HeatRow {
    pub likelihood: String,
    pub cells: Vec<HeatCell>,
}

pub struct HeatCell {
    pub count: u64,
    /// The rating code of the cell's score (`low` … `critical`).
    pub rating: &'static str,
    pub rating_word: String,
    /// The register filtered to this cell, keeping the list's other filters.
    pub href: String,
    /// What a pointer resting on the cell reads: the levels, the band and the count.
    pub title: String,
    /// The cell's filter is the list's current one.
    pub chosen: bool,
}

/// The list's filters other than the cell, as the start of a query string.
fn filters_but_cell(q: &RiskQuery) -> String {
    let mut v = ListView::new("/risks");
    for (k, val) in [
        ("search", &q.search),
        ("company_id", &q.company_id),
        ("status", &q.status),
        ("treatment", &q.treatment),
        ("rating", &q.rating),
        ("owner_id", &q.owner_id),
        ("review", &q.review),
    ] {
        v = v.filter(k, val.as_deref().unwrap_or(""));
    }
    v.export_link("/risks")
}

fn heat_grid(shell: &Shell, m: &Matrix, counts: &[Vec<u64>], basis: &'static str, q: &RiskQuery, lang: &str) -> HeatGrid {
    let name = |l: &Level| if lang == "ja" { l.label_ja.clone() } else { l.label.clone() };
    let base = filters_but_cell(q);
    let sep = if base.contains('?') { '&' } else { '?' };
    let current = q.basis.as_deref().filter(|b| !b.is_empty()).unwrap_or("residual") == basis;
    let rows = (1..=m.likelihood.len())
        .rev()
        .map(|l| {
            let cells = (1..=m.impact.len())
                .map(|i| {
                    let count = counts.get(l - 1).and_then(|r| r.get(i - 1)).copied().unwrap_or(0);
                    let rating = m.rating((l * i) as u32).code();
                    let rating_word = shell.label("rating", rating);
                    let title = shell.tr(
                        "heat-cell",
                        &[
                            ("likelihood", name(&m.likelihood[l - 1])),
                            ("impact", name(&m.impact[i - 1])),
                            ("rating", rating_word.clone()),
                            ("n", count.to_string()),
                        ],
                    );
                    HeatCell {
                        count,
                        rating,
                        rating_word,
                        href: format!("{base}{sep}basis={basis}&likelihood={l}&impact={i}"),
                        title,
                        chosen: current && q.likelihood == Some(l as i16) && q.impact == Some(i as i16),
                    }
                })
                .collect();
            HeatRow { likelihood: name(&m.likelihood[l - 1]), cells }
        })
        .collect();
    HeatGrid { basis, impacts: m.impact.iter().map(name).collect(), rows }
}

const PAGE_SIZE: u64 = 50;

#[derive(Template)]
#[template(path = "risks_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Risk>,
    list: ListView,
    q: RiskQuery,
    look: Lookup,
    can_create: bool,
    inherent: HeatGrid,
    residual: HeatGrid,
    /// The cell the list is filtered to, in words, and the link that clears it.
    cell_filter: Option<(String, String)>,
    /// The names of ratings, treatments and statuses, looked up once per page.
    words: std::collections::HashMap<String, String>,
}

impl ListPage {
    fn word(&self, prefix: &str, code: &str) -> String {
        self.words.get(&format!("{prefix}-{code}")).cloned().unwrap_or_default()
    }
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(mut q): Query<RiskQuery>,
    Query(p): Query<PageQ>,
) -> PageResult {
    Ok({
        q.limit = PAGE_SIZE;
        q.offset = offset_of(p.page, PAGE_SIZE);
        let (result, heat) = tokio::try_join!(risks::list(&state.app, &who, &q), risks::heat_map(&state.app, &who, &q)).or_page(&ctx)?;
        let HeatMap { matrix, inherent, residual } = heat;
        let lang = ctx.lang.code();
        let look = Lookup::with(&state, &who, lang, result.items.iter().map(|r| r.owner_id.clone())).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "risks-title");
        let cell = |n: Option<i16>| n.map(|n| n.to_string()).unwrap_or_default();
        let list = ListView::new("/risks")
            .filter("search", q.search.as_deref().unwrap_or(""))
            .filter("company_id", q.company_id.as_deref().unwrap_or(""))
            .filter("status", q.status.as_deref().unwrap_or(""))
            .filter("treatment", q.treatment.as_deref().unwrap_or(""))
            .filter("rating", q.rating.as_deref().unwrap_or(""))
            .filter("owner_id", q.owner_id.as_deref().unwrap_or(""))
            .filter("review", q.review.as_deref().unwrap_or(""))
            .filter("likelihood", &cell(q.likelihood))
            .filter("impact", &cell(q.impact))
            .filter("basis", q.basis.as_deref().unwrap_or(""))
            .sorted(q.sort.as_deref().unwrap_or(""), q.dir.as_deref().unwrap_or(""), "residual")
            .default_descending()
            .paged(p.page, result.total, PAGE_SIZE);
        let mut words = std::collections::HashMap::new();
        for (prefix, codes) in [
            ("rating", Rating::ALL.iter().map(|x| x.code()).collect::<Vec<_>>()),
            ("treatment", Treatment::ALL.iter().map(|x| x.code()).collect()),
            ("risk-status", RiskStatus::ALL.iter().map(|x| x.code()).collect()),
        ] {
            for c in codes {
                words.insert(format!("{prefix}-{c}"), shell.label(prefix, c));
            }
        }
        let inherent_grid = heat_grid(&shell, &matrix, &inherent, "inherent", &q, lang);
        let residual_grid = heat_grid(&shell, &matrix, &residual, "residual", &q, lang);
        let cell_filter = match (q.likelihood, q.impact) {
            (Some(l), Some(i)) if l >= 1 && i >= 1 && (l as usize) <= matrix.likelihood.len() && (i as usize) <= matrix.impact.len() => {
                let name = |v: &Level| if lang == "ja" { v.label_ja.clone() } else { v.label.clone() };
                let key = if q.basis.as_deref() == Some("inherent") { "heat-filter-inherent" } else { "heat-filter-residual" };
                let words = shell.tr(key, &[("likelihood", name(&matrix.likelihood[l as usize - 1])), ("impact", name(&matrix.impact[i as usize - 1]))]);
                Some((words, filters_but_cell(&q)))
            }
            _ => None,
        };
        let r = render(&ListPage {
            shell,
            rows: result.items,
            list,
            q,
            look,
            can_create: who.access.can(Permission::RisksManage),
            inherent: inherent_grid,
            residual: residual_grid,
            cell_filter,
            words,
        });
        clear_flash(&state, r, &headers)
    })
}

async fn export_rows(state: &WebState, ctx: &Ctx, who: &Principal, q: &RiskQuery) -> isms_kernel::Result<Vec<Vec<String>>> {
    let mut q = q.clone();
    q.limit = 1000;
    q.offset = 0;
    let t = |k: &str| ctx.i18n.get(ctx.lang, k);
    let look = Lookup::load(state, who, ctx.lang.code()).await?;
    let mut rows = vec![
        [
            "col-ref",
            "field-title",
            "col-company",
            "field-risk-owner",
            "field-threat",
            "field-vulnerability",
            "col-inherent",
            "col-residual",
            "col-rating",
            "field-treatment",
            "col-status",
            "field-acceptance-expires",
            "col-review-due",
        ]
        .iter()
        .map(|k| t(k))
        .collect::<Vec<_>>(),
    ];
    loop {
        let page = risks::list(&state.app, who, &q).await?;
        let n = page.items.len() as u64;
        let names = isms_org::people::names(&state.app, &page.items.iter().filter_map(|r| r.owner_id.clone()).collect::<Vec<_>>()).await?;
        for r in page.items {
            rows.push(vec![
                r.reference,
                r.title,
                look.company(&r.company_id),
                r.owner_id.as_ref().and_then(|o| names.get(o)).map(|(n, name)| format!("{n} {name}")).unwrap_or_default(),
                r.threat,
                r.vulnerability,
                format!("{} ({}×{})", r.inherent_score, r.inherent_likelihood, r.inherent_impact),
                format!("{} ({}×{})", r.residual_score, r.residual_likelihood, r.residual_impact),
                t(&format!("rating-{}", r.residual_rating.code())),
                t(&format!("treatment-{}", r.treatment.code())),
                t(&format!("risk-status-{}", r.status.code())),
                r.acceptance_expires.unwrap_or_default(),
                r.review_due.unwrap_or_default(),
            ]);
        }
        q.offset += n;
        if n < q.limit || q.offset >= page.total {
            break;
        }
    }
    Ok(rows)
}

pub async fn export_csv(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<RiskQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::download::csv("risks.csv", &rows)
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<RiskQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::page_try!(&ctx, isms_webkit::download::report(&ctx, "risks.xlsx", "risks", "risks-title", &rows))
}

#[derive(Template)]
#[template(path = "risk.html")]
struct ShowPage {
    shell: Shell,
    d: RiskDetail,
    look: Lookup,
    form: FormState,
    statuses: Vec<&'static str>,
}

async fn show_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let d = isms_webkit::page_try!(ctx, risks::get(&state.app, who, id).await);
    let owners = std::iter::once(d.risk.owner_id.clone()).chain(d.actions.iter().map(|a| a.owner_id.clone()));
    let look = isms_webkit::page_try!(ctx, Lookup::with(state, who, ctx.lang.code(), owners.collect::<Vec<_>>()).await);
    let shell = Shell::new(ctx, headers, "risk-title").crumb("/risks", "risks-title").titled(format!("{} {}", d.risk.reference, d.risk.title));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let statuses = [RiskStatus::Open, RiskStatus::Treating, RiskStatus::Closed].iter().map(|s| s.code()).collect();
    render_form(&ShowPage { shell, d, look, form, statuses }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/risks/{id}"), flash, ctx.is_htmx),
        Err(e) => show_page(state, ctx, headers, who, id, isms_webkit::refusals!(ctx, e)).await,
    }
}

pub async fn accept(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(a): Form<Acceptance>) -> Response {
    let r = risks::accept(&state.app, &who, &id, a).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-accepted").await
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn set_status(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let r = risks::set_status(&state.app, &who, &id, &f.status, &f.note).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn reviewed(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = risks::reviewed(&state.app, &who, &id, "").await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-reviewed").await
}

pub async fn add_action(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(a): Form<ActionInput>,
) -> Response {
    let r = risks::add_action(&state.app, &who, &id, a).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn action_done(PageCx { state, ctx, headers, who }: PageCx, Path((id, aid)): Path<(String, String)>) -> Response {
    let r = risks::complete_action(&state.app, &who, &id, &aid).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Template)]
#[template(path = "risk_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: RiskInput,
    look: Lookup,
    action: String,
    matrix: Matrix,
    treatments: Vec<&'static str>,
    controls: Vec<Control>,
    assets: Vec<isms_assets::Asset>,
}

impl FormPage {
    fn level_label(&self, l: &Level) -> String {
        if self.shell.lang() == "ja" { l.label_ja.clone() } else { l.label.clone() }
    }
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: RiskInput,
    action: String,
    title: &str,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let matrix = isms_webkit::page_try!(ctx, risks::matrix(&state.app).await);
    let controls = isms_webkit::page_try!(
        ctx,
        isms_compliance::controls::list(&state.app, who, &ControlQuery { limit: 500, ..Default::default() }).await.map(|p| p.items)
    );
    let assets = if who.access.can(Permission::AssetsRead) {
        let q = isms_store::assets::AssetQuery { limit: 1_000, ..Default::default() };
        isms_webkit::page_try!(ctx, isms_assets::register::list(&state.app, who, &q).await.map(|p| p.items))
    } else {
        vec![]
    };
    let shell = Shell::new(ctx, headers, title).crumb("/risks", "risks-title");
    let form = FormState::new(&shell, errors)
        .labelled(&shell, &[("company_id", "col-company"), ("review_due", "col-review-due"), ("control_ids", "controls-title"), ("asset_ids", "risk-assets")]);
    let invalid = !form.errors.is_empty();
    let treatments = Treatment::ALL.iter().map(|t| t.code()).collect();
    render_form(&FormPage { shell, form, v, look, action, matrix, treatments, controls, assets }, invalid)
}

/// Parses the form by hand: `asset_ids` and `control_ids` repeat; scores are numbers.
/// A level that is not a number is refused beside its field; everything else is kept.
fn parse_form(body: &[u8]) -> (RiskInput, Vec<isms_core::FieldError>) {
    let mut v = RiskInput::default();
    let mut errors = vec![];
    let mut num = |field: &'static str, s: &str| -> i32 { isms_kernel::input::whole(&mut errors, field, s).unwrap_or(0) };
    for (k, val) in form_urlencoded::parse(body) {
        let val = val.into_owned();
        match k.as_ref() {
            "title" => v.title = val,
            "description" => v.description = val,
            "company_id" => v.company_id = val,
            "owner_id" => v.owner_id = val,
            "threat" => v.threat = val,
            "vulnerability" => v.vulnerability = val,
            "inherent_likelihood" => v.inherent_likelihood = num("inherent_likelihood", &val),
            "inherent_impact" => v.inherent_impact = num("inherent_impact", &val),
            "residual_likelihood" => v.residual_likelihood = num("residual_likelihood", &val),
            "residual_impact" => v.residual_impact = num("residual_impact", &val),
            "residual_reason" => v.residual_reason = val,
            "treatment" => v.treatment = val,
            "plan" => v.plan = val,
            "review_due" => v.review_due = Some(val).filter(|s| !s.trim().is_empty()),
            "asset_ids" => v.asset_ids.push(val),
            "control_ids" => v.control_ids.push(val),
            _ => {}
        }
    }
    (v, errors)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = RiskInput {
        treatment: "mitigate".into(),
        inherent_likelihood: 3,
        inherent_impact: 3,
        residual_likelihood: 2,
        residual_impact: 3,
        ..Default::default()
    };
    form_page(&state, &ctx, &headers, &who, v, "/risks/new".into(), "risk-new-title", vec![]).await
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, "/risks/new".into(), "risk-new-title", errors).await;
    }
    match risks::create(&state.app, &who, input.clone()).await {
        Ok(r) => redirect_with_flash(&state, &format!("/risks/{}", r.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, "/risks/new".into(), "risk-new-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let d = match risks::get(&state.app, &who, &id).await {
        Ok(d) if d.can_manage => d,
        Ok(_) => return isms_webkit::error::page_error(&ctx, isms_kernel::AppError::Forbidden),
        Err(e) => return isms_webkit::error::page_error(&ctx, e),
    };
    let r = d.risk;
    let owner = isms_org::people::names(&state.app, &r.owner_id.iter().cloned().collect::<Vec<_>>())
        .await
        .ok()
        .and_then(|m| r.owner_id.as_ref().and_then(|o| m.get(o).map(|(n, _)| n.clone())));
    let v = RiskInput {
        title: r.title,
        description: r.description,
        company_id: r.company_id,
        owner_id: owner.or(r.owner_id).unwrap_or_default(),
        threat: r.threat,
        vulnerability: r.vulnerability,
        inherent_likelihood: r.inherent_likelihood as i32,
        inherent_impact: r.inherent_impact as i32,
        residual_likelihood: r.residual_likelihood as i32,
        residual_impact: r.residual_impact as i32,
        residual_reason: r.residual_reason,
        treatment: r.treatment.code().into(),
        plan: r.plan,
        review_due: r.review_due,
        asset_ids: d.assets.into_iter().map(|a| a.id).collect(),
        control_ids: d.controls.into_iter().map(|c| c.id).collect(),
    };
    form_page(&state, &ctx, &headers, &who, v, format!("/risks/{id}/edit"), "risk-edit-title", vec![]).await
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let action = format!("/risks/{id}/edit");
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, action, "risk-edit-title", errors).await;
    }
    match risks::update(&state.app, &who, &id, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/risks/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, action, "risk-edit-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "risk_matrix.html")]
struct MatrixPage {
    shell: Shell,
    m: Matrix,
    manage: bool,
    form: FormState,
}

impl MatrixPage {
    fn rating(&self, l: &usize, i: &usize) -> &'static str {
        self.m.rating(((l + 1) * (i + 1)) as u32).code()
    }

    fn score(&self, l: &usize, i: &usize) -> usize {
        (l + 1) * (i + 1)
    }

    /// Each axis with its levels and, for those who may change them, one blank level
    /// to add (up to ten).
    fn axes(&self) -> Vec<(&'static str, Vec<Level>)> {
        let blank = Level { label: String::new(), label_ja: String::new(), meaning: String::new(), meaning_ja: String::new() };
        [("likelihood", &self.m.likelihood), ("impact", &self.m.impact)]
            .into_iter()
            .map(|(a, l)| {
                let mut l = l.clone();
                if self.manage && l.len() < 10 {
                    l.push(blank.clone());
                }
                (a, l)
            })
            .collect()
    }

    fn ratings(&self) -> Vec<&'static str> {
        Rating::ALL.iter().map(|r| r.code()).collect()
    }
}

async fn matrix_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, m: Option<Matrix>, errors: Vec<isms_core::FieldError>) -> Response {
    let m = match m {
        Some(m) => m,
        None => isms_webkit::page_try!(ctx, risks::matrix(&state.app).await),
    };
    let shell = Shell::new(ctx, headers, "risk-matrix-title").crumb("/risks", "risks-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&MatrixPage { shell, m, manage: who.access.can_for(Permission::RisksManage, None), form }, invalid)
}

pub async fn matrix(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = matrix_page(&state, &ctx, &headers, &who, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

/// The matrix form: one row per level (`likelihood.1.label`, …) and the band thresholds.
fn parse_matrix(body: &[u8]) -> (Matrix, Vec<isms_core::FieldError>) {
    let mut errors = vec![];
    let mut m = Matrix { likelihood: vec![], impact: vec![], bands: isms_core::compliance::risk::Bands { medium: 0, high: 0, critical: 0 } };
    for (k, val) in form_urlencoded::parse(body) {
        let val = val.trim().to_owned();
        let parts: Vec<&str> = k.split('.').collect();
        match parts.as_slice() {
            [axis @ ("likelihood" | "impact"), n, field] => {
                // Level numbers come from the form's own names; one that is not is ignored.
                let Ok(n) = n.parse::<usize>() else { continue };
                let list = if *axis == "likelihood" { &mut m.likelihood } else { &mut m.impact };
                if n == 0 || n > 10 {
                    continue;
                }
                while list.len() < n {
                    list.push(Level { label: String::new(), label_ja: String::new(), meaning: String::new(), meaning_ja: String::new() });
                }
                let l = &mut list[n - 1];
                match *field {
                    "label" => l.label = val,
                    "label_ja" => l.label_ja = val,
                    "meaning" => l.meaning = val,
                    "meaning_ja" => l.meaning_ja = val,
                    _ => {}
                }
            }
            ["medium" | "high" | "critical"] => {
                let v: u32 = isms_kernel::input::whole(&mut errors, parts[0], &val).unwrap_or(0);
                match parts[0] {
                    "medium" => m.bands.medium = v,
                    "high" => m.bands.high = v,
                    _ => m.bands.critical = v,
                }
            }
            _ => {}
        }
    }
    // Rows left blank at the end shrink the axis.
    for list in [&mut m.likelihood, &mut m.impact] {
        while list.last().is_some_and(|l| l.label.is_empty() && l.label_ja.is_empty() && l.meaning.is_empty() && l.meaning_ja.is_empty()) {
            list.pop();
        }
    }
    (m, errors)
}

pub async fn set_matrix(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (m, errors) = parse_matrix(&body);
    if !errors.is_empty() {
        return matrix_page(&state, &ctx, &headers, &who, Some(m), errors).await;
    }
    match risks::set_matrix(&state.app, &who, m.clone()).await {
        Ok(_) => redirect_with_flash(&state, "/risks/matrix", "flash-saved", ctx.is_htmx),
        Err(e) => matrix_page(&state, &ctx, &headers, &who, Some(m), isms_webkit::refusals!(&ctx, e)).await,
    }
}
