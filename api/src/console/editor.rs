//! The question-set editor: the YAML beside its workbench (lint at line:column, outline,
//! preview), saving a new draft through the same use case as
//! `PUT /v1/question-sets/{slug}` (audited), and the workbench re-rendered as the
//! author types.

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render, render_previewing};
use super::session::CurrentAdmin;
use super::workbench::{Choices, Workbench};
use crate::error::Error;
use crate::model::Site;
use crate::questions::{MAX_SOURCE_BYTES, Problem, QuestionSet};

/// Form bodies of the editor: a source at the parser's limit, percent-encoded (up
/// to three bytes each), with the other fields. Larger sources are refused by the
/// parser with a problem, as the API refuses them.
pub const EDITOR_BODY_LIMIT: usize = 3 * MAX_SOURCE_BYTES + 64 * 1024;

/// What a new set starts from.
const STARTER: &str = "slug: my-set\ntitle: My question set\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - key: role\n        type: single_choice\n        title: \"What best describes your role?\"\n        options: [developer, designer, manager]\n";

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route(
            "/sites/{site_id}/new-question-set",
            get(new_set).post(create),
        )
        .route(
            "/sites/{site_id}/new-question-set/workbench",
            post(new_workbench),
        )
        .route("/sites/{site_id}/question-sets/{slug}", get(edit))
        .route("/sites/{site_id}/question-sets/{slug}/drafts", post(save))
        .route(
            "/sites/{site_id}/question-sets/{slug}/workbench",
            post(workbench),
        )
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT))
}

#[derive(Template)]
#[template(path = "console/editor.html")]
struct EditorPage {
    layout: Layout,
    site: Site,
    heading: String,
    /// What is being edited, in words.
    about: String,
    slug: Option<String>,
    source: String,
    /// The version opened (0 for a new set).
    version: i64,
    saved: Option<i64>,
    /// Whether a save was just refused.
    refused: bool,
    save_url: String,
    simulate_url: Option<String>,
    bench: Workbench,
}

#[derive(Template)]
#[template(path = "console/workbench_fragment.html")]
struct WorkbenchFragment {
    bench: Workbench,
}

/// The editor's form: the source, plus the workbench's choices.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SourceForm {
    source: String,
    #[serde(flatten)]
    choices: Choices,
}

/// A form, or the refusal the console shows for it (413 when over the body limit).
fn form<T>(form: Result<Form<T>, FormRejection>) -> Result<T, ConsoleError> {
    match form {
        Ok(Form(form)) => Ok(form),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(Error::TooLarge {
                code: "body_too_large",
                message: format!("the form is over {EDITOR_BODY_LIMIT} bytes"),
                field: Some("source".into()),
            }
            .into())
        }
        Err(rejection) => {
            Err(Error::invalid("malformed_form", "form", rejection.body_text()).into())
        }
    }
}

fn sets_url(site: &Site) -> String {
    format!("/console/sites/{}", site.site_id)
}

/// Lints `source` as a save would (for `slug`, or taking the document's own).
async fn lint(
    state: &ConsoleState,
    slug: Option<&str>,
    source: &str,
) -> Result<Result<QuestionSet, Vec<Problem>>, ConsoleError> {
    let file = format!("{}.yaml", slug.unwrap_or("draft"));
    match state.app.publishing().lint(slug, source, &file).await {
        Ok(set) => Ok(Ok(set)),
        Err(Error::QuestionSetInvalid(problems)) => Ok(Err(problems)),
        Err(other) => Err(other.into()),
    }
}

impl EditorPage {
    async fn new(
        state: &ConsoleState,
        current: &CurrentAdmin,
        site: Site,
        slug: Option<String>,
        source: String,
        choices: &Choices,
    ) -> Result<EditorPage, ConsoleError> {
        let base = sets_url(&site);
        let (bench_url, save_url, simulate_url, heading) = match &slug {
            Some(slug) => (
                format!("{base}/question-sets/{slug}/workbench"),
                format!("{base}/question-sets/{slug}/drafts"),
                Some(format!("{base}/question-sets/{slug}/simulate")),
                format!("Edit {slug}"),
            ),
            None => (
                format!("{base}/new-question-set/workbench"),
                format!("{base}/new-question-set"),
                None,
                "New question set".to_owned(),
            ),
        };
        let linted = lint(state, slug.as_deref(), &source).await?;
        let bench = Workbench::new(bench_url, &site, &source, linted, choices);
        let version = choices.version.parse().unwrap_or(0);
        Ok(EditorPage {
            // The workbench mounts the widget renderer in its preview.
            layout: Layout::for_admin(&current.admin, "sites").previewing(),
            about: if version > 0 {
                format!("Opened from version {version}; saving makes a new draft version.")
            } else {
                "Saving makes version 1, a draft.".to_owned()
            },
            heading,
            site,
            slug,
            source,
            version,
            saved: None,
            refused: false,
            save_url,
            simulate_url,
            bench,
        })
    }
}

