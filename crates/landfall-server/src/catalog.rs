//! The in-memory catalog the update check reads: per app, its channels (with the bundles they
//! serve, ready to answer) and device overrides.
//!
//! Rebuilt from the store for one app after every admin write to that app, and swapped in
//! atomically; the update check never touches the database. Writes made through other instances
//! on the same database arrive through the store's change feed, which [`Catalog::follow`] polls
//! (every 250 ms: a change is served by every instance within about half a second).

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use landfall_core::channel::{BundleVariant, BundleView, ChannelView, Rollout, Target};
use landfall_core::plugin::ManifestEntry;
use landfall_store::{AppSettings, Bundle, Store, StoreError};
use semver::Version;
use tokio::sync::Mutex;

/// What the update check needs to know about one app.
#[derive(Debug, Default, Clone)]
pub struct AppView {
    /// The app's switches (`expose_metadata`, `allow_device_custom_id`).
    pub settings: AppSettings,
    /// Every blob a live bundle of the app references (only these are served at `/blobs/`), and
    /// what it is.
    pub blobs: HashMap<String, BlobKind>,
    /// Sorted by `(name, id)`.
    pub channels: Vec<ChannelView>,
    /// device id → channel id.
    pub overrides: HashMap<String, i64>,
    /// bundle version → (manifest file name → stored size), for `manifest_size`.
    pub file_sizes: HashMap<String, HashMap<String, u64>>,
}

/// What a served blob is: a whole bundle zip, or one file of a delta (manifest) download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    Full,
    Delta,
}

impl BlobKind {
    /// The name in `/metrics` labels and stats reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobKind::Full => "full",
            BlobKind::Delta => "delta",
        }
    }
}

/// Path under the public URL where a blob is served.
pub fn blob_path(sha256: &str) -> String {
    format!("/blobs/{sha256}")
}

