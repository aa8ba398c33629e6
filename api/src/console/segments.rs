//! A site's segments: the saved ones with their live counts, the builder (groups and
//! rows beside the JSON condition `GET /v1/users?where=` takes, and the live count),
//! and saving through the same use case as `/v1/segments` (audited); deleting and the
//! CSV export are in `segment_actions.rs`.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::segment_actions::{confirm_delete, delete, export};
use super::segment_builder::{Node, OPERATORS, Row};
use super::session::CurrentAdmin;
use crate::app::Actor;
use crate::app::segments::{Field, RelatedSet};
use crate::error::Error;
use crate::model::segment::{MAX_SEGMENT_DESCRIPTION, Segment, SegmentInput};
use crate::model::{Admin, Site};
use crate::questions::parse_condition_json;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites/{site_id}/segments", get(list))
        .route("/sites/{site_id}/segments/new", get(new_segment))
        .route("/sites/{site_id}/segments/builder", post(builder))
        .route("/sites/{site_id}/segments/{name}", get(edit))
        .route(
            "/sites/{site_id}/segments/{name}/delete",
            get(confirm_delete).post(delete),
        )
        .route("/sites/{site_id}/segments/{name}/users.csv", get(export))
}

/// A ready-made starting point for the builder.
pub struct Example {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub json: String,
    /// Keys of the example that no live question set of the site asks.
    pub unasked: Vec<String>,
}

/// The two classic segments, as the README gives them.
fn examples() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "fitness-20-40",
            "Men aged 20–40 interested in fitness",
            "Three answers: gender, interests (a multi_choice list) and birthday (a date, measured in whole years).",
            json!({"all": [
                {"key": "gender", "equals": "male"},
                {"key": "interests", "contains": "fitness"},
                {"key": "birthday", "since": "years", "gte": 20},
                {"key": "birthday", "since": "years", "lte": 40}
            ]}),
        ),
        (
            "never-came-back",
            "Signed up, never came back",
            "One login, the first a week or more ago.",
            json!({"all": [
                {"key": "login_count", "equals": 1},
                {"key": "days_since_first_login", "gte": 7}
            ]}),
        ),
    ]
}

/// A saved segment as the list shows it.
pub struct Listed {
    pub segment: Segment,
    pub users: i64,
    pub related: Vec<RelatedSet>,
}

#[derive(Template)]
#[template(path = "console/segments.html")]
struct ListPage {
    layout: Layout,
    site: Site,
    segments: Vec<Listed>,
    examples: Vec<Example>,
    deleted: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    deleted: Option<String>,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let segments = state.app.segments();
    let mut listed = Vec::new();
    for segment in segments.list(&site).await? {
        let users = segments.count(&site, &segment.name).await?.users;
        let related = segments.related_sets(&site, &segment.r#where).await?;
        listed.push(Listed {
            segment,
            users,
            related,
        });
    }
    let fields = segments.fields(&site).await?;
    let examples = examples()
        .into_iter()
        .map(|(name, title, description, json)| {
            let mut unasked = Vec::new();
            if let Ok(condition) = parse_condition_json(&json) {
                condition.for_each_key(&mut |k| {
                    if !fields.iter().any(|f| f.key == k) && !unasked.iter().any(|u| u == k) {
                        unasked.push(k.to_owned());
                    }
                });
            }
            Example {
                name,
                title,
                description,
                json: serde_json::to_string(&json).expect("JSON serialises"),
                unasked,
            }
        })
        .collect();
    let page = ListPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        segments: listed,
        examples,
        deleted: query.deleted.filter(|name| name.len() <= 64),
    };
    render(StatusCode::OK, &page)
}

/// One line of the builder as drawn: a group's start or end, or a row.
pub struct Line {
    pub path: String,
    /// `open`, `close` or `row`.
    pub part: &'static str,
    /// The group's combinator (`all`, `any`, `not`) on `open` lines.
    pub group: &'static str,
    pub row: Row,
    /// The parser's refusal of this row alone.
    pub error: Option<String>,
    /// What the key is, when the site knows it (type, source, options).
    pub hint: Option<String>,
}

impl Line {
    fn since_is(&self, since: &str) -> bool {
        self.row.since == since
    }

    fn op_is(&self, op: &str) -> bool {
        self.row.op == op
    }
}

