//! Starting the server: open the database, build the app, serve HTTP until told to stop.

use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;

use crate::app::App;
use crate::config::Settings;
use crate::http::{AppState, WIDGET_MISSING_WARNING, metrics_router, router, widget_built};
use crate::store;

/// A database URL fit for messages: its password, if any, replaced.
pub(super) use crate::config::without_password as redact;

/// Connects, migrates and builds the service.
pub async fn open(settings: &Settings) -> anyhow::Result<App> {
    let options = store::ConnectOptions {
        direct_url: settings.database_direct_url.as_deref(),
        secrets_key: settings.secrets_key.as_deref(),
    };
    let store = store::connect_with(&settings.database_url, options)
        .await
        .with_context(|| match &settings.database_direct_url {
            Some(direct) => format!(
                "opening {} (directly: {})",
                redact(&settings.database_url),
                redact(direct)
            ),
            None => format!("opening {}", redact(&settings.database_url)),
        })?;
    store
        .migrate()
        .await
        .context("applying migrations and checking stored secrets")?;
    App::from_settings(store, settings).context("configuring enrichment")
}

/// Serves HTTP until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve(app: App, settings: &Settings) -> anyhow::Result<()> {
    serve_with(app, settings, axum::Router::new()).await
}

/// [`serve`] with extra routes (the demo's page).
pub async fn serve_with(app: App, settings: &Settings, extra: axum::Router) -> anyhow::Result<()> {
    if !widget_built() {
        tracing::warn!("{WIDGET_MISSING_WARNING}");
    }
    app.spawn_invalidation_listener().await?;
    app.jobs().spawn_worker();
    let state = AppState::new(app, settings);
    let limiter = state.limiter.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limiter.forget_idle();
        }
    });
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(address = %listener.local_addr()?, "trickle listening");
    spawn_metrics_listener(&state, settings).await?;
    axum::serve(
        listener,
        router(state)
            .merge(extra)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("trickle stopped");
    Ok(())
}

/// Serves `/metrics` on `[metrics] listen` when set; otherwise says where it is open.
async fn spawn_metrics_listener(state: &AppState, settings: &Settings) -> anyhow::Result<()> {
    let Some(address) = settings.metrics.listen else {
        if settings.metrics.bearer_token.is_none() && !settings.listen.ip().is_loopback() {
            tracing::warn!(
                "/metrics is open on {}: set [metrics] bearer_token or [metrics] listen",
                settings.listen
            );
        }
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening for metrics on {address}"))?;
    tracing::info!(address = %listener.local_addr()?, "metrics listening");
    let metrics = metrics_router(state.clone());
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, metrics).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
