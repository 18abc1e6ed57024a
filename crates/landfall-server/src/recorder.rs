//! Records device check-ins off the hot path: the update check drops a record into a sharded,
//! coalescing buffer (one entry per device, newest wins) and a background task writes the buffer
//! to the store in batches every second, and once more at shutdown.
//!
//! A device that checks in again with nothing changed is not rewritten until [`REFRESH_MS`] has
//! passed since its last write: `last_seen` is exact to that interval, and a fleet of devices that
//! polls often costs the database one write per device per interval, not one per check.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use landfall_store::{DeviceSeen, Store};
use parking_lot::Mutex;
use tokio::sync::watch;

const SHARDS: usize = 16;
/// Devices per write transaction. Small enough that the one writer connection is never held long:
/// an operator's rollback queued behind a recorder round waits for one transaction of this many
/// upserts (with their `device_hours` and search-index triggers), not for the whole backlog.
const BATCH: usize = 500;
/// How stale `last_seen` may get for a device whose check-ins change nothing else.
pub const REFRESH_MS: i64 = 60_000;

type Key = (String, String);

#[derive(Default)]
struct Shard {
    pending: HashMap<Key, DeviceSeen>,
    /// Fingerprint of what was last written for a device, and when.
    written: HashMap<Key, (u64, i64)>,
}

/// The buffer of pending check-ins.
pub struct DeviceRecorder {
    shards: Vec<Mutex<Shard>>,
    hasher: std::collections::hash_map::RandomState,
    /// One flush at a time: a caller that flushes returns only after every check-in recorded
    /// before its call is in the store, including a batch in flight.
    flushing: tokio::sync::Mutex<()>,
    /// Flushes that took their batch (`started`) and that finished writing it (`finished`);
    /// readers wait on `finished` instead of writing themselves ([`DeviceRecorder::caught_up`]).
    started: std::sync::atomic::AtomicU64,
    finished: watch::Sender<u64>,
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
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: Default::default(),
            flushing: tokio::sync::Mutex::new(()),
            started: Default::default(),
            finished: watch::Sender::new(0),
        }
    }
}

impl DeviceRecorder {
    /// Everything recorded about a device except the time.
    fn fingerprint(&self, d: &DeviceSeen) -> u64 {
        self.hasher.hash_one((
            (
                &d.platform,
                &d.version_build,
                &d.version_code,
                &d.version_os,
            ),
            (
                &d.version_name,
                &d.plugin_version,
                &d.custom_id,
                &d.install_source,
            ),
            (d.is_emulator, d.is_prod, &d.channel, &d.key_id),
        ))
    }

    fn shard(&self, device_id: &str) -> usize {
        (self.hasher.hash_one(device_id) as usize) % SHARDS
    }

    /// Remember a check-in (replaces a pending one for the same device; skipped when the same
    /// information was written less than [`REFRESH_MS`] ago).
    pub fn record(&self, seen: DeviceSeen) {
        let fp = self.fingerprint(&seen);
        let mut shard = self.shards[self.shard(&seen.device_id)].lock();
        let key = (seen.app_id, seen.device_id);
        if let Some((written_fp, at)) = shard.written.get(&key) {
            if *written_fp == fp && seen.seen_at - at < REFRESH_MS {
                shard.pending.remove(&key);
                return;
            }
        }
        let seen = DeviceSeen {
            app_id: key.0.clone(),
            device_id: key.1.clone(),
            ..seen
        };
        shard.pending.insert(key, seen);
    }

    /// Number of check-ins waiting to be written.
    pub fn pending(&self) -> usize {
        self.shards.iter().map(|s| s.lock().pending.len()).sum()
    }

