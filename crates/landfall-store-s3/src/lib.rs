//! Blobs on S3-compatible object storage: Aliyun OSS, Tencent COS, Garage, MinIO, AWS S3.
//!
//! Named by a URL, `s3://<bucket>/<prefix>?endpoint=…&region=…&path_style=…` (see [`S3Config`]);
//! credentials come from the usual AWS environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) or the server's config file, never from the URL.
//!
//! Objects are flat under the prefix: `<prefix>/<sha256>`. A PUT that returned is durable (the
//! object store's promise), so [`BlobStore::put_file`] returning means the blob may be referenced.
//! Files above [`MULTIPART_THRESHOLD`] go up as multipart uploads.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use landfall_store::blob::{is_blob_key, BlobInfo, BlobRead, BlobStore};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, PutPayload, RetryConfig,
    WriteMultipart,
};
use tokio::io::AsyncReadExt;

/// Files larger than this are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 << 20;
/// Size of each part of a multipart upload.
const PART_SIZE: usize = 8 << 20;
/// Blobs stored again within this long of their last write are not rewritten; older ones are,
/// which refreshes the write time garbage collection looks at. Must stay well below the
/// collection's grace period (a day by default) minus the longest upload.
pub const DEFAULT_REFRESH_AFTER: Duration = Duration::from_secs(3600);

/// Where and how to reach a bucket. `Debug`/`Display` never show credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:3900`… (`None`: AWS, or
    /// `AWS_ENDPOINT_URL` from the environment).
    pub endpoint: Option<String>,
    /// Signing region (`cn-hangzhou`, `ap-guangzhou`, `garage`…; `None`: `AWS_REGION` or
    /// `us-east-1`).
    pub region: Option<String>,
    /// `https://endpoint/bucket/key` (MinIO, Garage) rather than `https://bucket.endpoint/key`
    /// (Aliyun OSS and Tencent COS require the latter). `None`: path style with a custom
    /// endpoint, virtual-hosted on AWS.
    pub path_style: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

/// An `s3://` URL that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BadS3Url {
    #[error("{0:?} is not an s3:// URL: use s3://<bucket>/<prefix>?endpoint=https://…&region=…")]
    NotS3(String),
    #[error("s3 URL {0:?} names no bucket: use s3://<bucket>/<prefix>")]
    NoBucket(String),
    #[error("s3 URL parameter {0:?} is unknown (known: endpoint, region, path_style)")]
    UnknownParam(String),
    #[error("s3 URL parameter path_style={0:?} must be true or false")]
    PathStyle(String),
    #[error("s3 endpoint {0:?} must be an http:// or https:// URL")]
    Endpoint(String),
    #[error("s3 URLs must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or [s3] in the config file)")]
    Credentials,
}

impl S3Config {
    /// Parse `s3://bucket/prefix?endpoint=…&region=…&path_style=true|false`.
    pub fn parse(raw: &str) -> Result<Self, BadS3Url> {
        let url = url::Url::parse(raw).map_err(|_| BadS3Url::NotS3(clip(raw)))?;
        if url.scheme() != "s3" {
            return Err(BadS3Url::NotS3(clip(raw)));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BadS3Url::Credentials);
        }
        let bucket = url.host_str().unwrap_or("").to_owned();
        if bucket.is_empty() {
            return Err(BadS3Url::NoBucket(clip(raw)));
        }
        let mut cfg = S3Config {
            bucket,
            prefix: url.path().trim_matches('/').to_owned(),
            endpoint: None,
            region: None,
            path_style: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
        };
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "endpoint" => {
                    if !(v.starts_with("http://") || v.starts_with("https://")) {
                        return Err(BadS3Url::Endpoint(v.into_owned()));
                    }
                    cfg.endpoint = Some(v.trim_end_matches('/').to_owned());
                }
                "region" => cfg.region = Some(v.into_owned()),
                "path_style" => {
                    cfg.path_style = Some(match v.as_ref() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(BadS3Url::PathStyle(v.into_owned())),
                    })
                }
                _ => return Err(BadS3Url::UnknownParam(k.into_owned())),
            }
        }
        Ok(cfg)
    }

    /// The same bucket under `<prefix>/<sub>`.
    pub fn with_sub_prefix(&self, sub: &str) -> Self {
        let mut c = self.clone();
        c.prefix = match self.prefix.as_str() {
            "" => sub.to_owned(),
            p => format!("{p}/{sub}"),
        };
        c
    }

    /// Whether `other` is the same bucket on the same endpoint.
    pub fn same_bucket(&self, other: &S3Config) -> bool {
        self.bucket == other.bucket && self.endpoint == other.endpoint
    }
}

