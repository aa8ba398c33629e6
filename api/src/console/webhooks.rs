//! A site's webhooks: the list with each one's newest delivery, adding one (checked by
//! the same use case as `POST /v1/webhooks`, the secret shown once), deleting one after
//! a confirmation, a webhook's delivery log, and redelivering a delivery.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{FieldError, Layout, render};
use super::session::CurrentAdmin;
use crate::error::Error;
use crate::model::webhook::EVENT_TYPES;
use crate::model::{Admin, CreatedSubscription, Delivery, NewSubscription, Site, Subscription};

/// Deliveries the log shows unless asked for more.
const DELIVERIES_SHOWN: u32 = 50;
/// The most the log shows (the API's own limit).
const MOST_DELIVERIES: u32 = 500;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites/{site_id}/webhooks", get(list).post(create))
        .route("/sites/{site_id}/webhooks/{id}", get(deliveries))
        .route(
            "/sites/{site_id}/webhooks/{id}/delete",
            get(confirm_delete).post(delete),
        )
        .route(
            "/sites/{site_id}/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
}

/// The add form's fields as typed.
#[derive(Default)]
struct WebhookFields {
    url: String,
    description: String,
    events: Vec<String>,
}

impl WebhookFields {
    /// Reads the form's pairs (`events` repeats, one per ticked box).
    fn from_pairs(pairs: Vec<(String, String)>) -> WebhookFields {
        let mut fields = WebhookFields::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => fields.url = value,
                "description" => fields.description = value,
                "events" => fields.events.push(value),
                _ => {}
            }
        }
        fields
    }

    fn request(&self) -> NewSubscription {
        let description = self.description.trim();
        NewSubscription {
            url: self.url.trim().to_owned(),
            events: self.events.clone(),
            description: (!description.is_empty()).then(|| description.to_owned()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    site: Site,
    webhooks: Vec<(Subscription, Option<Delivery>)>,
    form: WebhookFields,
    error: Option<FieldError>,
    /// Why the form was refused when it is not one field (e.g. 50 webhooks already).
    refusal: Option<String>,
    deleted: Option<String>,
    event_types: [&'static str; 5],
}

impl WebhooksPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is_about(field))
    }

    fn ticked(&self, event: &str) -> bool {
        self.form.events.iter().any(|e| e == event)
    }
}

async fn webhooks_page(
    state: &ConsoleState,
    admin: &Admin,
    site_id: &str,
) -> Result<WebhooksPage, Error> {
    let (site, webhooks) = state.app.access(admin).webhooks(site_id).await?;
    Ok(WebhooksPage {
        layout: Layout::for_admin(admin, "sites"),
        site,
        webhooks,
        form: WebhookFields::default(),
        error: None,
        refusal: None,
        deleted: None,
        event_types: EVENT_TYPES,
    })
}

#[derive(Deserialize)]
struct Deleted {
    deleted: Option<String>,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Query(deleted): Query<Deleted>,
) -> Result<Response, ConsoleError> {
    let mut page = webhooks_page(&state, &current.admin, &site_id).await?;
    page.deleted = deleted.deleted.filter(|url| url.len() <= 2048);
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/webhook_created.html")]
struct CreatedPage {
    layout: Layout,
    site: Site,
    created: CreatedSubscription,
}

async fn create(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let site = access.site(&site_id).await?;
    let form = WebhookFields::from_pairs(pairs);
    match access.create_webhook(&site.site_id, form.request()).await {
        Ok(created) => {
            let page = CreatedPage {
                layout: Layout::for_admin(&current.admin, "sites"),
                site,
                created,
            };
            render(StatusCode::CREATED, &page)
        }
        Err(error) => {
            let (status, field_error, refusal) = match error {
                Error::Conflict { message, .. } => (StatusCode::CONFLICT, None, Some(message)),
                other => (
                    StatusCode::BAD_REQUEST,
                    Some(FieldError::from_error(other)?),
                    None,
                ),
            };
            let mut page = webhooks_page(&state, &current.admin, &site_id).await?;
            page.form = form;
            page.error = field_error;
            page.refusal = refusal;
            render(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct DeliveriesPage {
    layout: Layout,
    site: Site,
    webhook: Subscription,
    deliveries: Vec<Delivery>,
    /// How many were asked for; `more` when there may be older ones.
    limit: u32,
    more: Option<u32>,
    redelivered: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct LogQuery {
    limit: Option<u32>,
    redelivered: Option<String>,
}

async fn deliveries_page(
    state: &ConsoleState,
    admin: &Admin,
    site_id: &str,
    id: &str,
    limit: u32,
) -> Result<DeliveriesPage, Error> {
    let limit = limit.clamp(1, MOST_DELIVERIES);
    let (site, webhook, deliveries) = state
        .app
        .access(admin)
        .webhook_deliveries(site_id, id, limit)
        .await?;
    let more = (deliveries.len() == limit as usize && limit < MOST_DELIVERIES)
        .then(|| (limit * 4).min(MOST_DELIVERIES));
    Ok(DeliveriesPage {
        layout: Layout::for_admin(admin, "sites"),
        site,
        webhook,
        deliveries,
        limit,
        more,
        redelivered: None,
        refusal: None,
    })
}

async fn deliveries(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, id)): Path<(String, String)>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ConsoleError> {
    let limit = query.limit.unwrap_or(DELIVERIES_SHOWN);
    let mut page = deliveries_page(&state, &current.admin, &site_id, &id, limit).await?;
    page.redelivered = query.redelivered.filter(|id| id.len() <= 64);
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/webhook_delete.html")]
struct ConfirmDeletePage {
    layout: Layout,
    site: Site,
    webhook: Subscription,
}

async fn confirm_delete(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (site, webhook, _) = state
        .app
        .access(&current.admin)
        .webhook_deliveries(&site_id, &id, 1)
        .await?;
    let page = ConfirmDeletePage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        webhook,
    };
    render(StatusCode::OK, &page)
}

async fn delete(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let deleted = access.delete_webhook(&site_id, &id).await?;
    let url: String = url::form_urlencoded::byte_serialize(deleted.url.as_bytes()).collect();
    Ok(Redirect::to(&format!("/console/sites/{site_id}/webhooks?deleted={url}")).into_response())
}

/// Queues the delivery again and shows the log; a refusal (still pending, webhook
/// disabled) is shown above the log (409).
async fn redeliver(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, id, delivery_id)): Path<(String, String, String)>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    match access.redeliver(&site_id, &id, &delivery_id).await {
        Ok(delivery) => Ok(Redirect::to(&format!(
            "/console/sites/{site_id}/webhooks/{id}?redelivered={}",
            delivery.id
        ))
        .into_response()),
        Err(Error::Conflict { message, .. }) => {
            let mut page =
                deliveries_page(&state, &current.admin, &site_id, &id, DELIVERIES_SHOWN).await?;
            page.refusal = Some(message);
            render(StatusCode::CONFLICT, &page)
        }
        Err(other) => Err(other.into()),
    }
}