fn lines(node: &Node, path: &str, fields: &[Field], out: &mut Vec<Line>) {
    let line = |part, group, row: Row, error, hint| Line {
        path: path.to_owned(),
        part,
        group,
        row,
        error,
        hint,
    };
    match node {
        Node::Row(row) => {
            let error = if row.has_no_key() {
                None
            } else {
                parse_condition_json(&row.to_json()).err()
            };
            let hint = fields.iter().find(|f| f.key == row.key).map(|f| {
                let options = if f.options.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.options.join(", "))
                };
                format!("{} from {}{options}", f.kind, f.source)
            });
            out.push(line("row", "", row.clone(), error, hint));
        }
        Node::Group(kind, children) => {
            out.push(line("open", kind.name(), Row::default(), None, None));
            for (i, child) in children.iter().enumerate() {
                lines(child, &format!("{path}-{i}"), fields, out);
            }
            out.push(line("close", kind.name(), Row::default(), None, None));
        }
    }
}

/// The builder: the form's lines, the JSON, the count, and the save's refusal.
#[derive(Template)]
#[template(path = "console/segments_builder.html")]
struct Builder {
    site: Site,
    /// The segment being edited, if it is saved already.
    original: Option<String>,
    name: String,
    description: String,
    lines: Vec<Line>,
    fields: Vec<Field>,
    /// The JSON condition as text, or the JSON as typed when applying it failed.
    json: String,
    /// Why the condition as a whole is refused (the parser's message).
    refusal: Option<String>,
    /// A row has no key yet: nothing to count, and nothing refused either.
    unfinished: bool,
    /// Why the JSON as typed could not be applied.
    json_error: Option<String>,
    users: Option<i64>,
    /// A refused save: the field (`name`, `description`, `where`; empty when about
    /// no field) and the message.
    save_error: Option<(String, String)>,
    /// Why a save was refused, as shown.
    save_message: Option<String>,
    operators: [(&'static str, &'static str); OPERATORS.len()],
    max_description: usize,
}

impl Builder {
    fn save_error_about(&self, field: &str) -> bool {
        self.save_error.as_ref().is_some_and(|(f, _)| f == field)
    }

    /// Whether exactly one user matches (for the wording).
    fn one_user(&self) -> bool {
        self.users == Some(1)
    }

    fn refuse_save(&mut self, field: String, message: String) {
        self.save_message = Some(message.clone());
        self.save_error = Some((field, message));
    }
}

#[derive(Template)]
#[template(path = "console/segment.html")]
struct BuilderPage {
    layout: Layout,
    site: Site,
    heading: String,
    /// The builder, rendered (`segments_builder.html`, also sent alone to htmx).
    builder: String,
    saved: bool,
}

/// The builder for a tree: rows checked, the JSON written, the site counted.
async fn builder_for(
    state: &ConsoleState,
    site: Site,
    original: Option<String>,
    name: String,
    description: String,
    node: &Node,
) -> Result<Builder, Error> {
    let segments = state.app.segments();
    let fields = segments.fields(&site).await?;
    let mut drawn = Vec::new();
    lines(node, "c", &fields, &mut drawn);
    let condition = node.to_json();
    let unfinished = node.has_a_row_without_key();
    let (users, refusal) = match segments.count_where(&site, &condition).await {
        Ok(users) => (Some(users), None),
        Err(Error::Invalid { .. }) if unfinished => (None, None),
        Err(Error::Invalid { message, .. }) => (None, Some(message)),
        Err(other) => return Err(other),
    };
    Ok(Builder {
        site,
        original,
        name,
        description,
        lines: drawn,
        fields,
        json: serde_json::to_string_pretty(&condition).expect("JSON serialises"),
        refusal,
        unfinished,
        json_error: None,
        users,
        save_error: None,
        save_message: None,
        operators: OPERATORS,
        max_description: MAX_SEGMENT_DESCRIPTION,
    })
}

fn page(admin: &Admin, builder: Builder, saved: bool) -> Result<BuilderPage, ConsoleError> {
    let heading = match &builder.original {
        Some(name) => format!("Segment {name}"),
        None => "New segment".to_owned(),
    };
    Ok(BuilderPage {
        layout: Layout::for_admin(admin, "sites"),
        site: builder.site.clone(),
        heading,
        builder: builder.render().map_err(ConsoleError::Render)?,
        saved,
    })
}

