//! The blob conformance cases on the local-disk store.

use landfall_store::blob::LocalBlobStore;

fn fresh() -> LocalBlobStore {
    // Leaked on purpose: the directory must outlive the store in each case (it is under the
    // system temp dir and tiny).
    let dir = tempfile::tempdir().unwrap().keep();
    LocalBlobStore::open(dir.join("blobs")).unwrap()
}

landfall_store::blob_store_cases!(fresh());
