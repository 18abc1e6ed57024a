//! [`BlobStore`] conformance cases, run by every blob backend (local disk, S3-compatible servers).
//!
//! Each case is a function over a fresh, empty store; [`blob_store_cases!`](crate::blob_store_cases)
//! turns them into one `#[tokio::test]` each, so a failure names the broken behaviour.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::blob::BlobStore;

/// The sha256 key of `bytes`.
pub fn key_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic, incompressible-looking bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

async fn read_all(
    store: &dyn BlobStore,
    key: &str,
    start: u64,
    end: Option<u64>,
) -> Option<Vec<u8>> {
    let mut r = store.open(key, start, end).await.unwrap()?;
    let mut out = Vec::new();
    r.body.read_to_end(&mut out).await.unwrap();
    Some(out)
}

/// Bytes in, the same bytes out; size and ranges agree.
pub async fn put_bytes_then_read_ranges(store: &dyn BlobStore) {
    let data = b"0123456789".to_vec();
    let k = key_of(&data);
    store.put_bytes(&k, &data).await.unwrap();
    assert_eq!(store.size(&k).await.unwrap(), Some(10));
    assert_eq!(read_all(store, &k, 0, None).await.unwrap(), data);
    assert_eq!(read_all(store, &k, 4, None).await.unwrap(), b"456789");
    assert_eq!(read_all(store, &k, 2, Some(5)).await.unwrap(), b"234");
    assert_eq!(read_all(store, &k, 9, Some(10)).await.unwrap(), b"9");
    let r = store.open(&k, 3, None).await.unwrap().unwrap();
    assert_eq!(r.size, 10, "size is the whole blob's, whatever the range");
}