    /// Write everything pending. On failure the records are put back (unless newer ones arrived).
    pub async fn flush(&self, store: &dyn Store) -> usize {
        let _one_at_a_time = self.flushing.lock().await;
        let round = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let batch = self.take_batch();
        let total = batch.len();
        let _announce = FinishedOnDrop {
            finished: &self.finished,
            round,
        };
        for chunk in batch.chunks(BATCH) {
            let ok = match store.upsert_devices(chunk).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, devices = chunk.len(), "recording devices failed; will retry");
                    false
                }
            };
            self.finish_batch(chunk, ok);
        }
        total
    }

    /// Waits until every check-in recorded before the call went through a write attempt by the
    /// background flusher — for readers such as the device list, which see check-ins at most one
    /// round late but never write on the read path. Waits as long as rounds keep finishing, but
    /// gives up when none finishes within `stall` (e.g. no flusher runs). Answers whether it
    /// caught up.
    pub async fn caught_up(&self, stall: Duration) -> bool {
        let mut finished = self.finished.subscribe();
        // Pending first, then the round: a flush that starts in between only makes us wait one
        // round more, never less. A flush in flight holds what it took; what is still pending
        // needs the next one.
        let pending = self.pending() > 0;
        let target = self.started.load(Ordering::SeqCst) + u64::from(pending);
        loop {
            let before = *finished.borrow_and_update();
            if before >= target {
                return true;
            }
            match tokio::time::timeout(stall, finished.changed()).await {
                Ok(Ok(())) => continue,
                // The recorder is gone, or no round finished in time.
                Ok(Err(_)) | Err(_) => return *finished.borrow() >= target,
            }
        }
    }

    /// Take everything pending for writing.
    fn take_batch(&self) -> Vec<DeviceSeen> {
        let mut batch: Vec<DeviceSeen> = Vec::new();
        let horizon = landfall_store::now_ms() - REFRESH_MS;
        for shard in &self.shards {
            let mut shard = shard.lock();
            // Forget write times older than the interval: memory stays bounded by recent devices.
            shard.written.retain(|_, (_, at)| *at > horizon);
            let taken = std::mem::take(&mut shard.pending);
            // In flight: until this batch is written, what was written before says nothing about
            // the store (a check-in equal to the older write must not be skipped).
            for key in taken.keys() {
                shard.written.remove(key);
            }
            batch.extend(taken.into_values());
        }
        batch
    }

    /// Remember what a written batch stored, or put a failed one back.
    fn finish_batch(&self, chunk: &[DeviceSeen], ok: bool) {
        for seen in chunk {
            let fp = self.fingerprint(seen);
            let mut shard = self.shards[self.shard(&seen.device_id)].lock();
            let key = (seen.app_id.clone(), seen.device_id.clone());
            if ok {
                shard.written.insert(key, (fp, seen.seen_at));
            } else {
                shard.pending.entry(key).or_insert_with(|| seen.clone());
            }
        }
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

/// Announces a finished flush round even when the flushing future is dropped half-way.
struct FinishedOnDrop<'a> {
    finished: &'a watch::Sender<u64>,
    round: u64,
}

impl Drop for FinishedOnDrop<'_> {
    fn drop(&mut self) {
        let round = self.round;
        self.finished.send_if_modified(|done| {
            let newer = *done < round;
            if newer {
                *done = round;
            }
            newer
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(version: &str, at: i64) -> DeviceSeen {
        DeviceSeen {
            app_id: "com.example.app".into(),
            device_id: "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f".into(),
            platform: "android".into(),
            version_build: "1.0.0".into(),
            version_code: "1".into(),
            version_os: "14".into(),
            version_name: version.into(),
            plugin_version: "8.51.14".into(),
            custom_id: String::new(),
            is_emulator: false,
            is_prod: true,
            install_source: String::new(),
            channel: "production".into(),
            key_id: String::new(),
            seen_at: at,
        }
    }

    fn fake_written(r: &DeviceRecorder, d: &DeviceSeen) {
        let fp = r.fingerprint(d);
        let mut shard = r.shards[r.shard(&d.device_id)].lock();
        shard.pending.clear();
        shard
            .written
            .insert((d.app_id.clone(), d.device_id.clone()), (fp, d.seen_at));
    }

    #[test]
    fn unchanged_devices_are_not_rewritten_within_the_refresh_interval() {
        let r = DeviceRecorder::default();
        let first = seen("builtin", 1_000);
        r.record(first.clone());
        assert_eq!(r.pending(), 1);
        fake_written(&r, &first);
        r.record(seen("builtin", 1_000 + REFRESH_MS - 1));
        assert_eq!(r.pending(), 0, "same data, recently written");
        r.record(seen("1.0.1", 1_000 + 10));
        assert_eq!(r.pending(), 1, "a change is written at once");
        fake_written(&r, &first);
        r.record(seen("builtin", 1_000 + REFRESH_MS));
        assert_eq!(r.pending(), 1, "last_seen refreshed after the interval");
    }

    #[test]
    fn a_check_in_during_a_write_of_another_value_is_not_skipped() {
        // 1.0.2 was written; the device reports builtin (in flight), then 1.0.2 again while that
        // write is still running: the last value must reach the store.
        let r = DeviceRecorder::default();
        let on = seen("1.0.2", 1_000);
        fake_written(&r, &on);
        r.record(seen("builtin", 1_100));
        let in_flight = r.take_batch();
        assert_eq!(in_flight.len(), 1);
        r.record(seen("1.0.2", 1_200));
        assert_eq!(
            r.pending(),
            1,
            "not skipped: the store is about to hold builtin"
        );
        r.finish_batch(&in_flight, true);
        let next = r.take_batch();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].version_name, "1.0.2");
    }
}
