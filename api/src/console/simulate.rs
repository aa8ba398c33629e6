//! Simulate a login: the questions the draft being edited (beside the site's other
//! live sets) would ask a made-up or real user at login N, in order, and the engine's
//! reason for passing over each other question. Nothing is stored.

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ConsoleState;
use super::editor::EDITOR_BODY_LIMIT;
use super::error::ConsoleError;
use super::page::render;
use super::session::CurrentAdmin;
use crate::app::authoring::Subject;
use crate::error::Error;
use crate::questions::{Decision, PublishedSet, Verdict};

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route(
            "/sites/{site_id}/question-sets/{slug}/simulate",
            post(simulate),
        )
        .layer(DefaultBodyLimit::max(EDITOR_BODY_LIMIT))
}

/// The simulate form, with the editor's source.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SimulateForm {
    source: String,
    login: String,
    user_id: String,
    user_metadata: String,
    app_metadata: String,
    days_since_first_login: String,
}

#[derive(Template)]
#[template(path = "console/simulation.html")]
struct Simulation {
    error: Option<String>,
    login: i64,
    user_id: Option<String>,
    shown: Vec<Decision>,
    passed_over: Vec<Decision>,
}

impl Simulation {
    fn refused(message: String) -> Simulation {
        Simulation {
            error: Some(message),
            login: 0,
            user_id: None,
            shown: Vec::new(),
            passed_over: Vec::new(),
        }
    }

    /// `v3`, or `draft` for the set being edited.
    fn version_label(&self, version: impl std::borrow::Borrow<i64>) -> String {
        let version = *version.borrow();
        if version == 0 {
            "(this draft)".to_owned()
        } else {
            format!("v{version}")
        }
    }

    /// The engine's verdict in words.
    fn reason(&self, decision: &Decision) -> String {
        verdict_in_words(&decision.verdict)
    }
}

/// The engine's verdict in words (the simulation and a user's profile page).
pub(super) fn verdict_in_words(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Due => "due".to_owned(),
        Verdict::StageNotReached { at_login } => {
            format!("its stage starts at login {at_login}")
        }
        Verdict::AfterDaysNotMet { after_days, days } => {
            format!("its stage needs {after_days} days since the first login ({days} so far)")
        }
        Verdict::Known => "already known: the key has a value".to_owned(),
        Verdict::KnownViaSkipIfKnown { path } => {
            format!("skip_if_known: {path} has a value")
        }
        Verdict::Dismissed => "dismissed (don't ask again)".to_owned(),
        Verdict::SkippedRecently { due_again_at_login } => {
            format!("skipped recently; due again at login {due_again_at_login}")
        }
        Verdict::ConditionFalse => "its when condition does not hold".to_owned(),
        Verdict::CapReached { max } => {
            format!("the set's {max} prompts for this login are used up")
        }
    }
}

/// A JSON object typed in a textarea (empty: `{}`).
fn object(field: &str, text: &str) -> Result<Value, Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str(text)
        .map_err(|e| Error::invalid("invalid_field", field, format!("is not JSON: {e}")))
}

fn number(field: &str, text: &str, empty: i64) -> Result<i64, Error> {
    if text.trim().is_empty() {
        return Ok(empty);
    }
    text.trim()
        .parse()
        .map_err(|_| Error::invalid("invalid_field", field, "must be a whole number"))
}

fn subject(form: &SimulateForm) -> Result<Subject, Error> {
    let user_id = form.user_id.trim();
    if !user_id.is_empty() {
        return Ok(Subject::User(user_id.to_owned()));
    }
    Ok(Subject::MadeUp {
        user_metadata: object("user_metadata", &form.user_metadata)?,
        app_metadata: object("app_metadata", &form.app_metadata)?,
        days_since_first_login: number("days_since_first_login", &form.days_since_first_login, 0)?,
    })
}

/// A refusal shown in the simulation's place, with the status the API would give.
fn refusal(error: Error) -> Result<Response, ConsoleError> {
    let status = match &error {
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::QuestionSetInvalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return Err(error.into()),
    };
    let message = match &error {
        Error::Invalid {
            field: Some(field),
            message,
            ..
        } => format!("{field}: {message}"),
        Error::QuestionSetInvalid(_) => {
            "The YAML has problems (see the lint); fix them to simulate.".to_owned()
        }
        other => other.to_string(),
    };
    render(status, &Simulation::refused(message))
}

async fn simulate(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    body: Result<Form<SimulateForm>, FormRejection>,
) -> Result<Response, ConsoleError> {
    let form = match body {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let message = rejection.body_text();
            return refusal(Error::invalid("malformed_form", "form", message));
        }
    };
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let file = format!("{slug}.yaml");
    let set = match state
        .app
        .publishing()
        .lint(Some(&slug), &form.source, &file)
        .await
    {
        Ok(set) => set,
        Err(error) => return refusal(error),
    };
    let (login, subject) =
        match number("login", &form.login, 1).and_then(|login| Ok((login, subject(&form)?))) {
            Ok(parsed) => parsed,
            Err(error) => return refusal(error),
        };
    let user_id = match &subject {
        Subject::User(id) => Some(id.clone()),
        Subject::MadeUp { .. } => None,
    };
    let draft = PublishedSet { set, version: 0 };
    match authoring.rehearse(&site, draft, subject, login).await {
        Ok(rehearsed) => render(
            StatusCode::OK,
            &Simulation {
                error: None,
                login,
                user_id,
                shown: rehearsed.shown,
                passed_over: rehearsed.passed_over,
            },
        ),
        Err(error) => refusal(error),
    }
}
