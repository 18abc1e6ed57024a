//! Landfall's HTTP server: the Capgo plugin endpoints, bundle downloads, the admin API and the
//! web console (`/`, [`console`]).
//!
//! [`build_router`] wires the routes over an [`AppState`]; [`run`] is `landfall serve`: it opens the
//! store the `database` URL names (SQLite or PostgreSQL) and the local blobs, makes sure an admin
//! token exists, sweeps leftovers of interrupted uploads, serves until SIGTERM/Ctrl-C, lets
//! in-flight requests finish, and writes buffered device check-ins before exiting.

pub mod admin;
pub mod blobs;
pub mod catalog;
pub mod console;
pub mod datadir;
pub mod delivery;
pub mod download;
pub mod error;
pub mod icp;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod plugin;
pub mod recorder;
pub mod serve;
pub mod settings;
pub mod state;
pub mod stats;
pub mod store;

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use landfall_store::blob::BlobStore;
use landfall_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use settings::{ServeArgs, Settings};
pub use state::{AppState, Shared};

/// Largest JSON body accepted on plugin and admin routes (stats batches are the biggest).
pub const MAX_JSON_BODY: usize = 1 << 20;

/// All routes over a state.
pub fn build_router(state: Shared) -> Router {
    use admin::{apps, bundles, channels, devices, keys, tokens};
    let plugin = Router::new()
        .route("/updates", post(plugin::updates).get(plugin::status_ok))
        .route("/updates/manifest_size", post(plugin::manifest_size))
        .route("/stats", post(plugin::stats).get(plugin::status_ok))
        .route(
            "/channel_self",
            post(plugin::channel_set)
                .put(plugin::channel_get)
                .get(plugin::channel_list)
                .delete(plugin::channel_delete),
        )
        .route("/blobs/{key}", get(download::blob))
        .route("/icp/{app_id}", get(icp::public_display))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::scrape))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::label_route,
        ))
        .layer(axum::middleware::from_fn(limits::plugin_413));
    let api = Router::new()
        .route("/apps", post(apps::create).get(apps::list))
        .route("/apps/{app}", get(apps::get).patch(apps::update))
        .route(
            "/apps/{app}/bundles",
            post(bundles::upload)
                .layer(DefaultBodyLimit::disable())
                .get(bundles::list),
        )
        .route("/apps/{app}/bundles/external", post(bundles::external))
        .route("/apps/{app}/keys", post(keys::add).get(keys::list))
        .route(
            "/apps/{app}/keys/{key_id}",
            axum::routing::delete(keys::remove),
        )
        .route(
            "/apps/{app}/bundles/{version}",
            get(bundles::get).delete(bundles::delete),
        )
        .route(
            "/apps/{app}/channels",
            post(channels::create).get(channels::list),
        )
        .route(
            "/apps/{app}/channels/{name}",
            get(channels::get).patch(channels::update),
        )
        .route(
            "/apps/{app}/channels/{name}/rollback",
            post(channels::rollback),
        )
        .route(
            "/apps/{app}/channels/{name}/history",
            get(channels::history),
        )
        .route("/apps/{app}/devices", get(devices::list))
        .route(
            "/apps/{app}/devices/{device_id}/override",
            axum::routing::put(devices::set_override).delete(devices::clear_override),
        )
        .route(
            "/apps/{app}/devices/{device_id}/explain",
            get(devices::explain),
        )
        .route("/apps/{app}/audit", get(devices::audit))
        .route("/apps/{app}/stats", get(admin::stats::report))
        .route("/apps/{app}/stats/live", get(admin::stats::live))
        .route("/log", get(admin::release_log::list))
        .route("/log/verify", get(admin::release_log::verify))
        .route("/log/export", get(admin::release_log::export))
        .route("/log/public-key", get(admin::release_log::public_key))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route(
            "/session",
            post(admin::session::sign_in)
                .get(admin::session::get)
                .delete(admin::session::sign_out),
        )
        .route(
            "/session/all",
            axum::routing::delete(admin::session::sign_out_everywhere),
        )
        .route("/session/password", post(admin::session::change_password))
        .route("/users", get(admin::users::list).post(admin::users::create))
        .route(
            "/users/{username}",
            axum::routing::patch(admin::users::update),
        )
        .route(
            "/users/{username}/password",
            post(admin::users::set_password),
        )
        .route("/openapi.json", get(openapi::document))
        .route("/limits", get(admin::tokens::limits))
        .merge(icp::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::label_route,
        ))
        .fallback(|| async {
            error::HttpError::not_found(
                "no_such_route",
                "no such API route; see /api/v1/openapi.json",
            )
        })
        .layer(axum::middleware::from_fn(limits::admin_413))
        .layer(TraceLayer::new_for_http());
    let console = Router::new()
        .route("/", get(console::index))
        .route("/console/{*path}", get(console::asset))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::label_route,
        ));
    Router::new()
        .merge(plugin)
        .merge(console)
        .nest("/api/v1", api)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            icp::count_requests,
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(console::security_headers))
        .with_state(state)
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    DataDirLock(#[from] datadir::DataDirError),
    #[error("LANDFALL_ADMIN_TOKEN must be at least {min} characters (it has {0}); generate one with `openssl rand -hex 32`", min = admin::auth::MIN_ENV_TOKEN_CHARS)]
    AdminTokenTooShort(usize),
    #[error("cannot use data directory {0}: {1}")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error(
        "cannot listen on {0}: {1} (is another server using the port? pick one with --listen)"
    )]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error(transparent)]
    Store(#[from] landfall_store::StoreError),
    #[error("cannot open the database {0}: {1}")]
    OpenDatabase(String, landfall_store::StoreError),
    #[error(transparent)]
    Blobs(#[from] blobs::BlobsError),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    LogKey(#[from] datadir::LogKeyError),
}

/// Open the store the `database` setting names (one object for every storage trait), the blob
/// stores `blobs`/`documents` name (each checked to answer), and the staging area under the data
/// directory.
pub async fn open_stores(
    settings: &Settings,
) -> Result<(store::OpenedStore, blobs::OpenedBlobs, std::path::PathBuf), ServeError> {
    let dir = &settings.data_dir;
    let data_err = |e| ServeError::DataDir(dir.clone(), e);
    landfall_store::blob::create_private_dir(dir).map_err(data_err)?;
    datadir::make_private_tree(dir).map_err(data_err)?;
    let tmp = dir.join("tmp");
    // Leftovers of uploads interrupted by a crash are never referenced: remove them. (Only ever
    // called with the data directory locked: see `datadir::lock`.)
    let _ = std::fs::remove_dir_all(&tmp);
    landfall_store::blob::create_private_dir(&tmp).map_err(data_err)?;
    let opened_blobs = blobs::open(&settings.blobs, &settings.documents).await?;
    let opened = store::open(&settings.database)
        .await
        .map_err(|e| ServeError::OpenDatabase(settings.database.to_string(), e))?;
    Ok((opened, opened_blobs, tmp))
}

/// Delete blobs no live bundle references and that are older than `grace` (left by uploads
/// killed between blob write and commit). Young blobs are spared: with several instances on one
/// bucket, another instance's upload may be between its blob write and its commit.
pub async fn sweep_blobs(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    grace: std::time::Duration,
) -> Result<usize, ServeError> {
    // Listed before the references are read: a blob written after the listing is not looked at,
    // and one referenced by a commit before the read is kept.
    let listed = blobs.list().await?;
    let referenced: HashSet<String> = store.referenced_blobs().await?.into_iter().collect();
    let cutoff = landfall_store::now_ms() - grace.as_millis() as i64;
    let mut removed = 0;
    for blob in listed {
        if blob.modified_ms < cutoff && !referenced.contains(&blob.key) {
            blobs.delete(&blob.key).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Background upkeep while serving: forget change-feed entries older than an hour (every
/// instance has long applied them; one that was stopped reloads everything at start) and ended
/// sessions, and on
/// buckets collect unreferenced blobs older than the grace period every hour.
async fn maintenance(state: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    tick.tick().await;
    let mut rounds = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        rounds += 1;
        let hour_ago = landfall_store::now_ms() - 3_600_000;
        if let Err(e) = state.store.prune_catalog_changes(hour_ago).await {
            tracing::warn!(error = %e, "pruning the change feed failed; will retry");
        }
        let now = landfall_store::now_ms();
        let idle_before = now - admin::auth::SESSION_IDLE.as_millis() as i64;
        if let Err(e) = state.store.prune_sessions(now, idle_before).await {
            tracing::warn!(error = %e, "pruning ended sessions failed; will retry");
        }
        if rounds % 6 == 1 {
            prune_stats(&state).await;
        }
        if rounds % 6 == 0 && state.settings.blobs.s3().is_some() {
            let grace = state.settings.blob_gc_grace;
            match sweep_blobs(state.store.as_ref(), state.blobs.as_ref(), grace).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    blobs = n,
                    "removed unreferenced blobs past the grace period"
                ),
                Err(e) => tracing::warn!(error = %e, "blob garbage collection failed; will retry"),
            }
        }
    }
}

/// Write the download tally into the store every minute, and once more when stopping.
async fn flush_downloads(state: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        if let Err(e) = state.downloads.flush(state.store.as_ref()).await {
            tracing::warn!(error = %e, "writing download counts failed; will retry");
        }
        if stopping {
            return;
        }
    }
}

/// Delete raw `/stats` events past the retention (rollups stay).
async fn prune_stats(state: &Shared) {
    let before = landfall_store::now_ms() - state.settings.stats_retention.as_millis() as i64;
    match state.store.prune_stats(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "removed raw stats events past the retention"),
        Err(e) => tracing::warn!(error = %e, "pruning stats events failed; will retry"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// `landfall serve`.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let settings = Settings::resolve(&args)?;
    let admin_env = std::env::var("LANDFALL_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    if let Some(t) = &admin_env {
        if t.chars().count() < admin::auth::MIN_ENV_TOKEN_CHARS {
            return Err(ServeError::AdminTokenTooShort(t.chars().count()));
        }
    }
    // Before anything in the data directory is touched: one server per directory.
    let _lock = datadir::lock(&settings.data_dir)?;
    // Before the staging area is wiped and blobs are swept: the port must be ours.
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ServeError::Bind(settings.listen, e))?;
    let (opened, opened_blobs, tmp_dir) = open_stores(&settings).await?;
    // Scheme, host and database name only: never the password.
    tracing::info!(
        database = %settings.database,
        schema_version = opened.schema_version,
        blobs = %opened_blobs.bundles.location(),
        documents = %opened_blobs.documents.location(),
        download = ?settings.delivery.mode,
        "stores open"
    );
    let blobs = opened_blobs.bundles;
    // One store object, one pool, for every storage trait.
    let store: Arc<dyn Store> = opened.store;
    let icp_store = opened.icp;
    // Before anything else is written: audit rows of an older version join the chain first.
    let sealed = store.seal_release_log().await?;
    if sealed > 0 {
        tracing::info!(
            entries = sealed,
            "release log: earlier audit entries chained"
        );
    }
    let log_key = Arc::new(datadir::load_or_create_log_key(&settings.release_log_key)?);
    tracing::info!(public_key = %log_key.public_key(), "release log signing key");
    if let Some(secret) = admin::auth::bootstrap(store.as_ref(), admin_env.as_deref()).await? {
        // Shown once, on the terminal only: never through the log pipeline.
        println!(
            "Created the first admin token (shown only once, store it now):\n\n    {secret}\n"
        );
        println!("Use it with:  export LANDFALL_TOKEN={secret}");
    }
    let swept = sweep_blobs(store.as_ref(), blobs.as_ref(), settings.blob_gc_grace).await?;
    if swept > 0 {
        tracing::info!(
            blobs = swept,
            "removed unreferenced blobs from interrupted uploads"
        );
    }
    let catalog = catalog::Catalog::new();
    catalog.load_all(store.as_ref()).await?;
    let devices = Arc::new(recorder::DeviceRecorder::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let flusher = tokio::spawn(devices.clone().run(store.clone(), stop_rx.clone()));
    let stats = stats::StatsSink::start(store.clone(), stats::StatsLimits::default());
    let icp = icp::IcpState::new(icp_store, opened_blobs.documents).await?;
    let state = Arc::new(AppState {
        store: store.clone(),
        delivery: delivery::Delivery::new(settings.delivery.clone(), blobs.clone()),
        blobs,
        catalog,
        devices,
        metrics: metrics::Metrics::new(&stats),
        stats,
        settings: settings.clone(),
        tmp_dir,
        icp,
        auth_failures: Default::default(),
        downloads: Default::default(),
        log_key,
    });
    // Writes made through other instances on the same database.
    let follower = {
        let (state, store, stop) = (state.clone(), store.clone(), stop_rx.clone());
        tokio::spawn(async move {
            state
                .catalog
                .follow(store, stop, std::time::Duration::from_millis(250))
                .await
        })
    };
    let tally = tokio::spawn(flush_downloads(state.clone(), stop_rx.clone()));
    let upkeep = tokio::spawn(maintenance(state.clone(), stop_rx));
    let bound = listener.local_addr().unwrap_or(settings.listen);
    // The bound address (the real port with `--listen 127.0.0.1:0`), whatever the log filter.
    println!("listening on {bound}");
    tracing::info!(
        listen = %bound,
        data_dir = %settings.data_dir.display(),
        public_url = settings.public_url.as_deref().unwrap_or("(from Host header)"),
        "landfall serving"
    );
    serve::serve(
        listener,
        build_router(state),
        settings.timeouts,
        shutdown_signal(),
    )
    .await?;
    let _ = stop_tx.send(true);
    let _ = flusher.await;
    let _ = follower.await;
    let _ = upkeep.await;
    let _ = tally.await;
    tracing::info!("stopped cleanly");
    Ok(())
}
