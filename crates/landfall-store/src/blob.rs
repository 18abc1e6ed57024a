//! Content-addressed blob storage: bundle zips and delta files, keyed by the sha256 of their bytes.
//!
//! Uploads are staged in a local temp directory (hashed and validated there), then moved into the
//! store with [`BlobStore::put_file`]; a blob is written completely and synced before the metadata
//! that references it is committed. Unreferenced blobs (a killed upload) are removed by
//! garbage collection, never served by a bundle.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncSeekExt};

/// A readable blob (or a byte range of it).
pub struct BlobRead {
    /// Full size of the blob.
    pub size: u64,
    /// Bytes from the requested start to the requested end.
    pub body: Pin<Box<dyn AsyncRead + Send>>,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// One stored blob, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// The sha256 key.
    pub key: String,
    /// Stored size in bytes.
    pub size: u64,
    /// When it was written (ms since the Unix epoch): garbage collection spares young blobs,
    /// which may belong to an upload still in flight on another instance.
    pub modified_ms: i64,
}

/// Where blobs live.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Where the blobs are, for messages and logs (never a credential).
    fn location(&self) -> String;
    /// Move a fully written local file into the store under `sha256` (idempotent).
    async fn put_file(&self, sha256: &str, path: &Path) -> io::Result<()>;
    /// Store bytes under `sha256` (idempotent).
    async fn put_bytes(&self, sha256: &str, bytes: &[u8]) -> io::Result<()>;
    /// Open a blob from byte `start` to `end` (exclusive; `None` = to the end). `None` if absent.
    async fn open(
        &self,
        sha256: &str,
        start: u64,
        end: Option<u64>,
    ) -> io::Result<Option<BlobRead>>;
    /// Size of a blob, `None` if absent.
    async fn size(&self, sha256: &str) -> io::Result<Option<u64>>;
    /// Remove a blob (no error if absent).
    async fn delete(&self, sha256: &str) -> io::Result<()>;
    /// Every stored blob.
    async fn list(&self) -> io::Result<Vec<BlobInfo>>;
    /// A URL anyone holding it may `GET` the blob from until `expires` passes, when the store can
    /// sign one (S3); `None` for stores that cannot (local disk).
    async fn presign_get(
        &self,
        sha256: &str,
        expires: std::time::Duration,
    ) -> io::Result<Option<String>> {
        let _ = (sha256, expires);
        Ok(None)
    }
}

/// Whether `s` is a lowercase sha256 hex string (the only accepted blob key).
pub fn is_blob_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn bad_key(k: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a sha256 blob key: {k:?}"),
    )
}

/// Create `dir` and its missing parents readable by the owner only (0700 on Unix).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Make an existing file or directory readable by the owner only (0600 / 0700 on Unix).
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if std::fs::metadata(path)?.is_dir() {
            0o700
        } else {
            0o600
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

async fn private_dir_async(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || create_private_dir(&dir))
        .await
        .map_err(io::Error::other)?
}

/// Blobs on the local disk: `<root>/<aa>/<sha256>`; directories 0700, files 0600 (Unix).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Use (and create) `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        create_private_dir(&root)?;
        make_private(&root)?;
        Ok(Self { root })
    }

    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_blob_key(sha256) {
            return Err(bad_key(sha256));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }
}

/// If `path` exists, mark it as written now (garbage collection spares young blobs) and say so.
async fn touch(path: &Path) -> io::Result<bool> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(
        move || match std::fs::File::options().write(true).open(&path) {
            Ok(f) => {
                f.set_modified(std::time::SystemTime::now())?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        },
    )
    .await
    .map_err(io::Error::other)?
}

