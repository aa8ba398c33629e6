//! Admin management (owners only; a member gets 403 as for the audit log): the list
//! with roles, grants and last sign-in; creating an admin (a generated password shown
//! once); changing a role; granting and revoking a member's sites; removing an admin
//! after a confirmation. The rules (never the last owner, never yourself) live in
//! `app/admins.rs`; refusals are shown above the list (409).

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
use crate::model::{Admin, AdminOverview, Role, Site};

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/admins", get(list).post(create))
        .route("/admins/{admin_id}/role", post(set_role))
        .route("/admins/{admin_id}/grants", post(grant))
        .route("/admins/{admin_id}/grants/{site_id}/revoke", post(revoke))
        .route(
            "/admins/{admin_id}/remove",
            get(confirm_remove).post(remove),
        )
}

/// One row of the list: the admin, and their granted sites by name.
struct AdminRow {
    overview: AdminOverview,
    /// `(site_id, name)` of each granted site.
    granted: Vec<(String, String)>,
    /// Sites not granted yet, for the grant form (members only).
    grantable: Vec<(String, String)>,
    /// The signed-in admin themself.
    is_you: bool,
}

impl AdminRow {
    fn is_owner(&self) -> bool {
        self.overview.admin.role == Role::Owner
    }
}

#[derive(Template)]
#[template(path = "console/admins.html")]
struct AdminsPage {
    layout: Layout,
    admins: Vec<AdminRow>,
    email: String,
    role: String,
    error: Option<FieldError>,
    /// A refused change (the last owner, yourself, a taken e-mail).
    refusal: Option<String>,
    done: Option<String>,
}

impl AdminsPage {
    fn role_is(&self, role: &str) -> bool {
        self.role == role
    }
}

async fn admins_page(state: &ConsoleState, admin: &Admin) -> Result<AdminsPage, Error> {
    let access = state.app.access(admin);
    let overview = access.admins().await?;
    let sites = access.sites().await?;
    let name_of = |site_id: &str| {
        sites
            .iter()
            .find(|s| s.site_id == site_id)
            .map_or_else(|| site_id.to_owned(), |s| s.name.clone())
    };
    let admins = overview
        .into_iter()
        .map(|overview| {
            let granted = overview
                .granted_sites
                .iter()
                .map(|id| (id.clone(), name_of(id)))
                .collect();
            let grantable = sites
                .iter()
                .filter(|s: &&Site| !overview.granted_sites.contains(&s.site_id))
                .map(|s| (s.site_id.clone(), s.name.clone()))
                .collect();
            AdminRow {
                is_you: overview.admin.admin_id == admin.admin_id,
                overview,
                granted,
                grantable,
            }
        })
        .collect();
    Ok(AdminsPage {
        layout: Layout::for_admin(admin, "admins"),
        admins,
        email: String::new(),
        role: "member".into(),
        error: None,
        refusal: None,
        done: None,
    })
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    let mut page = admins_page(&state, &current.admin).await?;
    page.done = done.done.filter(|d| d.len() <= 300);
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewAdmin {
    email: String,
    role: String,
}

#[derive(Template)]
#[template(path = "console/admin_created.html")]
struct CreatedPage {
    layout: Layout,
    admin: Admin,
    password: String,
}

fn parse_role(role: &str) -> Result<Role, Error> {
    Role::parse(role).ok_or_else(|| Error::invalid("invalid_role", "role", "owner or member"))
}

async fn create(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Form(form): Form<NewAdmin>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    access.require_owner()?;
    let created = match parse_role(&form.role) {
        Ok(role) => access.create_admin(&form.email, role).await,
        Err(error) => Err(error),
    };
    match created {
        Ok((admin, password)) => {
            let page = CreatedPage {
                layout: Layout::for_admin(&current.admin, "admins"),
                admin,
                password,
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
            let mut page = admins_page(&state, &current.admin).await?;
            page.email = form.email;
            page.role = form.role;
            page.error = field_error;
            page.refusal = refusal;
            render(status, &page)
        }
    }
}

/// After a change: the list with what was done, or, for a refusal, the list with the
/// reason (409).
async fn outcome(
    state: &ConsoleState,
    admin: &Admin,
    result: Result<String, Error>,
) -> Result<Response, ConsoleError> {
    match result {
        Ok(done) => {
            let done: String = url::form_urlencoded::byte_serialize(done.as_bytes()).collect();
            Ok(Redirect::to(&format!("/console/admins?done={done}")).into_response())
        }
        Err(Error::Conflict { message, .. }) => {
            let mut page = admins_page(state, admin).await?;
            page.refusal = Some(message);
            render(StatusCode::CONFLICT, &page)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn set_role(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(admin_id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    access.require_owner()?;
    let role = parse_role(&form.role)?;
    let result = access
        .set_role(&admin_id, role)
        .await
        .map(|admin| format!("{} is now {}.", admin.email, admin.role));
    outcome(&state, &current.admin, result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantForm {
    site_id: String,
}

async fn grant(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(admin_id): Path<String>,
    Form(form): Form<GrantForm>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    access.require_owner()?;
    let result = match access.grant_site(&admin_id, &form.site_id).await {
        Ok(_) => {
            let admin = state.app.admins().get(&admin_id).await?;
            let site = access.site(&form.site_id).await?;
            Ok(format!("{} may manage {}.", admin.email, site.name))
        }
        Err(error) => Err(error),
    };
    outcome(&state, &current.admin, result).await
}

async fn revoke(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((admin_id, site_id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    access.require_owner()?;
    let result = match access.revoke_site(&admin_id, &site_id).await {
        Ok(_) => {
            let admin = state.app.admins().get(&admin_id).await?;
            let site = access.site(&site_id).await?;
            Ok(format!(
                "{} may no longer manage {}.",
                admin.email, site.name
            ))
        }
        Err(error) => Err(error),
    };
    outcome(&state, &current.admin, result).await
}

#[derive(Template)]
#[template(path = "console/admin_remove.html")]
struct ConfirmRemovePage {
    layout: Layout,
    admin: Admin,
}

async fn confirm_remove(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(admin_id): Path<String>,
) -> Result<Response, ConsoleError> {
    state.app.access(&current.admin).require_owner()?;
    let admin = state.app.admins().get(&admin_id).await?;
    let page = ConfirmRemovePage {
        layout: Layout::for_admin(&current.admin, "admins"),
        admin,
    };
    render(StatusCode::OK, &page)
}

async fn remove(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(admin_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let result = access
        .remove_admin(&admin_id)
        .await
        .map(|admin| format!("Removed {}; their sessions ended.", admin.email));
    outcome(&state, &current.admin, result).await
}
