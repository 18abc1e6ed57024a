//! The data directory: an exclusive lock held for the life of the process, and private modes.
//!
//! `<data-dir>/landfall.lock` is locked (advisory `flock`, released by the kernel when the process
//! dies, even on `kill -9`) before anything in the directory is touched, so a second server — or the
//! offline `landfall token create --data-dir` — cannot wipe the upload staging area or sweep blobs
//! under a running server. The lock file holds the owner's pid for the error message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use landfall_store::blob::{create_private_dir, make_private};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "landfall.lock";

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(
        "data directory {dir} is in use by another landfall process{holder}; stop it first \
         (or give this one another --data-dir)"
    )]
    Locked { dir: PathBuf, holder: String },
    #[error("cannot use data directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The held lock; dropping it releases the directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    pub dir: PathBuf,
}

/// Create the data directory (0700) if needed, make it private, and lock it exclusively.
pub fn lock(dir: &Path) -> Result<DataDirLock, DataDirError> {
    let io = |e| DataDirError::Io(dir.to_owned(), e);
    create_private_dir(dir).map_err(io)?;
    make_private(dir).map_err(io)?;
    let path = dir.join(LOCK_FILE);
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(&path).map_err(io)?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            let mut owner = String::new();
            let _ = file.read_to_string(&mut owner);
            let owner = owner.trim();
            let holder = if owner.is_empty() {
                String::new()
            } else {
                format!(" ({})", landfall_core::clip(owner))
            };
            return Err(DataDirError::Locked {
                dir: dir.to_owned(),
                holder,
            });
        }
        Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
    }
    let me = format!(
        "pid {}, {}",
        std::process::id(),
        std::env::args().take(2).collect::<Vec<_>>().join(" ")
    );
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    file.write_all(me.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(DataDirLock {
        _file: file,
        dir: dir.to_owned(),
    })
}

/// Make the data directory's known subdirectories 0700 and database files 0600 (fixes data
/// directories created by earlier versions).
pub fn make_private_tree(dir: &Path) -> std::io::Result<()> {
    make_private(dir)?;
    for name in [
        "blobs",
        crate::icp::DOCUMENTS_DIR,
        "tmp",
        "landfall.db",
        "landfall.db-wal",
        "landfall.db-shm",
        LOCK_FILE,
    ] {
        let p = dir.join(name);
        if p.exists() {
            make_private(&p)?;
        }
    }
    // Blob shard directories (`blobs/aa/`).
    for store in ["blobs", crate::icp::DOCUMENTS_DIR] {
        if let Ok(entries) = std::fs::read_dir(dir.join(store)) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    make_private(&e.path())?;
                }
            }
        }
    }
    Ok(())
}

/// Create the SQLite file 0600 before SQLite does (SQLite gives `-wal`/`-shm` the same mode).
pub fn precreate_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?;
    make_private(path)
}

/// The release log's signing key at `path`: read it, or make one (mode 0600) when the file does
/// not exist. Two instances starting at once on a shared file both end up with the one written
/// first.
pub fn load_or_create_log_key(
    path: &Path,
) -> Result<landfall_crypto::release_log::LogSigningKey, LogKeyError> {
    use landfall_crypto::release_log::LogSigningKey;
    let err = |e| LogKeyError::Io(path.to_owned(), e);
    match std::fs::read_to_string(path) {
        Ok(text) => {
            make_private(path).map_err(err)?;
            return LogSigningKey::from_hex(&text)
                .map_err(|e| LogKeyError::Invalid(path.to_owned(), e));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let key = LogSigningKey::generate();
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", key.to_hex()).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(err)?;
            Ok(key)
        }
        // Made by another instance meanwhile: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_log_key(path),
        Err(e) => Err(err(e)),
    }
}

/// The release-log key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    #[error("cannot read or create the release-log key {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("release-log key {0}: {1} (restore the file from a backup; a new key cannot verify exports signed by the old one)")]
    Invalid(PathBuf, landfall_crypto::release_log::LogError),
}