#[derive(Deserialize)]
struct NewQuery {
    example: Option<String>,
}

async fn new_segment(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let example = examples()
        .into_iter()
        .find(|(name, ..)| query.example.as_deref() == Some(*name));
    let (name, description, node) = match example {
        Some((name, title, _, json)) => {
            let condition = parse_condition_json(&json).expect("the examples are valid");
            (
                name.to_owned(),
                title.to_owned(),
                Node::from_condition(&condition),
            )
        }
        None => (String::new(), String::new(), Node::starter()),
    };
    let builder = builder_for(&state, site, None, name, description, &node).await?;
    render(StatusCode::OK, &page(&current.admin, builder, false)?)
}

#[derive(Deserialize)]
struct EditQuery {
    saved: Option<String>,
}

async fn edit(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, name)): Path<(String, String)>,
    Query(query): Query<EditQuery>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let segment = state.app.segments().get(&site, &name).await?;
    // A stored condition the parser now refuses opens as the starter, its JSON shown.
    let (node, stored_refusal) = match parse_condition_json(&segment.r#where) {
        Ok(condition) => (Node::from_condition(&condition), None),
        Err(message) => (Node::starter(), Some(message)),
    };
    let mut builder = builder_for(
        &state,
        site,
        Some(segment.name.clone()),
        segment.name,
        segment.description,
        &node,
    )
    .await?;
    if let Some(message) = stored_refusal {
        builder.json = serde_json::to_string_pretty(&segment.r#where).expect("JSON serialises");
        builder.json_error = Some(message);
    }
    render(
        StatusCode::OK,
        &page(&current.admin, builder, query.saved.is_some())?,
    )
}

/// Every builder post: a change (re-check and re-count), a button adding or removing
/// a row or group, `apply-json` (the JSON as typed becomes the form), or `save`.
/// htmx gets the builder alone; a browser without it, the whole page.
async fn builder(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let mut fields = BTreeMap::new();
    for (name, value) in pairs {
        fields.entry(name).or_insert(value);
    }
    let take = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let action = take("action");
    let original = Some(take("original")).filter(|o| !o.is_empty());
    let (name, description) = (take("name").trim().to_owned(), take("description"));
    let mut node = Node::from_form(&fields);
    let mut json_error = None;
    if action == "apply-json" {
        let typed = take("where_json");
        let parsed = serde_json::from_str::<Value>(&typed)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|json| parse_condition_json(&json));
        match parsed {
            Ok(condition) => node = Node::from_condition(&condition),
            Err(message) => json_error = Some((typed, message)),
        }
    } else {
        node.apply(&action);
    }
    let mut builder = builder_for(&state, site.clone(), original, name, description, &node).await?;
    if let Some((typed, message)) = json_error {
        builder.json = typed;
        builder.json_error = Some(message);
    }
    let mut status = StatusCode::OK;
    if action == "save" {
        let input = SegmentInput {
            description: builder.description.clone(),
            r#where: node.to_json(),
        };
        let by = Actor::admin(&current.admin);
        match state
            .app
            .segments()
            .save(&by, &site, &builder.name, input)
            .await
        {
            Ok(_) => {
                let to = format!(
                    "/console/sites/{}/segments/{}?saved=1",
                    site.site_id, builder.name
                );
                return Ok(redirect(&headers, &to));
            }
            Err(Error::Invalid { field, message, .. }) => {
                status = StatusCode::BAD_REQUEST;
                builder.refuse_save(field.unwrap_or_default(), message);
            }
            Err(Error::Conflict { message, .. }) => {
                status = StatusCode::CONFLICT;
                builder.refuse_save(String::new(), message);
            }
            Err(other) => return Err(other.into()),
        }
    }
    if headers.contains_key("hx-request") {
        render(status, &builder)
    } else {
        render(status, &page(&current.admin, builder, false)?)
    }
}

/// A redirect after a save: `HX-Redirect` for htmx (a whole page load), 303 otherwise.
fn redirect(headers: &HeaderMap, to: &str) -> Response {
    if headers.contains_key("hx-request")
        && let Ok(value) = HeaderValue::from_str(to)
    {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().insert("hx-redirect", value);
        return response;
    }
    Redirect::to(to).into_response()
}
