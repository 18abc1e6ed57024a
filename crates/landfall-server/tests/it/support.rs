//! Test harness: a router over a fresh data directory, and request helpers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use landfall_server::{
    build_router, catalog::Catalog, recorder::DeviceRecorder, AppState, Settings,
};
use landfall_store::blob::LocalBlobStore;
use landfall_store::{Role, Scope, Store};
use serde_json::Value;
use tower::ServiceExt;

pub const APP: &str = "com.example.capgovector";
pub const DEVICE: &str = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";

pub fn vectors() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/capgo-vectors")
}

pub struct TestApp {
    pub router: axum::Router,
    pub state: Arc<AppState>,
    pub admin: String,
    /// Dropping it stops the recorder's background writer.
    _stop_recorder: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
    /// The app's database on the PostgreSQL pass (`LANDFALL_TEST_BACKEND=postgres`).
    _pg: Option<landfall_store_postgres::testing::FreshDatabase>,
}

/// Whether this run is the PostgreSQL pass of `scripts/test`.
pub fn on_postgres() -> bool {
    std::env::var("LANDFALL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::new_with(|_| {}).await
    }

    pub async fn new_with_limit(max_bundle_bytes: u64) -> Self {
        Self::new_with(|a| a.max_bundle_bytes = Some(max_bundle_bytes)).await
    }

    /// A fresh app server whose `landfall serve` flags `tweak` changes.
    pub async fn new_with(tweak: impl FnOnce(&mut landfall_server::ServeArgs)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // SQLite in the data dir, or a fresh PostgreSQL database on the PostgreSQL pass.
        let pg = match on_postgres() {
            true => Some(
                landfall_store_postgres::testing::FreshDatabase::create("TestApp")
                    .await
                    .expect("LANDFALL_TEST_BACKEND=postgres needs PostgreSQL"),
            ),
            false => None,
        };
        let database = match &pg {
            Some(pg) => landfall_server::store::DatabaseUrl::parse(pg.url()).unwrap(),
            None => landfall_server::store::DatabaseUrl::default_for(dir.path()),
        };
        let opened = landfall_server::store::open(&database).await.unwrap();
        let store: Arc<dyn Store> = opened.store;
        let blobs = Arc::new(LocalBlobStore::open(dir.path().join("blobs")).unwrap());
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let admin = landfall_server::admin::auth::new_token();
        store
            .create_token(
                "admin",
                &landfall_server::admin::auth::hash_token(&admin),
                &[Scope {
                    app: "*".into(),
                    role: Role::Admin,
                }],
                "test",
            )
            .await
            .unwrap();
        let mut args = landfall_server::ServeArgs {
            data_dir: Some(dir.path().to_owned()),
            database: pg.as_ref().map(|pg| pg.url().to_owned()),
            max_bundle_bytes: Some(8 << 20),
            ..Default::default()
        };
        tweak(&mut args);
        let settings = Settings::resolve(&args).unwrap();
        let documents = Arc::new(LocalBlobStore::open(dir.path().join("icp-documents")).unwrap());
        let stats = landfall_server::stats::StatsSink::start(
            store.clone(),
            landfall_server::stats::StatsLimits::default(),
        );
        let state = Arc::new(AppState {
            store: store.clone(),
            delivery: landfall_server::delivery::Delivery::new(
                settings.delivery.clone(),
                blobs.clone(),
            ),
            blobs,
            catalog: Catalog::new(),
            devices: Arc::new(DeviceRecorder::default()),
            metrics: landfall_server::metrics::Metrics::new(&stats),
            stats,
            settings,
            tmp_dir: tmp,
            icp: landfall_server::icp::IcpState::new(opened.icp, documents)
                .await
                .unwrap(),
            auth_failures: Default::default(),
            log_key: Arc::new(landfall_crypto::release_log::LogSigningKey::generate()),
            downloads: Default::default(),
        });
        // The recorder's background writer, as `landfall serve` runs it (stops with the app).
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(state.devices.clone().run(store.clone(), stop_rx));
        Self {
            router: build_router(state.clone()),
            state,
            admin,
            _dir: dir,
            _pg: pg,
            _stop_recorder: stop,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.send(
            Request::post(uri)
                .header("content-type", "application/json")
                .header("host", "updates.test")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn raw(&self, method: &str, uri: &str, body: &str) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn api(&self, method: &str, uri: &str, token: &str, body: Option<Value>) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/api/v1{uri}"))
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        self.send(
            b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default())
                .unwrap(),
        )
        .await
    }

    pub async fn upload(&self, token: &str, query: &str, zip: Vec<u8>) -> Reply {
        self.send(
            Request::post(format!("/api/v1/apps/{APP}/bundles?{query}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/zip")
                .body(Body::from(zip))
                .unwrap(),
        )
        .await
    }

    /// An app with bundle 1.0.1 (the Capgo CLI's vector zip) on the public `production` channel.
    pub async fn with_vector_bundle() -> Self {
        let app = Self::new().await;
        let r = app
            .api(
                "POST",
                "/apps",
                &app.admin,
                Some(serde_json::json!({ "app_id": APP })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        let zip = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
        let r = app
            .upload(&app.admin, "version=1.0.1&channel=production", zip)
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.bytes)
        );
        app
    }
}

/// The vector request without `key_id` (a device with no publicKey).
pub fn device_request() -> Value {
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("example_updates_request_android.json")).unwrap(),
    )
    .unwrap();
    v.as_object_mut().unwrap().remove("key_id");
    v
}

pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

impl TestApp {
    pub async fn raw_api(&self, token: &str, method: &str, uri: &str, body: &str) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(format!("/api/v1{uri}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }
}

impl TestApp {
    /// A new API token with one scope (`APP:ROLE`), made through the API.
    pub async fn token_with_scope(&self, scope: &str) -> String {
        let r = self
            .api(
                "POST",
                "/tokens",
                &self.admin,
                Some(serde_json::json!({ "name": format!("t-{scope}"), "scopes": [scope] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
        r.json()["token"].as_str().unwrap().to_owned()
    }
}

impl TestApp {
    /// A request outside `/api/v1` with a bearer token (e.g. `/metrics`).
    pub async fn api_raw_path(&self, method: &str, path: &str, token: &str) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}
