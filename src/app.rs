//! Builds the application: state from configuration, the router from every feature's routes,
//! and the server with graceful shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::MethodRouter;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::audit::Audit;
use crate::config::Config;
use crate::crypto::{Keyring, Sealer};
use crate::db::Db;
use crate::email::Mailer;
use crate::error::AppError;
use crate::jobs::{Wakeup, shutdown, spawn_worker};
use crate::web::AppState;
use crate::web::extract::BODY_LIMIT;
use crate::web::middleware::{enforce_access, render_errors, resolve_session, security_headers};
use crate::web::ratelimit::RateLimiter;
use crate::web::routes::Route;

/// Every route of every feature. The authorization matrix test enumerates this list.
pub fn all_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(crate::home::routes());
    routes.extend(crate::accounts::routes());
    routes.extend(crate::care::routes());
    routes.extend(crate::admin::routes());
    routes.extend(crate::measures::routes());
    routes.extend(crate::alerts::routes());
    routes.extend(crate::safety::routes());
    routes.extend(crate::practice::routes());
    routes.extend(crate::messaging::routes());
    routes.extend(crate::coach::routes());
    routes.extend(crate::directory::routes());
    routes.extend(crate::notes::routes());
    routes.extend(crate::outcomes::routes());
    routes.extend(crate::plans::routes());
    routes.extend(crate::rights::routes());
    routes.extend(crate::openapi::routes());
    routes.extend(crate::web::health::routes());
    routes.extend(crate::web::assets::routes());
    routes
}

/// The router: each route wrapped in its access check, then the shared middleware.
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in all_routes() {
        let guarded = route.handler.layer(from_fn_with_state(
            (state.clone(), route.access),
            enforce_access,
        ));
        let merged = match by_path.remove(route.path) {
            Some(existing) => existing.merge(guarded),
            None => guarded,
        };
        by_path.insert(route.path, merged);
    }
    let mut router = Router::new();
    for (path, method_router) in by_path {
        router = router.route(path, method_router);
    }
    router
        .fallback(|| async { AppError::NotFound })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), resolve_session))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn(render_errors))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(state.config.request_timeout_seconds.max(1)),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Opens the database (creating the data directory), applies migrations and loads keys.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Db::connect(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    let (keyring, key_file) = load_keyring(&config)?;
    let sealer = Sealer::new(db.clone(), keyring, key_file);
    let coach_dir = config
        .coach_model
        .clone()
        .unwrap_or_else(crate::coach::default_model_dir);
    let coach = Arc::new(crate::coach::Engine::new(&coach_dir));
    let safety_head = config
        .safety_model
        .clone()
        .unwrap_or_else(crate::safety::meaning::default_head_path);
    let mailer = Mailer::from_config(
        config.smtp_url.as_deref(),
        &config.mail_from,
        &config.data_dir,
    )?;
    Ok(AppState {
        audit: Audit::new(db.clone()),
        db,
        sealer,
        config: Arc::new(config),
        mailer,
        limiter: RateLimiter::default(),
        wakeup: Wakeup::default(),
        hub: crate::messaging::hub::Hub::default(),
        crisis: crate::safety::crisis::Cache::default(),
        faults: Arc::default(),
        meaning: Arc::new(crate::safety::meaning::MeaningScreen::new(
            &safety_head,
            Arc::clone(&coach),
        )),
        coach,
        directory: crate::directory::queries::DirectoryIndex::default(),
    })
}

/// The master keyring from `TEND_MASTER_KEY`, or from (creating) `master.key`.
pub fn load_keyring(config: &Config) -> anyhow::Result<(Keyring, Option<std::path::PathBuf>)> {
    match &config.master_key {
        Some(value) => Ok((Keyring::from_env_value(value)?, None)),
        None => {
            let path = config.data_dir.join("master.key");
            Ok((Keyring::load_or_create_file(&path)?, Some(path)))
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests and stops the worker.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Refuse to start with an instrument library that does not check out.
    crate::measures::library::Library::get().map_err(anyhow::Error::msg)?;
    crate::practice::library::all().map_err(anyhow::Error::msg)?;
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    let (trigger, signal) = shutdown::pair();
    let worker = state
        .config
        .run_jobs
        .then(|| spawn_worker(state.clone(), signal.clone()));
    if !state.db.has_admin().await? {
        tracing::info!(
            "no administrator yet: open http://{addr}/setup on this machine, or run `tend admin create-user --role admin`"
        );
    }
    if let Some(warning) = state.config.plain_http_warning() {
        tracing::warn!("{warning}");
        eprintln!("Warning: {warning}");
    }
    let signal = wait_for_signal();
    tracing::info!(%addr, backend = ?state.db.backend(), ready_ms = started.elapsed().as_millis() as u64, "Tend is ready");
    println!("Tend is ready at http://{addr}");
    let db = state.db.clone();
    // Build the directory's search index now rather than on the first search; searches
    // arriving meanwhile wait for it.
    let directory = state.directory.clone();
    let index_db = db.clone();
    tokio::spawn(async move {
        if let Err(err) = directory.refresh(&index_db).await {
            tracing::warn!(error = %err, "the directory index will be built on the first search");
        }
    });
    let hub = state.hub.clone();
    let listener_task = hub.spawn_pg_listener(&db);
    let limits = crate::http_server::Limits::from_config(&state.config);
    crate::http_server::serve(listener, router(state), limits, async move {
        signal.await;
        tracing::info!("shutting down: finishing requests in flight");
        // Open message streams never finish on their own; end them so shutdown can.
        hub.close();
        trigger.fire();
    })
    .await;
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    if let Some(task) = listener_task {
        let _ = task.await;
    }
    db.close().await;
    Ok(())
}

/// Installs the Ctrl-C and SIGTERM handlers now (so a signal that arrives right after
/// "ready" is not missed) and returns a future that resolves on either.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    }
}