async fn new_set(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let site = state.app.authoring(&current.admin).site(&site_id).await?;
    let page = EditorPage::new(
        &state,
        &current,
        site.site().clone(),
        None,
        STARTER.to_owned(),
        &Choices::default(),
    )
    .await?;
    render_previewing(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct Opened {
    version: Option<i64>,
    saved: Option<i64>,
}

async fn edit(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    Query(opened): Query<Opened>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let version = match opened.version {
        Some(version) => authoring.version(&site, &slug, version).await?,
        None => authoring
            .history(&site, &slug)
            .await?
            .versions
            .pop()
            .ok_or(Error::NotFound {
                what: "question set",
            })?,
    };
    let choices = Choices {
        version: version.version.to_string(),
        ..Choices::default()
    };
    let mut page = EditorPage::new(
        &state,
        &current,
        site.site().clone(),
        Some(slug),
        version.source,
        &choices,
    )
    .await?;
    page.saved = opened.saved;
    render_previewing(StatusCode::OK, &page)
}

/// Saves a draft; on problems the page comes back with them (422) and nothing stored.
async fn save_and_show(
    state: &ConsoleState,
    current: &CurrentAdmin,
    site_id: &str,
    slug: Option<String>,
    body: SourceForm,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(site_id).await?;
    match authoring
        .save_draft(&site, slug.as_deref(), &body.source)
        .await
    {
        Ok(saved) => Ok(Redirect::to(&format!(
            "{}/question-sets/{}?saved={}",
            sets_url(site.site()),
            saved.slug,
            saved.version
        ))
        .into_response()),
        Err(Error::QuestionSetInvalid(_)) => {
            let site = site.site().clone();
            let mut page =
                EditorPage::new(state, current, site, slug, body.source, &body.choices).await?;
            page.refused = true;
            render_previewing(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(other.into()),
    }
}

async fn create(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    body: Result<Form<SourceForm>, FormRejection>,
) -> Result<Response, ConsoleError> {
    let body = form(body)?;
    save_and_show(&state, &current, &site_id, None, body).await
}

async fn save(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    body: Result<Form<SourceForm>, FormRejection>,
) -> Result<Response, ConsoleError> {
    let body = form(body)?;
    save_and_show(&state, &current, &site_id, Some(slug), body).await
}

/// The workbench for the source as typed (a fragment; the gutter swaps out of band).
async fn bench_fragment(
    state: &ConsoleState,
    current: &CurrentAdmin,
    site_id: &str,
    slug: Option<&str>,
    body: SourceForm,
) -> Result<Response, ConsoleError> {
    let site = state.app.authoring(&current.admin).site(site_id).await?;
    let site = site.site();
    let base = sets_url(site);
    let url = match slug {
        Some(slug) => format!("{base}/question-sets/{slug}/workbench"),
        None => format!("{base}/new-question-set/workbench"),
    };
    let linted = lint(state, slug, &body.source).await?;
    let mut bench = Workbench::new(url, site, &body.source, linted, &body.choices);
    bench.oob = true;
    render(StatusCode::OK, &WorkbenchFragment { bench })
}

async fn new_workbench(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    body: Result<Form<SourceForm>, FormRejection>,
) -> Result<Response, ConsoleError> {
    let body = form(body)?;
    bench_fragment(&state, &current, &site_id, None, body).await
}

async fn workbench(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    body: Result<Form<SourceForm>, FormRejection>,
) -> Result<Response, ConsoleError> {
    let body = form(body)?;
    bench_fragment(&state, &current, &site_id, Some(&slug), body).await
}
