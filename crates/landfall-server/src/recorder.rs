//! Records device check-ins off the hot path: the update check drops a record into a sharded,
//! coalescing buffer (one entry per device, newest wins) and a background task writes the buffer
//! to the store in batches every second, and once more at shutdown.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use landfall_store::{DeviceSeen, Store};
use parking_lot::Mutex;
use tokio::sync::watch;

const SHARDS: usize = 16;
const BATCH: usize = 500;

type Key = (String, String);

/// The buffer of pending check-ins.
pub struct DeviceRecorder {
    shards: Vec<Mutex<HashMap<Key, DeviceSeen>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl std::fmt::Debug for DeviceRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRecorder")
            .field("pending", &self.pending())
            .finish()
    }
}

impl Default for DeviceRecorder {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
        }
    }
}

impl DeviceRecorder {
    /// Remember a check-in (replaces a pending one for the same device).
    pub fn record(&self, seen: DeviceSeen) {
        self.shards[self.shard(&seen.device_id)]
            .lock()
            .insert((seen.app_id.clone(), seen.device_id.clone()), seen);
    }

    fn shard(&self, device_id: &str) -> usize {
        (self.hasher.hash_one(device_id) as usize) % SHARDS
    }

    /// Number of check-ins waiting to be written.
    pub fn pending(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Write everything pending. On failure the records are put back (unless newer ones arrived).
    pub async fn flush(&self, store: &dyn Store) -> usize {
        let mut batch: Vec<DeviceSeen> = Vec::new();
        for shard in &self.shards {
            batch.extend(std::mem::take(&mut *shard.lock()).into_values());
        }
        let total = batch.len();
        for chunk in batch.chunks(BATCH) {
            if let Err(e) = store.upsert_devices(chunk).await {
                tracing::warn!(error = %e, devices = chunk.len(), "recording devices failed; will retry");
                for seen in chunk {
                    self.shards[self.shard(&seen.device_id)]
                        .lock()
                        .entry((seen.app_id.clone(), seen.device_id.clone()))
                        .or_insert_with(|| seen.clone());
                }
            }
        }
        total
    }

    /// Flush every second until `stop` turns true, then flush a last time.
    pub async fn run(self: Arc<Self>, store: Arc<dyn Store>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => { self.flush(store.as_ref()).await; }
                _ = stop.changed() => break,
            }
        }
        self.flush(store.as_ref()).await;
    }
}
