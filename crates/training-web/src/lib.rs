//! Awareness training over HTTP: each person's own training (take the course, pass the
//! quiz, print the certificate), and for the security office the courses, the campaigns
//! and their progress by company and department, with the API twins.

pub mod api;
pub mod pages;

use isms_core::Permission;
use isms_webkit::i18n::Lang;
use isms_webkit::{Module, Nav, Table};

/// The module as the application assembles it.
pub fn module() -> Module {
    use isms_webkit::tone::Tone::*;
    Module {
        routes,
        openapi: || <api::Api as utoipa::OpenApi>::openapi(),
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/training.ftl")), (Lang::En, include_str!("../locales/en/training.ftl"))],
        nav: &[Nav { order: 45, href: "/training", key: "nav-training", perm: None }],
        tones: &[
            ("assignment", &[("assigned", Warn), ("overdue", Bad), ("completed", Ok), ("dropped", Muted)]),
            ("course-kind", &[("awareness", Info), ("remedial", Warn), ("specialist", Neutral)]),
            ("campaign-status", &[("active", Ok), ("closed", Muted), ("follow-up", Info)]),
        ],
        demo: Some(|app, group| Box::pin(isms_training::demo::load(app, group))),
        jobs: isms_training::jobs,
        tiles: Some(|state, who, shell| Box::pin(pages::tiles(state, who, shell))),
        ..Module::new("training")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{get, post, put};
    use isms_webkit::Need::*;
    t
        // one's own training
        .get("/training", SignedIn, get(pages::mine))
        .get("/training/assignments/{id}", SignedIn, get(pages::take))
        .post("/training/assignments/{id}/read", SignedIn, post(pages::mark_read))
        .post("/training/assignments/{id}/quiz", SignedIn, post(pages::submit_quiz))
        .get("/training/assignments/{id}/certificate", SignedIn, get(pages::certificate))
        // courses
        .get("/training/courses", Perm(TrainingRead), get(pages::courses::list))
        .get("/training/courses/new", Perm(TrainingManage), get(pages::courses::new_form))
        .post("/training/courses/new", Perm(TrainingManage), post(pages::courses::create))
        .get("/training/courses/{id}", Perm(TrainingRead), get(pages::courses::show))
        .get("/training/courses/{id}/edit", Perm(TrainingManage), get(pages::courses::edit_form))
        .post("/training/courses/{id}/edit", Perm(TrainingManage), post(pages::courses::update))
        .post("/training/courses/{id}/retire", Perm(TrainingManage), post(pages::courses::retire))
        // campaigns
        .get("/training/campaigns", Perm(TrainingRead), get(pages::campaigns::list))
        .post("/training/campaigns", Perm(TrainingManage), post(pages::campaigns::create))
        .get("/training/campaigns/{id}", Perm(TrainingRead), get(pages::campaigns::show))
        .get("/training/campaigns/{id}/export", Perm(TrainingRead), get(pages::campaigns::export))
        .post("/training/campaigns/{id}/close", Perm(TrainingManage), post(pages::campaigns::close))
        // the twice-a-year rule and completions from a learning system
        .get("/training/halves", Perm(TrainingRead), get(pages::halves::show))
        .get("/training/halves/export", Perm(TrainingRead), get(pages::halves::export))
        .post("/training/halves/close", Perm(TrainingManage), post(pages::halves::close))
        .get("/training/import", Perm(TrainingManage), get(pages::lms::form))
        .post("/training/import", Perm(TrainingManage), post(pages::lms::upload))
        // the API
        .get("/api/v1/training/assignments", SignedIn, get(api::mine))
        .get("/api/v1/training/assignments/{id}", SignedIn, get(api::assignment))
        .post("/api/v1/training/assignments/{id}/read", SignedIn, post(api::mark_read))
        .post("/api/v1/training/assignments/{id}/quiz", SignedIn, post(api::submit_quiz))
        .get("/api/v1/training/courses", Perm(TrainingRead), get(api::courses))
        .post("/api/v1/training/courses", Perm(TrainingManage), post(api::create_course))
        .get("/api/v1/training/courses/{id}", Perm(TrainingRead), get(api::course))
        .put("/api/v1/training/courses/{id}", Perm(TrainingManage), put(api::update_course))
        .get("/api/v1/training/campaigns", Perm(TrainingRead), get(api::campaigns))
        .post("/api/v1/training/campaigns", Perm(TrainingManage), post(api::create_campaign))
        .get("/api/v1/training/campaigns/{id}", Perm(TrainingRead), get(api::campaign))
        .post("/api/v1/training/campaigns/{id}/close", Perm(TrainingManage), post(api::close_campaign))
        .get("/api/v1/training/halves/{half}", Perm(TrainingRead), get(api::half))
        .get("/api/v1/training/halves/{half}/untrained", Perm(TrainingRead), get(api::half_untrained))
        .post("/api/v1/training/halves/{half}/close", Perm(TrainingManage), post(api::close_half))
        .post("/api/v1/training/completions", Perm(TrainingManage), post(api::import_completions))
        .post("/api/v1/training/xapi/statements", Perm(TrainingManage), post(api::xapi_statements))
}
