//! The Statement of Applicability for one framework and one scope (a company or the
//! group): every requirement with its applicability and justification, the state that
//! follows from the controls behind it, their evidence and the risks they treat; the
//! compliance assessment and gap list drawn from it; and its XLSX and PDF exports.

use super::Scope;
use super::controls::{self, RiskRef};
use super::frameworks::{self, Framework, Requirement};
use isms_core::compliance::{Compliance, ControlStatus, EvidenceKind, RequirementFacts, Tally, compliance, gap_reason};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::compliance::{control, control_company, control_requirement, risk, risk_control, soa};
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SoaControl {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: ControlStatus,
    pub proven: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SoaEvidence {
    pub control_code: String,
    pub title: String,
    pub kind: EvidenceKind,
    pub evidence_on: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SoaRow {
    pub requirement: Requirement,
    /// Whether the requirement is in scope: `null` until someone decides (it is then
    /// assessed as in scope, but reads "undecided" everywhere).
    pub applicable: Option<bool>,
    /// Whether someone has decided applicability.
    pub decided: bool,
    pub justification: String,
    /// `None` for a heading (a requirement with children).
    pub compliance: Option<Compliance>,
    /// Why it is a gap: no_control, planned_only, in_progress or unproven.
    pub gap: Option<String>,
    pub controls: Vec<SoaControl>,
    pub evidence: Vec<SoaEvidence>,
    pub risks: Vec<RiskRef>,
    pub updated_ms: Option<i64>,
}

/// The assessment of one top-level part of the framework (a clause, a theme, a function).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Section {
    pub requirement: Requirement,
    pub tally: Tally,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub framework: Framework,
    /// A company id, or `group`.
    pub scope: String,
    pub rows: Vec<SoaRow>,
    pub tally: Tally,
    pub sections: Vec<Section>,
    pub generated_ms: i64,
    pub can_manage: bool,
}

impl Statement {
    /// The rows that are gaps: applicable and not met.
    pub fn gaps(&self) -> impl Iterator<Item = &SoaRow> {
        self.rows.iter().filter(|r| r.gap.is_some())
    }
}

/// Builds the statement from the current links (controls, evidence, risks).
pub async fn statement(app: &App, who: &Principal, framework: &str, scope: &Scope) -> Result<Statement> {
    scope.require(who, Permission::ComplianceRead)?;
    let db = app.store.conn();
    let f = frameworks::find(db, framework).await?;
    let reqs = frameworks::requirements(db, &f.id).await?;
    let entries: HashMap<String, soa::Model> = soa::Entity::find()
        .filter(soa::Column::FrameworkId.eq(f.id.clone()))
        .filter(soa::Column::Scope.eq(scope.key()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.requirement_id.clone(), e))
        .collect();
    let req_ids: HashSet<&str> = reqs.iter().map(|r| r.id.as_str()).collect();
    let links: Vec<(String, String)> = control_requirement::Entity::find()
        .select_only()
        .columns([control_requirement::Column::ControlId, control_requirement::Column::RequirementId])
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .filter(|(_, r)| req_ids.contains(r.as_str()))
        .collect();
    // Controls in scope: a company's statement counts its own controls and the group's
    // that cover it; the group's statement counts every control.
    let linked: HashSet<&str> = links.iter().map(|(c, _)| c.as_str()).collect();
    let mut ctrl_models = control::Entity::find().filter(control::Column::Id.is_in(linked.iter().map(|s| s.to_string()))).all(db).await?;
    if let Some(c) = scope.company() {
        let mut covers: HashMap<String, Vec<String>> = HashMap::new();
        for x in control_company::Entity::find().filter(control_company::Column::ControlId.is_in(linked.iter().map(|s| s.to_string()))).all(db).await? {
            covers.entry(x.control_id).or_default().push(x.company_id);
        }
        ctrl_models.retain(|x| match &x.company_id {
            Some(own) => own == c,
            None => covers.get(&x.id).is_none_or(|list| list.iter().any(|k| k == c)),
        });
    }
    let ctrl_ids: Vec<String> = ctrl_models.iter().map(|c| c.id.clone()).collect();
    let built = controls::build(app, db, ctrl_models).await?;
    let by_id: HashMap<&str, &super::Control> = built.iter().map(|c| (c.id.as_str(), c)).collect();
    let evidence = controls::evidence_of(db, &ctrl_ids).await?;
    // Risks treated by these controls, within the scope and what the reader may see.
    let rc: Vec<(String, String)> = risk_control::Entity::find()
        .select_only()
        .columns([risk_control::Column::RiskId, risk_control::Column::ControlId])
        .filter(risk_control::Column::ControlId.is_in(ctrl_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let mut risk_cond = Condition::all().add(risk::Column::Id.is_in(rc.iter().map(|(r, _)| r.clone())));
    if let Some(c) = scope.company() {
        risk_cond = risk_cond.add(risk::Column::CompanyId.eq(c));
    }
    let risks: Vec<(String, String, String, i32, String)> = match who.within(Permission::RisksRead) {
        Err(_) => vec![],
        Ok(within) => {
            if let Some(set) = within {
                risk_cond = risk_cond.add(risk::Column::CompanyId.is_in(set));
            }
            risk::Entity::find()
                .select_only()
                .columns([risk::Column::Id, risk::Column::Reference, risk::Column::Title, risk::Column::ResidualScore, risk::Column::CompanyId])
                .filter(risk_cond)
                .into_tuple()
                .all(db)
                .await?
        }
    };

    let mut rows = vec![];
    let mut tally = Tally::default();
    let mut section_tallies: HashMap<String, Tally> = HashMap::new();
    let parent: HashMap<&str, Option<&str>> = reqs.iter().map(|r| (r.id.as_str(), r.parent_id.as_deref())).collect();
    let top_of = |id: &str| {
        let mut at = id;
        let mut steps = 0;
        while let Some(Some(p)) = parent.get(at) {
            at = p;
            steps += 1;
            if steps > 64 {
                break;
            }
        }
        at.to_owned()
    };
    for r in &reqs {
        let entry = entries.get(&r.id);
        let applicable = entry.map(|e| e.applicable);
        let mut ctrls: Vec<SoaControl> = links
            .iter()
            .filter(|(_, q)| *q == r.id)
            .filter_map(|(c, _)| by_id.get(c.as_str()))
            .map(|c| SoaControl { id: c.id.clone(), code: c.code.clone(), title: c.title.clone(), status: c.status, proven: c.proven })
            .collect();
        ctrls.sort_by(|a, b| a.code.cmp(&b.code));
        let (state, gap) = if r.leaf {
            let mut facts = RequirementFacts { applicable: entry.map(|e| e.applicable), ..Default::default() };
            for c in &ctrls {
                facts.add(c.status, c.proven);
            }
            let state = compliance(&facts);
            tally.add(state);
            section_tallies.entry(top_of(&r.id)).or_default().add(state);
            (Some(state), gap_reason(&facts).map(str::to_owned))
        } else {
            (None, None)
        };
        let ctrl_set: HashSet<&str> = ctrls.iter().map(|c| c.id.as_str()).collect();
        let mut ev: Vec<SoaEvidence> = evidence
            .iter()
            .filter(|(c, _)| ctrl_set.contains(c.as_str()))
            .map(|(c, e)| SoaEvidence {
                control_code: by_id.get(c.as_str()).map(|x| x.code.clone()).unwrap_or_default(),
                title: e.title.clone(),
                kind: e.kind,
                evidence_on: e.evidence_on.clone(),
            })
            .collect();
        ev.sort_by(|a, b| b.evidence_on.cmp(&a.evidence_on));
        let risk_ids: HashSet<&str> = rc.iter().filter(|(_, c)| ctrl_set.contains(c.as_str())).map(|(r, _)| r.as_str()).collect();
        let mut rs: Vec<RiskRef> = risks
            .iter()
            .filter(|k| risk_ids.contains(k.0.as_str()))
            .map(|k| RiskRef { id: k.0.clone(), reference: k.1.clone(), title: k.2.clone(), residual_score: k.3 })
            .collect();
        rs.sort_by(|a, b| a.reference.cmp(&b.reference));
        rows.push(SoaRow {
            requirement: r.clone().into(),
            applicable,
            decided: entry.is_some(),
            justification: entry.map(|e| e.justification.clone()).unwrap_or_default(),
            compliance: state,
            gap,
            controls: ctrls,
            evidence: ev,
            risks: rs,
            updated_ms: entry.map(|e| e.updated_ms),
        });
    }
    let sections = reqs
        .iter()
        .filter(|r| r.parent_id.is_none())
        .map(|r| Section { requirement: r.clone().into(), tally: section_tallies.get(&r.id).copied().unwrap_or_default() })
        .collect();
    let can_manage = who.access.can_for(Permission::ComplianceManage, scope.company().and_then(|c| c.parse().ok()));
    Ok(Statement { framework: frameworks::view(db, f).await?, scope: scope.key().to_owned(), rows, tally, sections, generated_ms: now_ms(), can_manage })
}

/// Applicability of one requirement in one scope.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = SoaDecision)]
pub struct Decision {
    pub applicable: bool,
    /// Why it is included or excluded; an exclusion must say why.
    #[serde(default)]
    pub justification: String,
}

pub async fn decide(app: &App, who: &Principal, framework: &str, scope: &Scope, requirement_id: &str, d: Decision) -> Result<()> {
    scope.require(who, Permission::ComplianceManage)?;
    let justification = d.justification.trim().to_owned();
    if !d.applicable && justification.is_empty() {
        return Err(AppError::coded("justification", "exclusion-justified", "say why the requirement does not apply"));
    }
    if justification.chars().count() > 4000 {
        return Err(FieldError::coded("justification", "too-long", "is longer than 4000 characters").arg("max", "4000").into());
    }
    let txn = app.store.write().await?;
    let f = frameworks::find(&txn, framework).await?;
    let r = isms_store::compliance::requirement::Entity::find_by_id(requirement_id.to_owned())
        .one(&txn)
        .await?
        .filter(|r| r.framework_id == f.id)
        .ok_or(AppError::NotFound)?;
    if !r.leaf {
        return Err(AppError::coded("requirement_id", "requirement-heading", "decide on the requirements under this heading"));
    }
    if let Some(c) = scope.company()
        && isms_store::org::company::Entity::find_by_id(c.to_owned()).one(&txn).await?.is_none()
    {
        return Err(AppError::coded("scope", "no-company", "no such company"));
    }
    let before = soa::Entity::find_by_id((scope.key().to_owned(), r.id.clone())).one(&txn).await?;
    soa::Entity::delete_by_id((scope.key().to_owned(), r.id.clone())).exec(&txn).await?;
    soa::Entity::insert(soa::ActiveModel {
        scope: Set(scope.key().to_owned()),
        requirement_id: Set(r.id.clone()),
        framework_id: Set(f.id.clone()),
        applicable: Set(d.applicable),
        justification: Set(justification.clone()),
        updated_by: Set(who.user_id.clone()),
        updated_ms: Set(now_ms()),
    })
    .exec_without_returning(&txn)
    .await?;
    record(
        app,
        &txn,
        who,
        "compliance.soa.decide",
        "requirement",
        Some(&r.id),
        scope.company(),
        json!({"framework": f.code, "ref": r.reference, "scope": scope.key(), "before": before.map(|b| json!({"applicable": b.applicable, "justification": b.justification})), "after": {"applicable": d.applicable, "justification": justification}}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The words an export needs, in the reader's language.
pub struct Labels {
    pub title: String,
    pub scope: String,
    pub generated: String,
    /// The assessment in one line.
    pub summary: String,
    pub page: String,
    pub language: String,
    /// Headings: ref, requirement, applicable, justification, state, controls, evidence, risks.
    pub columns: [String; 8],
    pub yes: String,
    pub no: String,
    /// What an undecided requirement reads in the "applicable" column.
    pub undecided: String,
    /// Names of the states and control statuses by code.
    pub words: HashMap<String, String>,
}

impl Labels {
    fn word<'a>(&'a self, code: &'a str) -> &'a str {
        self.words.get(code).map(String::as_str).unwrap_or(code)
    }
}

fn cells(l: &Labels, r: &SoaRow) -> Vec<String> {
    let lang = l.language.as_str();
    vec![
        r.requirement.reference.clone(),
        r.requirement.title_in(lang).to_owned(),
        match r.applicable {
            Some(true) => l.yes.clone(),
            Some(false) => l.no.clone(),
            None => l.undecided.clone(),
        },
        r.justification.clone(),
        r.compliance.map(|c| l.word(c.code()).to_owned()).unwrap_or_default(),
        r.controls.iter().map(|c| format!("{} {} ({})", c.code, c.title, l.word(c.status.code()))).collect::<Vec<_>>().join("\n"),
        r.evidence.iter().map(|e| format!("{} {}: {}", e.evidence_on, e.control_code, e.title)).collect::<Vec<_>>().join("\n"),
        r.risks.iter().map(|k| format!("{} {} ({})", k.reference, k.title, k.residual_score)).collect::<Vec<_>>().join("\n"),
    ]
}

/// The framework's name, with its version unless the name already says it.
fn framework_line(f: &Framework) -> String {
    if f.version.is_empty() || f.name.contains(&f.version) { f.name.clone() } else { format!("{} ({})", f.name, f.version) }
}

pub fn xlsx(s: &Statement, l: &Labels) -> Result<Vec<u8>> {
    let mut rows = vec![l.columns.to_vec()];
    rows.extend(s.rows.iter().map(|r| cells(l, r)));
    let title = [format!("{} — {}", l.title, framework_line(&s.framework)), l.scope.clone(), l.generated.clone(), l.summary.clone()];
    isms_kernel::sheet::report("SoA", &title, &rows).map_err(|e| AppError::internal(format!("xlsx: {e}")))
}

pub fn pdf(s: &Statement, l: &Labels) -> Result<Vec<u8>> {
    use isms_kernel::pdf::{Column, Row, TableDoc, render};
    let weights = [0.8, 3.0, 0.9, 2.6, 1.1, 2.6, 2.6, 2.0];
    let doc = TableDoc {
        title: l.title.clone(),
        lines: vec![framework_line(&s.framework), l.scope.clone(), l.generated.clone(), l.summary.clone()],
        columns: l.columns.iter().zip(weights).map(|(h, w)| Column { heading: h.clone(), weight: w }).collect(),
        rows: s
            .rows
            .iter()
            .map(|r| {
                if r.requirement.leaf {
                    Row::Cells(cells(l, r))
                } else {
                    Row::Section(format!("{} {}", r.requirement.reference, r.requirement.title_in(&l.language)))
                }
            })
            .collect(),
        page_label: l.page.clone(),
        language: l.language.clone(),
    };
    render(&doc).map_err(|e| AppError::internal(format!("pdf: {e}")))
}