async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn put_file(&self, sha256: &str, src: &Path) -> io::Result<()> {
        let dst = self.path(sha256)?;
        if touch(&dst).await? {
            let _ = tokio::fs::remove_file(src).await;
            return Ok(());
        }
        let dir = dst.parent().map(Path::to_owned).unwrap_or_default();
        private_dir_async(&dir).await?;
        make_private(src)?;
        tokio::fs::File::open(src).await?.sync_all().await?;
        if tokio::fs::rename(src, &dst).await.is_err() {
            // Different filesystem: copy to a temp name beside the target, sync, then rename.
            let tmp = dir.join(format!(".{sha256}.{}", uuid::Uuid::new_v4()));
            tokio::fs::copy(src, &tmp).await?;
            make_private(&tmp)?;
            tokio::fs::File::open(&tmp).await?.sync_all().await?;
            tokio::fs::rename(&tmp, &dst).await?;
        }
        sync_dir(&dir).await
    }

    async fn put_bytes(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let dst = self.path(sha256)?;
        if touch(&dst).await? {
            return Ok(());
        }
        let dir = dst.parent().map(Path::to_owned).unwrap_or_default();
        private_dir_async(&dir).await?;
        let tmp = dir.join(format!(".{sha256}.{}", uuid::Uuid::new_v4()));
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut f = opts.open(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut f, bytes).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, &dst).await?;
        sync_dir(&dir).await
    }

    async fn open(
        &self,
        sha256: &str,
        start: u64,
        end: Option<u64>,
    ) -> io::Result<Option<BlobRead>> {
        use tokio::io::AsyncReadExt;
        let path = self.path(sha256)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let size = file.metadata().await?.len();
        if start > 0 {
            file.seek(io::SeekFrom::Start(start)).await?;
        }
        let end = end.unwrap_or(size).min(size);
        let body = file.take(end.saturating_sub(start));
        Ok(Some(BlobRead {
            size,
            body: Box::pin(body),
        }))
    }

    async fn size(&self, sha256: &str) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(sha256)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, sha256: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(sha256)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn list(&self) -> io::Result<Vec<BlobInfo>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for shard in std::fs::read_dir(&root)? {
                let shard = shard?;
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(shard.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    if !is_blob_key(&name) {
                        continue;
                    }
                    let meta = f.metadata()?;
                    let modified_ms = meta
                        .modified()?
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(0);
                    out.push(BlobInfo {
                        key: name,
                        size: meta.len(),
                        modified_ms,
                    });
                }
            }
            Ok(out)
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// What [`copy_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobCopyReport {
    /// Blobs in the source.
    pub source_blobs: u64,
    pub source_bytes: u64,
    /// Blobs written to the target by this run (the others were already there).
    pub copied: u64,
    /// Blobs whose target copy was re-read and hashed to its key.
    pub verified: u64,
}

/// Why a blob copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum BlobCopyError {
    #[error("the target {target} already holds {held} blob(s); copy into an empty place, or pass --resume to continue an interrupted copy")]
    NotEmpty { target: String, held: usize },
    #[error("the target {target} holds {key}, which the source does not: not an interrupted copy of this source, nothing was written")]
    Foreign { target: String, key: String },
    #[error("blob {key} read from {store} hashes to {actual}: the copy is not trustworthy")]
    Corrupt {
        store: String,
        key: String,
        actual: String,
    },
    #[error("blob {key} vanished from {store} during the copy")]
    Vanished { store: String, key: String },
    #[error("{store}: {source}")]
    Io {
        store: String,
        #[source]
        source: io::Error,
    },
}