/// Convert a stored bundle into what the decision logic sees.
pub fn bundle_view(b: &Bundle) -> BundleView {
    BundleView {
        id: b.id,
        name: b.version.clone(),
        version: Version::parse(&b.version).unwrap_or_else(|_| Version::new(0, 0, 0)),
        min_update_version: b
            .min_update_version
            .as_deref()
            .and_then(|v| Version::parse(v).ok()),
        link: b.link.clone(),
        comment: b.comment.clone(),
        variants: b
            .variants
            .iter()
            .map(|v| BundleVariant {
                key_id: v.key_id.clone(),
                url: v
                    .external_url
                    .clone()
                    .or_else(|| v.blob_sha256.as_deref().map(blob_path)),
                session_key: v.session_key.clone(),
                checksum: v.checksum.clone(),
                manifest: v
                    .manifest
                    .iter()
                    .map(|f| ManifestEntry {
                        file_name: f.file_name.clone(),
                        file_hash: f.file_hash.clone(),
                        download_url: blob_path(&f.blob_sha256),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The catalog of every app.
pub struct Catalog {
    apps: ArcSwap<HashMap<String, Arc<AppView>>>,
    reload_lock: Mutex<()>,
    /// The change feed position this catalog reflects.
    seen: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("apps", &self.apps.load().len())
            .finish()
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self {
            apps: ArcSwap::from_pointee(HashMap::new()),
            reload_lock: Mutex::new(()),
            seen: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// The view of one app (`None` if the app does not exist).
    pub fn app(&self, app_id: &str) -> Option<Arc<AppView>> {
        self.apps.load().get(app_id).cloned()
    }

    /// The app and kind of a blob a live bundle references, or `None` (deleted bundles stop being
    /// served the moment the catalog reloads after the delete).
    pub fn serves_blob(&self, key: &str) -> Option<(String, BlobKind)> {
        self.apps
            .load()
            .iter()
            .find_map(|(app, a)| a.blobs.get(key).map(|k| (app.clone(), *k)))
    }

    /// Publish one device's stored channel (after the store has it), without a full reload.
    pub async fn set_override(&self, app_id: &str, device_id: &str, channel_id: Option<i64>) {
        // Under the reload lock: a reload that read the store before the device's write committed
        // publishes first and this patch lands on top; a reload that starts after reads the write.
        let _serialised = self.reload_lock.lock().await;
        self.apps.rcu(|apps| {
            let mut next = HashMap::clone(apps);
            if let Some(view) = apps.get(app_id) {
                let mut v = AppView::clone(view);
                match channel_id {
                    Some(id) => v.overrides.insert(device_id.to_owned(), id),
                    None => v.overrides.remove(device_id),
                };
                next.insert(app_id.to_owned(), Arc::new(v));
            }
            next
        });
    }

    /// Load every app.
    pub async fn load_all(&self, store: &dyn Store) -> Result<(), StoreError> {
        // Read the feed position first: whatever commits after it is replayed by `follow`.
        let head = store.catalog_seq().await?;
        for app in store.list_apps().await? {
            self.reload(store, &app.app_id).await?;
        }
        self.seen
            .fetch_max(head, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Apply the store's change feed since the last call: reload apps changed through any
    /// instance, patch devices' stored channels. After a gap (the feed was pruned past this
    /// catalog) everything is reloaded. Returns how many changes were applied.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<usize, StoreError> {
        use std::sync::atomic::Ordering;
        let after = self.seen.load(Ordering::SeqCst);
        let changes = store.catalog_changes(after, 2000).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(0);
        };
        if changes[0].seq != after + 1 {
            tracing::info!(
                after,
                first = changes[0].seq,
                "change feed gap: reloading every app"
            );
            self.load_all(store).await?;
            return Ok(changes.len());
        }
        let mut apps: Vec<&str> = Vec::new();
        for c in &changes {
            match &c.device_id {
                // A whole-app reload later in this batch reads the device's row anyway.
                Some(device) if !apps.contains(&c.app_id.as_str()) => {
                    self.set_override(&c.app_id, device, c.channel_id).await
                }
                Some(_) => {}
                None if !apps.contains(&c.app_id.as_str()) => apps.push(&c.app_id),
                None => {}
            }
        }
        for app in apps {
            self.reload(store, app).await?;
        }
        self.seen.fetch_max(last, Ordering::SeqCst);
        Ok(changes.len())
    }

    /// Follow the change feed until `stop` turns true (see [`Catalog::catch_up`]).
    pub async fn follow(
        &self,
        store: Arc<dyn Store>,
        mut stop: tokio::sync::watch::Receiver<bool>,
        every: std::time::Duration,
    ) {
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            match self.catch_up(store.as_ref()).await {
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!("following the change feed again");
                }
                Ok(_) => {}
                // Once per outage: update checks keep answering from memory meanwhile.
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot read the change feed; serving the last known catalog");
                }
                Err(_) => {}
            }
        }
    }

    /// Rebuild one app from the store and publish it.
    pub async fn reload(&self, store: &dyn Store, app_id: &str) -> Result<(), StoreError> {
        let _serialised = self.reload_lock.lock().await;
        let view = Arc::new(build_view(store, app_id).await?);
        let mut next = HashMap::clone(&self.apps.load());
        next.insert(app_id.to_owned(), view);
        self.apps.store(Arc::new(next));
        Ok(())
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

async fn build_view(store: &dyn Store, app_id: &str) -> Result<AppView, StoreError> {
    let channels = store.list_channels(app_id).await?;
    let mut bundles: HashMap<i64, Arc<BundleView>> = HashMap::new();
    let mut file_sizes = HashMap::new();
    let mut target = async |id: Option<i64>| -> Result<Target, StoreError> {
        let Some(id) = id else {
            return Ok(Target::Builtin);
        };
        if let Some(b) = bundles.get(&id) {
            return Ok(Target::Bundle(b.clone()));
        }
        let row = store.get_bundle_by_id(id).await?;
        let sizes: HashMap<String, u64> = row
            .variants
            .iter()
            .flat_map(|v| v.manifest.iter().map(|f| (f.file_name.clone(), f.size)))
            .collect();
        file_sizes.insert(row.version.clone(), sizes);
        let view = Arc::new(bundle_view(&row));
        bundles.insert(id, view.clone());
        Ok(Target::Bundle(view))
    };
    let mut views = Vec::with_capacity(channels.len());
    for c in &channels {
        let rollout = match c.rollout {
            Some(r) => Some(Rollout {
                target: target(r.bundle_id).await?,
                basis_points: r.basis_points,
                paused: r.paused,
            }),
            None => None,
        };
        views.push(ChannelView {
            id: c.id,
            name: c.name.clone(),
            flags: c.flags,
            target: target(c.bundle_id).await?,
            rollout,
        });
    }
    views.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    let overrides = store
        .list_overrides(app_id)
        .await?
        .into_iter()
        .map(|o| (o.device_id, o.channel_id))
        .collect();
    let mut blobs = HashMap::new();
    for b in store.list_bundles(app_id).await? {
        for v in &b.variants {
            for f in &v.manifest {
                blobs
                    .entry(f.blob_sha256.clone())
                    .or_insert(BlobKind::Delta);
            }
            // A zip that is also some bundle's file (unlikely) counts as a zip.
            if let Some(sha) = &v.blob_sha256 {
                blobs.insert(sha.clone(), BlobKind::Full);
            }
        }
    }
    Ok(AppView {
        settings: store.get_app(app_id).await?.settings,
        blobs,
        channels: views,
        overrides,
        file_sizes,
    })
}