/// A staged file is moved into the store (the staging copy is gone afterwards), multi-megabyte
/// files included (S3 backends switch to multipart uploads above a threshold).
pub async fn put_file_small_and_large(store: &dyn BlobStore) {
    let dir = tempfile_dir();
    for (len, seed) in [(1usize, 1u64), (64 << 10, 2), (21 << 20, 3)] {
        let data = pseudo_random(len, seed);
        let k = key_of(&data);
        let src = dir.join(format!("staged-{seed}"));
        std::fs::write(&src, &data).unwrap();
        store.put_file(&k, &src).await.unwrap();
        assert!(!src.exists(), "the staged file is consumed");
        assert_eq!(store.size(&k).await.unwrap(), Some(len as u64));
        let back = read_all(store, &k, 0, None).await.unwrap();
        assert!(back == data, "{len} bytes come back byte for byte");
        let tail = read_all(store, &k, len as u64 - 1, None).await.unwrap();
        assert_eq!(tail, data[len - 1..]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Storing the same content twice is a no-op that succeeds; a zero-byte blob is a blob.
pub async fn puts_are_idempotent(store: &dyn BlobStore) {
    let data = b"same bytes".to_vec();
    let k = key_of(&data);
    store.put_bytes(&k, &data).await.unwrap();
    store.put_bytes(&k, &data).await.unwrap();
    let dir = tempfile_dir();
    let src = dir.join("again");
    std::fs::write(&src, &data).unwrap();
    store.put_file(&k, &src).await.unwrap();
    assert_eq!(read_all(store, &k, 0, None).await.unwrap(), data);
    let listed: Vec<_> = store.list().await.unwrap();
    assert_eq!(listed.iter().filter(|b| b.key == k).count(), 1);
    let empty = key_of(b"");
    store.put_bytes(&empty, b"").await.unwrap();
    assert_eq!(store.size(&empty).await.unwrap(), Some(0));
    assert_eq!(read_all(store, &empty, 0, None).await.unwrap(), b"");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Absent blobs are `None`, and deleting one is not an error.
pub async fn absent_blobs(store: &dyn BlobStore) {
    let k = key_of(b"never stored");
    assert!(store.open(&k, 0, None).await.unwrap().is_none());
    assert_eq!(store.size(&k).await.unwrap(), None);
    store.delete(&k).await.unwrap();
}

/// Only lowercase sha256 hex is a key: paths, uppercase and short strings are refused.
pub async fn refuses_keys_that_are_not_hashes(store: &dyn BlobStore) {
    for bad in [
        "../../etc/passwd",
        "ABC",
        "",
        &"A".repeat(64),
        &format!("{}/x", "a".repeat(62)),
    ] {
        assert!(store.put_bytes(bad, b"x").await.is_err(), "{bad:?}");
        assert!(store.open(bad, 0, None).await.is_err(), "{bad:?}");
        assert!(store.size(bad).await.is_err(), "{bad:?}");
        assert!(store.delete(bad).await.is_err(), "{bad:?}");
    }
    assert!(
        store.list().await.unwrap().is_empty(),
        "nothing was written"
    );
}

/// `list` returns every blob with its size and a recent write time; delete removes it.
pub async fn list_and_delete(store: &dyn BlobStore) {
    let before = crate::now_ms();
    let mut keys = Vec::new();
    for i in 0..25u64 {
        let data = pseudo_random(100 + i as usize, i);
        let k = key_of(&data);
        store.put_bytes(&k, &data).await.unwrap();
        keys.push((k, data.len() as u64));
    }
    let mut listed = store.list().await.unwrap();
    listed.sort_by(|a, b| a.key.cmp(&b.key));
    keys.sort();
    assert_eq!(
        listed
            .iter()
            .map(|b| (b.key.clone(), b.size))
            .collect::<Vec<_>>(),
        keys
    );
    for b in &listed {
        // Object stores keep whole seconds: allow for truncation and clock skew.
        assert!(
            (b.modified_ms - before).abs() < 120_000,
            "write time {} is not close to now {before}",
            b.modified_ms
        );
    }
    for (k, _) in &keys[..10] {
        store.delete(k).await.unwrap();
    }
    assert_eq!(store.list().await.unwrap().len(), 15);
    assert!(store.open(&keys[0].0, 0, None).await.unwrap().is_none());
}

/// Many writers of the same and of different blobs at once: every blob ends complete.
pub async fn concurrent_writers(store: &dyn BlobStore) {
    let shared = pseudo_random(300 << 10, 42);
    let shared_key = key_of(&shared);
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let own = pseudo_random(10_000, 100 + i);
        let shared = shared.clone();
        let shared_key = shared_key.clone();
        tasks.push(async move {
            store.put_bytes(&shared_key, &shared).await.unwrap();
            store.put_bytes(&key_of(&own), &own).await.unwrap();
            own
        });
    }
    let owns = futures::future::join_all(tasks).await;
    assert!(read_all(store, &shared_key, 0, None).await.unwrap() == shared);
    for own in owns {
        assert!(read_all(store, &key_of(&own), 0, None).await.unwrap() == own);
    }
    assert_eq!(store.list().await.unwrap().len(), 13);
}

/// Storing content that is already there refreshes its write time, so garbage collection's
/// grace period also protects an upload that reuses an old, unreferenced blob.
pub async fn reput_refreshes_write_time(store: &dyn BlobStore, age: Duration) {
    let data = b"reused".to_vec();
    let k = key_of(&data);
    store.put_bytes(&k, &data).await.unwrap();
    let first = store.list().await.unwrap()[0].modified_ms;
    tokio::time::sleep(age).await;
    store.put_bytes(&k, &data).await.unwrap();
    let second = store.list().await.unwrap()[0].modified_ms;
    assert!(
        second >= first + age.as_millis() as i64 - 1000,
        "re-put at +{age:?} left the write time at {first} (now {second})"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("landfall-blob-case-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One `#[tokio::test]` per conformance case. `$make` is an async expression yielding a fresh,
/// empty store (`impl BlobStore`) for each case.
#[macro_export]
macro_rules! blob_store_cases {
    ($make:expr) => {
        $crate::blob_store_cases!(@case $make, put_bytes_then_read_ranges);
        $crate::blob_store_cases!(@case $make, put_file_small_and_large);
        $crate::blob_store_cases!(@case $make, puts_are_idempotent);
        $crate::blob_store_cases!(@case $make, absent_blobs);
        $crate::blob_store_cases!(@case $make, refuses_keys_that_are_not_hashes);
        $crate::blob_store_cases!(@case $make, list_and_delete);
        $crate::blob_store_cases!(@case $make, concurrent_writers);
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn reput_refreshes_write_time() {
            let store = $make;
            $crate::conformance::blobs::reput_refreshes_write_time(&store, std::time::Duration::from_millis(2100)).await;
        }
    };
    (@case $make:expr, $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let store = $make;
            $crate::conformance::blobs::$name(&store).await;
        }
    };
}