/// Copy every blob of `from` into `to`, hashing each on the way (a blob that does not hash to its
/// key is refused), then re-read every target blob and check its hash. A non-empty target is
/// refused unless `resume` (then blobs already there are kept, and blobs the source lacks make
/// it refuse). `progress(done, total_bytes)` is called after each blob.
pub async fn copy_all(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    staging: &Path,
    resume: bool,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<BlobCopyReport, BlobCopyError> {
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let io_err = |store: &dyn BlobStore| {
        let store = store.location();
        move |source| BlobCopyError::Io {
            store: store.clone(),
            source,
        }
    };
    let source = from.list().await.map_err(io_err(from))?;
    let present = to.list().await.map_err(io_err(to))?;
    let wanted: std::collections::HashSet<&str> = source.iter().map(|b| b.key.as_str()).collect();
    if !present.is_empty() && !resume {
        return Err(BlobCopyError::NotEmpty {
            target: to.location(),
            held: present.len(),
        });
    }
    if let Some(foreign) = present.iter().find(|b| !wanted.contains(b.key.as_str())) {
        return Err(BlobCopyError::Foreign {
            target: to.location(),
            key: foreign.key.clone(),
        });
    }
    let have: std::collections::HashMap<&str, u64> =
        present.iter().map(|b| (b.key.as_str(), b.size)).collect();
    let total: u64 = source.iter().map(|b| b.size).sum();
    let mut report = BlobCopyReport {
        source_blobs: source.len() as u64,
        source_bytes: total,
        ..Default::default()
    };
    private_dir_async(staging).await.map_err(io_err(to))?;
    let mut done = 0u64;
    let mut buf = vec![0u8; 256 << 10];
    for blob in &source {
        if have.get(blob.key.as_str()) != Some(&blob.size) {
            let Some(mut r) = from.open(&blob.key, 0, None).await.map_err(io_err(from))? else {
                return Err(BlobCopyError::Vanished {
                    store: from.location(),
                    key: blob.key.clone(),
                });
            };
            let tmp = staging.join(format!("{}.{}", blob.key, uuid::Uuid::new_v4()));
            let mut file = tokio::fs::File::create(&tmp).await.map_err(io_err(to))?;
            let mut hash = Sha256::new();
            loop {
                let n = r.body.read(&mut buf).await.map_err(io_err(from))?;
                if n == 0 {
                    break;
                }
                hash.update(&buf[..n]);
                file.write_all(&buf[..n]).await.map_err(io_err(to))?;
            }
            file.flush().await.map_err(io_err(to))?;
            drop(file);
            let actual = hex::encode(hash.finalize());
            if actual != blob.key {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(BlobCopyError::Corrupt {
                    store: from.location(),
                    key: blob.key.clone(),
                    actual,
                });
            }
            to.put_file(&blob.key, &tmp).await.map_err(io_err(to))?;
            let _ = tokio::fs::remove_file(&tmp).await;
            report.copied += 1;
        }
        done += blob.size;
        progress(done, total);
    }
    // Verification: every source blob is in the target and hashes to its key there.
    for blob in &source {
        let Some(mut r) = to.open(&blob.key, 0, None).await.map_err(io_err(to))? else {
            return Err(BlobCopyError::Vanished {
                store: to.location(),
                key: blob.key.clone(),
            });
        };
        let mut hash = Sha256::new();
        loop {
            let n = r.body.read(&mut buf).await.map_err(io_err(to))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
        let actual = hex::encode(hash.finalize());
        if actual != blob.key {
            return Err(BlobCopyError::Corrupt {
                store: to.location(),
                key: blob.key.clone(),
                actual,
            });
        }
        report.verified += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const K: &str = "4815fdee19163c8c7dedc438c32bcd1a3d8d9218835ba099371efadaeb00cac4";

    #[tokio::test]
    async fn put_open_range_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path().join("blobs")).unwrap();
        let src = dir.path().join("upload.tmp");
        std::fs::write(&src, b"0123456789").unwrap();
        store.put_file(K, &src).await.unwrap();
        assert!(!src.exists(), "staged file is moved, not copied");
        assert_eq!(store.size(K).await.unwrap(), Some(10));
        let mut r = store.open(K, 4, None).await.unwrap().unwrap();
        let mut got = String::new();
        r.body.read_to_string(&mut got).await.unwrap();
        assert_eq!((r.size, got.as_str()), (10, "456789"));
        let mut r = store.open(K, 2, Some(5)).await.unwrap().unwrap();
        let mut got = String::new();
        r.body.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "234");
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].key.as_str(), listed[0].size), (K, 10));
        store.delete(K).await.unwrap();
        assert!(store.open(K, 0, None).await.unwrap().is_none());
        store.delete(K).await.unwrap();
    }

    #[tokio::test]
    async fn copy_all_copies_verifies_resumes_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = LocalBlobStore::open(dir.path().join("a")).unwrap();
        let b = LocalBlobStore::open(dir.path().join("b")).unwrap();
        let staging = dir.path().join("staging");
        let mut keys = Vec::new();
        for i in 0..5u8 {
            let data = vec![i; 1000 + i as usize];
            let k = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
            a.put_bytes(&k, &data).await.unwrap();
            keys.push(k);
        }
        let mut calls = 0;
        let r = copy_all(&a, &b, &staging, false, &mut |_, _| calls += 1)
            .await
            .unwrap();
        assert_eq!((r.source_blobs, r.copied, r.verified, calls), (5, 5, 5, 5));
        assert_eq!(b.list().await.unwrap().len(), 5);
        // Again: refused without --resume; with it, nothing to copy, everything verified.
        let e = copy_all(&a, &b, &staging, false, &mut |_, _| {}).await;
        assert!(
            matches!(e, Err(BlobCopyError::NotEmpty { held: 5, .. })),
            "{e:?}"
        );
        let r = copy_all(&a, &b, &staging, true, &mut |_, _| {})
            .await
            .unwrap();
        assert_eq!((r.copied, r.verified), (0, 5));
        // Half-done copy: one blob missing in the target is copied on resume.
        b.delete(&keys[2]).await.unwrap();
        let r = copy_all(&a, &b, &staging, true, &mut |_, _| {})
            .await
            .unwrap();
        assert_eq!(r.copied, 1);
        // A source blob whose bytes do not match its key is refused.
        std::fs::write(a.path(&keys[0]).unwrap(), b"tampered").unwrap();
        let c = LocalBlobStore::open(dir.path().join("c")).unwrap();
        let e = copy_all(&a, &c, &staging, false, &mut |_, _| {}).await;
        assert!(matches!(e, Err(BlobCopyError::Corrupt { .. })), "{e:?}");
        // A target with blobs the source lacks is not a copy of it.
        let e = copy_all(&c, &b, &staging, true, &mut |_, _| {}).await;
        assert!(matches!(e, Err(BlobCopyError::Foreign { .. })), "{e:?}");
    }

    #[tokio::test]
    async fn refuses_non_hash_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        assert!(store.put_bytes("../../etc/passwd", b"x").await.is_err());
        assert!(store.open("ABC", 0, None).await.is_err());
        store.put_bytes(K, b"abc").await.unwrap();
        store.put_bytes(K, b"abc").await.unwrap();
        assert_eq!(store.size(K).await.unwrap(), Some(3));
    }
}
