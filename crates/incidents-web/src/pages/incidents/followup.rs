//! What a case gathers after it opens: actions, observables, evidence with its hand-over, playbook tasks.

use super::*;

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
}

pub async fn add_action(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let input = isms_incidents::followup::ActionInput { title: f.title, owner_id: Some(f.owner_id), due_on: f.due_on };
    let r = isms_incidents::followup::add_action(&state.app, &who, &id, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn step_action(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    let input = isms_incidents::followup::ActionStep { status: f.status, note: f.note };
    let r = isms_incidents::followup::step_action(&state.app, &who, &id, &action, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct ObservablesForm {
    #[serde(default)]
    values: String,
    #[serde(default)]
    note: String,
}

pub async fn add_observables(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<ObservablesForm>,
) -> Response {
    let input = isms_incidents::followup::ObservableInput { values: f.values, kind: None, note: f.note };
    let r = isms_incidents::followup::add_observables(&state.app, &who, &id, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn add_evidence(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    mut mp: axum::extract::Multipart,
) -> Response {
    let (mut file, mut description) = (None, String::new());
    while let Ok(Some(field)) = mp.next_field().await {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => {
                        return after(
                            &state,
                            &ctx,
                            &headers,
                            &who,
                            &id,
                            Err(isms_kernel::AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", "25")),
                            "",
                        )
                        .await;
                    }
                }
            }
            Some("description") => description = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let r = match file {
        Some((name, bytes)) => isms_incidents::followup::add_evidence(&state.app, &who, &id, &name, bytes, &description).await.map(|_| ()),
        None => Err(isms_kernel::AppError::coded("file", "required", "is required")),
    };
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct HandOverForm {
    #[serde(default)]
    party: String,
    #[serde(default)]
    note: String,
}

pub async fn hand_over(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, ev)): Path<(String, String)>,
    Form(f): Form<HandOverForm>,
) -> Response {
    let r = isms_incidents::followup::hand_over(&state.app, &who, &id, &ev, isms_incidents::followup::HandOver { party: f.party, note: f.note }).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

/// Evidence is always a download, never shown in the page's origin; the access is logged.
pub async fn evidence_file(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, ev)): Path<(String, String)>) -> Response {
    use axum::response::IntoResponse;
    match isms_incidents::followup::evidence_file(&state.app, &who, &id, &ev).await {
        Ok(f) => {
            let ascii: String = f.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
            (
                [
                    (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", isms_webkit::context::url_encode(&f.file_name)),
                    ),
                    (axum::http::header::HeaderName::from_static("x-checksum-sha256"), f.sha256.clone()),
                ],
                f.data,
            )
                .into_response()
        }
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

#[derive(Deserialize, Default)]
pub struct StartForm {
    #[serde(default)]
    playbook_id: String,
}

pub async fn start_playbook(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<StartForm>,
) -> Response {
    let r = isms_incidents::playbooks::start(&state.app, &who, &id, &f.playbook_id).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-playbook-started").await
}

pub async fn task_done(PageCx { state, ctx, headers, who }: PageCx, Path((id, task)): Path<(String, String)>) -> Response {
    let r = isms_incidents::playbooks::complete_task(&state.app, &who, &id, &task).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
}

pub async fn task_cancel(PageCx { state, ctx, headers, who }: PageCx, Path((id, task)): Path<(String, String)>, Form(f): Form<CancelForm>) -> Response {
    let r = isms_incidents::playbooks::cancel_task(&state.app, &who, &id, &task, &f.reason).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-task-cancelled").await
}
