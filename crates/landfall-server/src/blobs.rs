//! Where bundle blobs and ICP documents live, chosen by URL: `file://<dir>` (the embedded default,
//! `<data_dir>/blobs`) or `s3://<bucket>/<prefix>?endpoint=…&region=…&path_style=…`.
//!
//! On S3, bundle blobs are `<prefix>/blobs/<sha256>` and ICP documents `<prefix>/icp-documents/…`
//! unless `documents` names another place. When devices download straight from the bucket
//! (`download = "public"`), documents must be in another bucket: see [`check_documents_private`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use landfall_store::blob::{BlobStore, LocalBlobStore};
use landfall_store_s3::{BadS3Url, S3BlobStore, S3Config};

/// A blob location.
#[derive(Clone, PartialEq, Eq)]
pub enum BlobsUrl {
    /// A local directory (created 0700).
    File(PathBuf),
    /// A bucket and prefix on an S3-compatible server.
    S3(S3Config),
}

/// A `blobs`/`documents` value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BadBlobsUrl {
    #[error("blobs location {0:?} is not supported: use file:///<dir> or s3://<bucket>/<prefix>?endpoint=https://…&region=…")]
    Scheme(String),
    #[error(transparent)]
    S3(#[from] BadS3Url),
}

impl BlobsUrl {
    /// Parse `file://<dir>` (or a plain path) or `s3://…`.
    pub fn parse(raw: &str) -> Result<Self, BadBlobsUrl> {
        if let Some(path) = raw.strip_prefix("file://") {
            if !path.is_empty() {
                return Ok(Self::File(PathBuf::from(path)));
            }
        } else if raw.starts_with("s3://") {
            return Ok(Self::S3(S3Config::parse(raw)?));
        } else if !raw.contains("://") && !raw.is_empty() {
            return Ok(Self::File(PathBuf::from(raw)));
        }
        Err(BadBlobsUrl::Scheme(landfall_core::clip(raw).into_owned()))
    }

    /// The S3 configuration, if this is a bucket.
    pub fn s3(&self) -> Option<&S3Config> {
        match self {
            Self::S3(c) => Some(c),
            Self::File(_) => None,
        }
    }

    /// Fill credentials the environment does not set from the config file's `[s3]` table.
    pub fn with_file_credentials(mut self, creds: Option<&S3Credentials>) -> Self {
        if let (Self::S3(c), Some(f)) = (&mut self, creds) {
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                c.access_key_id.clone_from(&f.access_key_id);
                c.secret_access_key.clone_from(&f.secret_access_key);
                c.session_token.clone_from(&f.session_token);
            }
        }
        self
    }
}

impl fmt::Display for BlobsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file://{}", p.display()),
            Self::S3(c) => c.fmt(f),
        }
    }
}

impl fmt::Debug for BlobsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobsUrl({self})")
    }
}

/// `[s3]` in the config file: credentials when the AWS environment variables are not set.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Credentials {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("S3Credentials(…)")
    }
}

/// The bundle blob store and the ICP document store.
#[derive(Clone)]
pub struct OpenedBlobs {
    pub bundles: Arc<dyn BlobStore>,
    pub documents: Arc<dyn BlobStore>,
}

impl fmt::Debug for OpenedBlobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedBlobs")
            .field("bundles", &self.bundles.location())
            .field("documents", &self.documents.location())
            .finish()
    }
}

/// Blob storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BlobsError {
    #[error("cannot use blob directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("cannot reach {0}")]
    S3(#[from] landfall_store_s3::S3Error),
    #[error(
        "download = \"public\" lets anyone read the bundle bucket ({blobs}); ICP documents \
         ({documents}) must live in another, private bucket: set documents = \"s3://<private-bucket>/<prefix>\" \
         (or a local directory)"
    )]
    DocumentsPublic { blobs: String, documents: String },
}

/// Where documents go when `documents` is not set.
pub fn default_documents(blobs: &BlobsUrl, data_dir: &std::path::Path) -> BlobsUrl {
    match blobs {
        BlobsUrl::File(_) => BlobsUrl::File(data_dir.join(crate::icp::DOCUMENTS_DIR)),
        BlobsUrl::S3(c) => BlobsUrl::S3(c.with_sub_prefix(crate::icp::DOCUMENTS_DIR)),
    }
}

/// With devices reading the bundle bucket directly, documents must not share it.
pub fn check_documents_private(
    blobs: &BlobsUrl,
    documents: &BlobsUrl,
    public_download: bool,
) -> Result<(), BlobsError> {
    if let (true, Some(b), Some(d)) = (public_download, blobs.s3(), documents.s3()) {
        if b.same_bucket(d) {
            return Err(BlobsError::DocumentsPublic {
                blobs: blobs.to_string(),
                documents: documents.to_string(),
            });
        }
    }
    Ok(())
}

async fn open_one(url: &BlobsUrl, sub: Option<&str>) -> Result<Arc<dyn BlobStore>, BlobsError> {
    Ok(match url {
        BlobsUrl::File(dir) => {
            Arc::new(LocalBlobStore::open(dir).map_err(|e| BlobsError::Dir(dir.clone(), e))?)
        }
        BlobsUrl::S3(c) => {
            let c = match sub {
                Some(sub) => c.with_sub_prefix(sub),
                None => c.clone(),
            };
            let store = S3BlobStore::open(c)?;
            // A wrong endpoint, bucket or key fails here, at start, naming the place.
            store.check().await?;
            Arc::new(store)
        }
    })
}

/// Open the bundle store (`<prefix>/blobs` on S3) and the document store, checking that each
/// answers.
pub async fn open(blobs: &BlobsUrl, documents: &BlobsUrl) -> Result<OpenedBlobs, BlobsError> {
    let bundles = open_one(blobs, Some("blobs")).await?;
    let documents = open_one(documents, None).await?;
    Ok(OpenedBlobs { bundles, documents })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_files_and_buckets() {
        assert_eq!(
            BlobsUrl::parse("file:///srv/blobs").unwrap(),
            BlobsUrl::File("/srv/blobs".into())
        );
        assert_eq!(
            BlobsUrl::parse("data/blobs").unwrap(),
            BlobsUrl::File("data/blobs".into())
        );
        let s3 = BlobsUrl::parse("s3://b/p?endpoint=http://127.0.0.1:3900").unwrap();
        assert_eq!(s3.to_string(), "s3://b/p at http://127.0.0.1:3900");
        for bad in ["gs://b/p", "file://", "", "s3://"] {
            assert!(BlobsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn documents_default_beside_the_blobs_and_never_in_a_public_bucket() {
        let blobs = BlobsUrl::parse("s3://pub/lf?endpoint=http://h").unwrap();
        let docs = default_documents(&blobs, std::path::Path::new("/d"));
        assert_eq!(docs.to_string(), "s3://pub/lf/icp-documents at http://h");
        assert!(check_documents_private(&blobs, &docs, false).is_ok());
        let e = check_documents_private(&blobs, &docs, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("private bucket"), "{e}");
        let private = BlobsUrl::parse("s3://priv/lf?endpoint=http://h").unwrap();
        assert!(check_documents_private(&blobs, &private, true).is_ok());
        let local = BlobsUrl::parse("file:///d/blobs").unwrap();
        assert_eq!(
            default_documents(&local, std::path::Path::new("/d")),
            BlobsUrl::File("/d/icp-documents".into())
        );
    }
}
