//! The blob conformance cases against a real S3-compatible server (Garage, started by
//! `scripts/test`; any S3 server works).
//!
//! `LANDFALL_TEST_S3` names the bucket, e.g.
//! `s3://landfall-test?endpoint=http://127.0.0.1:3900&region=garage`, with credentials in
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`. Each case works under its own random prefix.
//! Without it the cases fail under CI (`CI` set) and are skipped with a message elsewhere.

use std::time::Duration;

use landfall_store_s3::{S3BlobStore, S3Config};

fn fresh() -> Option<S3BlobStore> {
    let Ok(url) = std::env::var("LANDFALL_TEST_S3") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "LANDFALL_TEST_S3 is not set: scripts/test starts Garage and sets it"
        );
        eprintln!("skipped: LANDFALL_TEST_S3 is not set (scripts/test starts Garage)");
        return None;
    };
    let cfg = S3Config::parse(&url)
        .unwrap()
        .with_sub_prefix(&format!("case-{}", uuid_like()));
    Some(
        S3BlobStore::open(cfg)
            .unwrap()
            .with_refresh_after(Duration::from_secs(1)),
    )
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}-{}", std::process::id())
}

macro_rules! or_skip {
    () => {
        match fresh() {
            Some(s) => s,
            None => return,
        }
    };
}

landfall_store::blob_store_cases!(or_skip!());

#[tokio::test]
async fn check_names_the_bucket_when_it_is_unreachable() {
    let cfg = S3Config::parse("s3://nowhere/p?endpoint=http://127.0.0.1:9&region=garage").unwrap();
    let store = S3BlobStore::open(cfg).unwrap();
    let e = store.check().await.unwrap_err().to_string();
    assert!(e.contains("s3://nowhere/p at http://127.0.0.1:9"), "{e}");
}

#[tokio::test]
async fn presigned_urls_fetch_the_blob_and_expire() {
    let store = or_skip!();
    let data = b"presigned".to_vec();
    let key = landfall_store::conformance::blobs::key_of(&data);
    use landfall_store::blob::BlobStore;
    store.put_bytes(&key, &data).await.unwrap();
    let url = store
        .presign_get(&key, Duration::from_secs(300))
        .await
        .unwrap()
        .unwrap();
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status(), 200, "{url}");
    assert_eq!(got.bytes().await.unwrap().as_ref(), data.as_slice());
    // Without the signature the object is private.
    let bare = url.split('?').next().unwrap();
    assert_eq!(reqwest::get(bare).await.unwrap().status(), 403);
    let short = store
        .presign_get(&key, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // AWS answers 403 to an expired signature, Garage 400: refused either way.
    let expired = reqwest::get(&short).await.unwrap().status();
    assert!(
        matches!(expired.as_u16(), 400 | 403),
        "expired URL answered {expired}"
    );
}