fn clip(s: &str) -> String {
    // Never echo a whole URL that might have credentials pasted in: scheme and host only.
    match url::Url::parse(s) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => s.chars().take(40).collect(),
    }
}

/// `s3://bucket/prefix (endpoint)`: what logs and errors show.
impl fmt::Display for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)?;
        if let Some(e) = &self.endpoint {
            write!(f, " at {e}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Config({self}, region {:?})", self.region)
    }
}

/// The bucket could not be reached or used.
#[derive(Debug, thiserror::Error)]
#[error("object storage {location}: {message}")]
pub struct S3Error {
    pub location: String,
    pub message: String,
}

/// A bucket (under a prefix) holding content-addressed blobs.
#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    config: S3Config,
    refresh_after: Duration,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("config", &self.config)
            .finish()
    }
}

impl S3BlobStore {
    /// Build a client for `config` (environment variables fill what the config leaves out). Does
    /// not contact the server: see [`S3BlobStore::check`].
    pub fn open(config: S3Config) -> Result<Self, S3Error> {
        // Client options first: `with_allow_http` below lives in them.
        let mut b = AmazonS3Builder::from_env()
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120)),
            )
            .with_bucket_name(&config.bucket);
        if let Some(region) = &config.region {
            b = b.with_region(region);
        }
        let custom_endpoint = config
            .endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT").ok());
        if let Some(endpoint) = &custom_endpoint {
            let path_style = config.path_style.unwrap_or(true);
            let endpoint = if path_style {
                endpoint.clone()
            } else {
                // Virtual-hosted style: the bucket is the first label of the host.
                virtual_hosted(endpoint, &config.bucket).ok_or_else(|| S3Error {
                    location: config.to_string(),
                    message: format!("endpoint {endpoint:?} is not a URL"),
                })?
            };
            b = b
                .with_endpoint(&endpoint)
                .with_virtual_hosted_style_request(!path_style)
                .with_allow_http(endpoint.starts_with("http://"));
        } else if let Some(path_style) = config.path_style {
            b = b.with_virtual_hosted_style_request(!path_style);
        }
        if let Some(k) = &config.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &config.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        if let Some(t) = &config.session_token {
            b = b.with_token(t);
        }
        // Fail fast when the bucket is down: the server answers 503 and the caller retries, rather
        // than holding an admin request for minutes.
        b = b.with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
        });
        let store = b.build().map_err(|e| S3Error {
            location: config.to_string(),
            message: e.to_string(),
        })?;
        Ok(Self {
            store: Arc::new(store),
            config,
            refresh_after: DEFAULT_REFRESH_AFTER,
        })
    }

    /// Rewrite existing blobs older than this when they are stored again (default
    /// [`DEFAULT_REFRESH_AFTER`]).
    pub fn with_refresh_after(mut self, after: Duration) -> Self {
        self.refresh_after = after;
        self
    }

    /// The configuration this store was opened with.
    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// Make sure the bucket answers and the credentials may list it (run at start-up, so a wrong
    /// endpoint or key fails there and not at the first upload).
    pub async fn check(&self) -> Result<(), S3Error> {
        let prefix = self.prefix_path();
        let mut listing = self.store.list(Some(&prefix));
        match listing.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(S3Error {
                location: self.config.to_string(),
                message: e.to_string(),
            }),
        }
    }

    fn prefix_path(&self) -> ObjectPath {
        ObjectPath::from(self.config.prefix.as_str())
    }

    fn object(&self, sha256: &str) -> io::Result<ObjectPath> {
        if !is_blob_key(sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a sha256 blob key: {sha256:?}"),
            ));
        }
        Ok(match self.config.prefix.as_str() {
            "" => ObjectPath::from(sha256),
            p => ObjectPath::from(format!("{p}/{sha256}")),
        })
    }

    fn err(&self, e: object_store::Error) -> io::Error {
        match e {
            object_store::Error::NotFound { .. } => {
                io::Error::new(io::ErrorKind::NotFound, e.to_string())
            }
            e => io::Error::other(S3Error {
                location: self.config.to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// True if the blob is already stored and was written (or refreshed) recently; otherwise
    /// the caller writes it, which also refreshes an older copy's write time.
    async fn fresh(&self, path: &ObjectPath) -> io::Result<bool> {
        match self.store.head(path).await {
            Ok(meta) => {
                let age = chrono_age_ms(meta.last_modified.timestamp_millis());
                Ok(age < self.refresh_after.as_millis() as i64)
            }
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }
}

fn chrono_age_ms(then_ms: i64) -> i64 {
    landfall_store::now_ms() - then_ms
}

/// `https://endpoint.example` + `bucket` → `https://bucket.endpoint.example`.
fn virtual_hosted(endpoint: &str, bucket: &str) -> Option<String> {
    let mut u = url::Url::parse(endpoint).ok()?;
    let host = u.host_str()?.to_owned();
    if host.starts_with(&format!("{bucket}.")) {
        return Some(endpoint.to_owned());
    }
    u.set_host(Some(&format!("{bucket}.{host}"))).ok()?;
    Some(u.as_str().trim_end_matches('/').to_owned())
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn location(&self) -> String {
        self.config.to_string()
    }

    async fn put_file(&self, sha256: &str, src: &Path) -> io::Result<()> {
        let path = self.object(sha256)?;
        // Re-storing existing content rewrites it: that refreshes the write time garbage
        // collection spares (an upload reusing an old unreferenced blob must not lose it).
        if !self.fresh(&path).await? {
            let mut file = tokio::fs::File::open(src).await?;
            let len = file.metadata().await?.len();
            if len <= MULTIPART_THRESHOLD {
                let mut buf = Vec::with_capacity(len as usize);
                file.read_to_end(&mut buf).await?;
                self.store
                    .put(&path, PutPayload::from(buf))
                    .await
                    .map_err(|e| self.err(e))?;
            } else {
                let upload = self
                    .store
                    .put_multipart(&path)
                    .await
                    .map_err(|e| self.err(e))?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                let mut chunk = vec![0u8; 1 << 20];
                loop {
                    let n = file.read(&mut chunk).await?;
                    if n == 0 {
                        break;
                    }
                    writer.wait_for_capacity(2).await.map_err(|e| self.err(e))?;
                    writer.write(&chunk[..n]);
                }
                writer.finish().await.map_err(|e| self.err(e))?;
            }
        }
        // Like a local move: the staged file is consumed.
        let _ = tokio::fs::remove_file(src).await;
        Ok(())
    }

    async fn put_bytes(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.object(sha256)?;
        if self.fresh(&path).await? {
            return Ok(());
        }
        self.store
            .put(&path, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn open(
        &self,
        sha256: &str,
        start: u64,
        end: Option<u64>,
    ) -> io::Result<Option<BlobRead>> {
        let path = self.object(sha256)?;
        let size = match self.store.head(&path).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let end = end.unwrap_or(size).min(size);
        if start >= end {
            // Nothing to send (an empty blob, or an empty range): S3 refuses empty ranges.
            return Ok(Some(BlobRead {
                size,
                body: Box::pin(tokio::io::empty()),
            }));
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(start..end)),
            ..Default::default()
        };
        let got = match self.store.get_opts(&path, opts).await {
            Ok(g) => g,
            // Deleted between the two requests.
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let location = self.config.to_string();
        let stream = got.into_stream().map_err(move |e| {
            io::Error::other(S3Error {
                location: location.clone(),
                message: e.to_string(),
            })
        });
        Ok(Some(BlobRead {
            size,
            body: Box::pin(tokio_util::io::StreamReader::new(stream)),
        }))
    }

    async fn size(&self, sha256: &str) -> io::Result<Option<u64>> {
        match self.store.head(&self.object(sha256)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn delete(&self, sha256: &str) -> io::Result<()> {
        match self.store.delete(&self.object(sha256)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn list(&self) -> io::Result<Vec<BlobInfo>> {
        let prefix = self.prefix_path();
        let metas: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| self.err(e))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let key = m.location.filename()?.to_owned();
                // Only direct children that are blob keys (a sub-prefix is another store).
                let parent_ok = m.location.as_ref() == format!("{}/{key}", self.config.prefix)
                    || (self.config.prefix.is_empty() && m.location.as_ref() == key);
                (parent_ok && is_blob_key(&key)).then(|| BlobInfo {
                    key,
                    size: m.size,
                    modified_ms: m.last_modified.timestamp_millis(),
                })
            })
            .collect())
    }

    async fn presign_get(&self, sha256: &str, expires: Duration) -> io::Result<Option<String>> {
        let path = self.object(sha256)?;
        let url = self
            .store
            .signed_url(http::Method::GET, &path, expires)
            .await
            .map_err(|e| self.err(e))?;
        Ok(Some(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_prefix_and_parameters() {
        let c = S3Config::parse(
            "s3://landfall-prod/bundles/v1/?endpoint=https://oss-cn-hangzhou.aliyuncs.com/&region=cn-hangzhou&path_style=false",
        )
        .unwrap();
        assert_eq!(c.bucket, "landfall-prod");
        assert_eq!(c.prefix, "bundles/v1");
        assert_eq!(
            c.endpoint.as_deref(),
            Some("https://oss-cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(c.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(c.path_style, Some(false));
        assert_eq!(
            c.to_string(),
            "s3://landfall-prod/bundles/v1 at https://oss-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(c.with_sub_prefix("blobs").prefix, "bundles/v1/blobs");
        let bare = S3Config::parse("s3://b").unwrap();
        assert_eq!((bare.prefix.as_str(), bare.endpoint.as_deref()), ("", None));
        assert_eq!(bare.with_sub_prefix("blobs").prefix, "blobs");
    }

    #[test]
    fn refuses_bad_urls_without_echoing_secrets() {
        for (raw, want) in [
            ("file:///srv", "not an s3:// URL"),
            ("s3:///prefix", "names no bucket"),
            ("s3://b/p?acl=public", "unknown"),
            ("s3://b/p?path_style=yes", "true or false"),
            ("s3://b/p?endpoint=oss.example", "http:// or https://"),
        ] {
            let e = S3Config::parse(raw).unwrap_err().to_string();
            assert!(e.contains(want), "{raw}: {e}");
        }
        let e = S3Config::parse("s3://AKID:s3cr3tv4lue@bucket/p")
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains("s3cr3tv4lue") && e.contains("AWS_ACCESS_KEY_ID"),
            "{e}"
        );
    }

    #[test]
    fn virtual_hosted_puts_the_bucket_in_the_host() {
        assert_eq!(
            virtual_hosted("https://oss-cn-hangzhou.aliyuncs.com", "app").unwrap(),
            "https://app.oss-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            virtual_hosted("https://app.cos.ap-guangzhou.myqcloud.com", "app").unwrap(),
            "https://app.cos.ap-guangzhou.myqcloud.com"
        );
    }

    #[test]
    fn credentials_never_show() {
        let mut c = S3Config::parse("s3://b/p").unwrap();
        c.secret_access_key = Some("very-secret".into());
        c.access_key_id = Some("AKID".into());
        let shown = format!("{c} {c:?}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("AKID"),
            "{shown}"
        );
    }
}
