//! A site's users: the list (in user-id order, paged) with a search by exact user id,
//! and a user's profile page: every value with its source, the history of logins and
//! questions, why the next question is next, export (the whole profile as a JSON
//! download) and erasure after a confirmation page. The same use cases as
//! `/v1/users`, `/v1/users/{id}`, `…/history`, `…/next?explain=true` and `DELETE`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use super::simulate::verdict_in_words;
use crate::app::user_history::UserOverview;
use crate::model::history::{HistoryEvent, HistoryKind};
use crate::model::value_sources::{SourceKind, ValueSource};
use crate::model::{Site, User};
use crate::questions::Decision;

/// Users a page of the list shows.
const USERS_SHOWN: u32 = 50;
/// History events the profile page shows at a time.
const EVENTS_SHOWN: u32 = 50;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites/{site_id}/users", get(list))
        .route("/sites/{site_id}/users/{user_id}", get(profile))
        .route("/sites/{site_id}/users/{user_id}/export", get(export))
        .route(
            "/sites/{site_id}/users/{user_id}/erase",
            get(confirm_erase).post(erase),
        )
}

/// A user id as one path segment: everything but ASCII letters and digits
/// percent-encoded as UTF-8, so `/`, spaces and any other character round-trip.
fn segment(user_id: &str) -> String {
    utf8_percent_encode(user_id, NON_ALPHANUMERIC).to_string()
}

/// The profile page's path for a user of a site.
fn profile_path(site_id: &str, user_id: &str) -> String {
    format!("/console/sites/{site_id}/users/{}", segment(user_id))
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    layout: Layout,
    site: Site,
    users: Vec<User>,
    /// The query string of the next page, when there may be one.
    next: Option<String>,
    erased: bool,
}

impl UsersPage {
    fn profile_path(&self, user: &User) -> String {
        profile_path(&self.site.site_id, &user.user_id)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    /// Search: an exact user id.
    user_id: Option<String>,
    after: Option<String>,
    erased: Option<String>,
}

/// The list; a search for a user id goes to that user's page.
async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    if let Some(user_id) = query.user_id.filter(|id| !id.is_empty()) {
        let site = access.site(&site_id).await?;
        return Ok(Redirect::to(&profile_path(&site.site_id, &user_id)).into_response());
    }
    let (site, page) = access.users(&site_id, query.after, USERS_SHOWN).await?;
    let next = page.next_cursor.map(|after| {
        let after: String = url::form_urlencoded::byte_serialize(after.as_bytes()).collect();
        format!("after={after}")
    });
    let page = UsersPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        users: page.users,
        next,
        erased: query.erased.is_some(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/user_profile.html")]
struct ProfilePage {
    layout: Layout,
    user: UserOverview,
    /// The path of this page (the user id percent-encoded).
    path: String,
    /// Whether this page continues an older part of the history.
    older: bool,
}

impl ProfilePage {
    /// A value as compact JSON.
    fn json(&self, value: &Value) -> String {
        value.to_string()
    }

    /// Where a value came from, in words.
    fn source(&self, value: &ValueSource) -> String {
        let at = |prefix: &str| {
            value
                .at
                .map(|t| format!("{prefix}{}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        };
        match value.source {
            SourceKind::Answer => format!(
                "answer: {} v{}{}",
                value.question_set.as_deref().unwrap_or(""),
                value.version.unwrap_or_default(),
                at(", ")
            ),
            SourceKind::Enrichment => format!(
                "enrichment: {}{}",
                value.provider.as_deref().unwrap_or(""),
                at(", fetched ")
            ),
            SourceKind::IdentityProvider => format!("identity provider{}", at(", received ")),
            SourceKind::Api => "set over the API".to_owned(),
        }
    }

    fn source_class(&self, value: &ValueSource) -> &'static str {
        match value.source {
            SourceKind::Answer => "source-answer",
            SourceKind::Enrichment => "source-enrichment",
            SourceKind::IdentityProvider => "source-idp",
            SourceKind::Api => "source-api",
        }
    }

    fn reason(&self, decision: &Decision) -> String {
        verdict_in_words(&decision.verdict)
    }

    /// An event's details: where a login came from, or which question.
    fn event_detail(&self, event: &HistoryEvent) -> String {
        match event.kind {
            HistoryKind::Login => [event.ip.as_deref(), event.user_agent.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            _ => format!(
                "{} v{}: {}",
                event.question_set.as_deref().unwrap_or(""),
                event.version.unwrap_or_default(),
                event.key.as_deref().unwrap_or("")
            ),
        }
    }

    /// The query string of the history's next (older) part.
    fn older_query(&self) -> Option<String> {
        self.user.history.next_cursor.as_ref().map(|cursor| {
            let cursor: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
            format!("after={cursor}")
        })
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    after: Option<String>,
}

async fn profile(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, user_id)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ConsoleError> {
    let user = state
        .app
        .access(&current.admin)
        .user(&site_id, &user_id, query.after.as_deref(), EVENTS_SHOWN)
        .await?;
    let page = ProfilePage {
        layout: Layout::for_admin(&current.admin, "sites"),
        path: profile_path(&user.site.site_id, &user_id),
        older: query.after.is_some(),
        user,
    };
    render(StatusCode::OK, &page)
}

/// The whole profile as a JSON download: the body of `GET /v1/users/{id}` with
/// `history`, every event of `GET /v1/users/{id}/history`, newest first.
async fn export(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, user_id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (profile, history) = state
        .app
        .access(&current.admin)
        .export_user(&site_id, &user_id)
        .await?;
    let mut body = serde_json::to_value(&profile).expect("a profile serialises");
    body["history"] = serde_json::to_value(&history).expect("events serialise");
    let name: String = user_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let disposition = format!("attachment; filename=\"trickle-user-{name}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        serde_json::to_vec_pretty(&body).expect("JSON serialises"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "console/user_erase.html")]
struct ConfirmErasePage {
    layout: Layout,
    site: Site,
    user: User,
    path: String,
}

async fn confirm_erase(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, user_id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let overview = state
        .app
        .access(&current.admin)
        .user(&site_id, &user_id, None, 1)
        .await?;
    let page = ConfirmErasePage {
        layout: Layout::for_admin(&current.admin, "sites"),
        path: profile_path(&overview.site.site_id, &user_id),
        site: overview.site,
        user: overview.profile.user,
    };
    render(StatusCode::OK, &page)
}

/// Erases the user (as `DELETE /v1/users/{id}`: `user.deleted` emitted; audited) and
/// goes back to the list, which says so without naming them.
async fn erase(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, user_id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let site = state
        .app
        .access(&current.admin)
        .erase_user(&site_id, &user_id)
        .await?;
    let to = format!("/console/sites/{}/users?erased=1", site.site_id);
    Ok(Redirect::to(&to).into_response())
}
