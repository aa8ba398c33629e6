//! A set's versions: the list, the diff between any two (the YAML line by line, and
//! what changed question by question), and safe publishing — a confirmation naming the
//! answers a publish would orphan before it happens. Rolling back publishes an earlier
//! version again (its content is never copied).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::app::authoring::Orphan;
use crate::error::Error;
use crate::model::{QuestionSetHistory, QuestionSetVersion, Site};
use crate::questions::SetChanges;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites/{site_id}/question-sets/{slug}/versions", get(list))
        .route("/sites/{site_id}/question-sets/{slug}/diff", get(diff))
        .route(
            "/sites/{site_id}/question-sets/{slug}/versions/{version}/publish",
            get(confirm).post(publish),
        )
}

fn set_url(site: &Site, slug: &str) -> String {
    format!("/console/sites/{}/question-sets/{slug}", site.site_id)
}

/// A version number from the path.
fn version_number(text: &str) -> Result<i64, Error> {
    text.parse().map_err(|_| Error::NotFound {
        what: "question set version",
    })
}

#[derive(Template)]
#[template(path = "console/versions.html")]
struct VersionsPage {
    layout: Layout,
    site: Site,
    url: String,
    history: QuestionSetHistory,
    published: Option<i64>,
}

impl VersionsPage {
    fn is_live(&self, version: &QuestionSetVersion) -> bool {
        self.history.live_version == Some(version.version)
    }

    /// `Publish`, `Roll back to` (older than the live one), or nothing (the live one).
    fn action(&self, version: &QuestionSetVersion) -> &'static str {
        match self.history.live_version {
            Some(live) if live == version.version => "",
            Some(live) if version.version < live => "Roll back to",
            _ => "Publish",
        }
    }
}

#[derive(Deserialize)]
struct Published {
    published: Option<i64>,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    Query(published): Query<Published>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let mut history = authoring.history(&site, &slug).await?;
    history.versions.reverse();
    let page = VersionsPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        url: set_url(site.site(), &slug),
        site: site.site().clone(),
        history,
        published: published.published,
    };
    render(StatusCode::OK, &page)
}

/// One line of the unified diff, with `+`, `-` or a space.
pub struct DiffLine {
    pub class: &'static str,
    pub sign: char,
    pub text: String,
}

/// The unified diff of two sources, hunk headers included (3 lines of context).
fn unified(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(500))
        .diff_lines(old, new);
    let mut lines = Vec::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        lines.push(DiffLine {
            class: "hunk",
            sign: ' ',
            text: hunk.header().to_string(),
        });
        for change in hunk.iter_changes() {
            let (class, sign) = match change.tag() {
                ChangeTag::Delete => ("del", '-'),
                ChangeTag::Insert => ("ins", '+'),
                ChangeTag::Equal => ("same", ' '),
            };
            let text = change.value().trim_end_matches(['\n', '\r']).to_owned();
            lines.push(DiffLine { class, sign, text });
        }
    }
    lines
}

#[derive(Template)]
#[template(path = "console/diff.html")]
struct DiffPage {
    layout: Layout,
    site: Site,
    url: String,
    from: i64,
    to: i64,
    changes: SetChanges,
    lines: Vec<DiffLine>,
}

#[derive(Deserialize)]
struct DiffQuery {
    from: String,
    to: String,
}

async fn diff(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let (from, to) = (version_number(&query.from)?, version_number(&query.to)?);
    let (old, new, changes) = authoring.compare(&site, &slug, from, to).await?;
    let page = DiffPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        url: set_url(site.site(), &slug),
        site: site.site().clone(),
        from,
        to,
        changes,
        lines: unified(&old.source, &new.source),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/publish.html")]
struct ConfirmPage {
    layout: Layout,
    site: Site,
    url: String,
    slug: String,
    version: i64,
    live: Option<i64>,
    orphans: Vec<Orphan>,
}

impl ConfirmPage {
    fn already_live(&self) -> bool {
        self.live == Some(self.version)
    }

    fn rolls_back(&self) -> bool {
        self.live.is_some_and(|live| self.version < live)
    }
}

async fn confirm(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug, version)): Path<(String, String, String)>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let version = version_number(&version)?;
    authoring.version(&site, &slug, version).await?;
    let live = authoring.history(&site, &slug).await?.live_version;
    let orphans = authoring.orphans(&site, &slug, version).await?;
    let page = ConfirmPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        url: set_url(site.site(), &slug),
        site: site.site().clone(),
        slug,
        version,
        live,
        orphans,
    };
    render(StatusCode::OK, &page)
}

async fn publish(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug, version)): Path<(String, String, String)>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let version = version_number(&version)?;
    authoring.publish(&site, &slug, version).await?;
    let to = format!(
        "{}/versions?published={version}",
        set_url(site.site(), &slug)
    );
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_marks_removed_and_added_lines() {
        let lines = unified("a\nb\nc\n", "a\nB\nc\nd\n");
        let marked: Vec<(char, &str)> = lines
            .iter()
            .filter(|l| l.class != "hunk")
            .map(|l| (l.sign, l.text.as_str()))
            .collect();
        assert_eq!(
            marked,
            [(' ', "a"), ('-', "b"), ('+', "B"), (' ', "c"), ('+', "d")]
        );
        assert!(
            lines[0].text.starts_with("@@ -1,3 +1,4 @@"),
            "{}",
            lines[0].text
        );
        assert!(unified("same\n", "same\n").is_empty());
    }
}
