//! Delta (manifest) updates: building the per-file entries like the Capgo CLI (brotli rule,
//! optional encryption, V3 signed hashes), Landfall's file-skip rule ([`skip_reason`]),
//! validating bundle paths, and verifying a downloaded entry the way a device does.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use crate::aes_cbc::{decrypt_bytes, encrypt_bytes};
use crate::checksum::{parse_sha256_hex, sha256, sign_checksum};
use crate::error::{CryptoError, Result};
use crate::keys::{SigningKey, VerifyingKey};
use crate::session::SessionKey;

/// Files at least this big are brotli-compressed (CLI `partial.ts`).
pub const BROTLI_MIN_SIZE: usize = 8192;
/// Compressed output is kept only if it is smaller than `size - BROTLI_MIN_GAIN`.
pub const BROTLI_MIN_GAIN: usize = 10;
/// Brotli quality used by the CLI (Node's default).
pub const BROTLI_QUALITY: i32 = 11;
/// Brotli window (log2) used by the CLI (Node's default).
pub const BROTLI_LGWIN: i32 = 22;
/// Suffix marking a brotli-compressed manifest file.
pub const BROTLI_SUFFIX: &str = ".br";

/// One file of a delta manifest, ready to store and to list in an `/updates` response.
#[derive(Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// Wire `file_name`: `path`, plus `.br` when `stored` is brotli-compressed.
    pub file_name: String,
    /// Real relative path inside the bundle (posix separators).
    pub path: String,
    /// Wire `file_hash`: plain lowercase sha256 hex, or the 512-hex V3 signed hash when encrypted.
    pub file_hash: String,
    /// Lowercase sha256 hex of the original file (before compression and encryption).
    pub plain_sha256: String,
    /// Size of the original file in bytes.
    pub plain_size: u64,
    /// Whether `stored` is brotli data (before encryption).
    pub compressed: bool,
    /// The bytes to serve at `download_url`: original or brotli, then AES-CBC if encrypting.
    pub stored: Vec<u8>,
}

impl std::fmt::Debug for ManifestFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestFile")
            .field("file_name", &self.file_name)
            .field("path", &self.path)
            .field("file_hash", &self.file_hash)
            .field("plain_sha256", &self.plain_sha256)
            .field("plain_size", &self.plain_size)
            .field("compressed", &self.compressed)
            .field("stored_len", &self.stored.len())
            .finish()
    }
}

/// Checks that `path` is a safe relative bundle path: not empty, not absolute, no backslash, no
/// NUL, no empty / `.` / `..` segment. Devices reject such manifest entries.
pub fn validate_bundle_path(path: &str) -> Result<()> {
    let owned = || path.to_owned();
    if path.is_empty() {
        return Err(CryptoError::PathEmpty);
    }
    if path.contains('\0') {
        return Err(CryptoError::PathNul { path: owned() });
    }
    if path.contains('\\') {
        return Err(CryptoError::PathBackslash { path: owned() });
    }
    let bytes = path.as_bytes();
    let windows_drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with('/') || windows_drive {
        return Err(CryptoError::PathAbsolute { path: owned() });
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(CryptoError::PathEmptySegment { path: owned() }),
            "." => return Err(CryptoError::PathDotSegment { path: owned() }),
            ".." => return Err(CryptoError::PathParentSegment { path: owned() }),
            _ => {}
        }
    }
    Ok(())
}

/// Why [`skip_reason`] leaves a path out of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A `.DS_Store` file (macOS Finder metadata), anywhere.
    DsStore,
    /// A `.git` directory (or anything under one), anywhere.
    Git,
    /// The `node_modules` directory at the root of the web dir.
    TopLevelNodeModules,
}

impl SkipReason {
    /// Short human label, e.g. `node_modules/ (top-level)`.
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::DsStore => ".DS_Store",
            SkipReason::Git => ".git/",
            SkipReason::TopLevelNodeModules => "node_modules/ (top-level)",
        }
    }
}

/// Landfall's bundle skip rule, shared by the CLI's zipper and [`walk_dir`]: a relative path
/// (posix separators) is left out only when it is certainly not app content:
///
/// * a segment is exactly `.DS_Store` (Finder metadata, anywhere);
/// * a segment is exactly `.git` (a git directory, anywhere, and everything under it);
/// * the first segment is exactly `node_modules` (the project's own dependencies, when the web
///   dir is the project root).
///
/// Everything else is kept, including nested `node_modules` directories (build tools copy
/// e.g. `pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/*.bcmap` into the output), `.gitignore`,
/// `package-lock.json` and `tsconfig*.json`. This deliberately differs from the Capgo CLI, which
/// skips every path that merely *contains* `.git`, `node_modules`, `package-lock.json` or
/// `tsconfig…json` and so silently drops real app files (see `docs/PROTOCOL.md`).
pub fn skip_reason(rel: &str) -> Option<SkipReason> {
    let mut segments = rel.split('/');
    if segments.clone().next() == Some("node_modules") {
        return Some(SkipReason::TopLevelNodeModules);
    }
    segments.find_map(|seg| match seg {
        ".DS_Store" => Some(SkipReason::DsStore),
        ".git" => Some(SkipReason::Git),
        _ => None,
    })
}

/// Whether [`skip_reason`] leaves `rel` out of a bundle.
pub fn should_skip_path(rel: &str) -> bool {
    skip_reason(rel).is_some()
}

/// Reads every regular file under `dir` (recursively) except those [`should_skip_path`] skips.
/// Returns `(posix relative path, contents)` sorted by path. Symlinks to files are followed;
/// symlinked directories are not (no cycles). Empty files are included (the manifest builder
/// skips them, a zip keeps them).
pub fn walk_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    walk_into(dir, "", &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn walk_into(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let walk_err = |path: &Path, source| CryptoError::Walk {
        path: path.display().to_string(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| walk_err(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| walk_err(dir, e))?;
        let full = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(CryptoError::NonUtf8Path {
                path: full.display().to_string(),
            });
        };
        let rel = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        if should_skip_path(&rel) {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| walk_err(&full, e))?;
        if file_type.is_dir() {
            walk_into(&full, &rel, out)?;
        } else if file_type.is_file()
            || (file_type.is_symlink() && std::fs::metadata(&full).is_ok_and(|m| m.is_file()))
        {
            let data = std::fs::read(&full).map_err(|e| walk_err(&full, e))?;
            out.push((rel, data));
        }
    }
    Ok(())
}

/// Brotli-compresses `data` with the CLI's parameters (quality 11, window 22), using the reference
/// C encoder (the one inside Node.js), so the bytes are the same as `@capgo/cli`'s.
pub fn brotli_compress(data: &[u8]) -> Result<Vec<u8>> {
    use brotlic::{BrotliEncoderOptions, CompressorWriter, Quality, WindowSize};
    use std::io::Write;
    let brotli_err = |e: &dyn std::fmt::Display| CryptoError::Brotli {
        file_name: String::new(),
        detail: e.to_string(),
    };
    let encoder = BrotliEncoderOptions::new()
        .quality(Quality::new(BROTLI_QUALITY as u8).map_err(|e| brotli_err(&e))?)
        .window_size(WindowSize::new(BROTLI_LGWIN as u8).map_err(|e| brotli_err(&e))?)
        .size_hint(u32::try_from(data.len()).unwrap_or(u32::MAX))
        .build()
        .map_err(|e| brotli_err(&e))?;
    let mut writer =
        CompressorWriter::with_encoder(encoder, Vec::with_capacity(data.len() / 4 + 64));
    writer.write_all(data).map_err(|e| brotli_err(&e))?;
    writer.into_inner().map_err(|e| brotli_err(&e))
}

/// Decompresses brotli `data`, failing if the output would exceed `max_output` bytes.
pub fn brotli_decompress(file_name: &str, data: &[u8], max_output: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    brotli::Decompressor::new(data, 64 * 1024)
        .take(max_output.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| CryptoError::Brotli {
            file_name: file_name.to_owned(),
            detail: e.to_string(),
        })?;
    if out.len() as u64 > max_output {
        return Err(CryptoError::BrotliTooLarge {
            file_name: file_name.to_owned(),
            max_output,
        });
    }
    Ok(out)
}

/// Builds the delta manifest of a bundle, like the CLI's `bundle upload --delta`.
///
/// `files` are `(posix relative path, contents)`. Rules: every path is validated
/// ([`validate_bundle_path`]) and must be unique; empty files are skipped; files of at least
/// 8192 bytes are brotli-compressed (quality 11, window 22) and the compressed form is kept
/// (with a `.br` suffix) only if it is smaller than `size - 10`. A file whose own name ends in
/// `.br` is always compressed, so the device's "strip `.br` and decompress" yields it unchanged.
/// With `encryption`, each stored file is AES-128-CBC encrypted with the version's session key
/// and `file_hash` is the V3 signed sha256 of the original file. Output is sorted by path.
pub fn build_manifest<I>(
    files: I,
    encryption: Option<(&SessionKey, &SigningKey)>,
) -> Result<Vec<ManifestFile>>
where
    I: IntoIterator<Item = (String, Vec<u8>)>,
{
    let mut files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    let mut seen = BTreeSet::new();
    for (path, _) in &files {
        validate_bundle_path(path)?;
        if !seen.insert(path.as_str()) {
            return Err(CryptoError::DuplicatePath { path: path.clone() });
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));

    let mut out = Vec::with_capacity(files.len());
    for (path, data) in files {
        if data.is_empty() {
            continue;
        }
        let digest = sha256(&data);
        let plain_sha256 = hex::encode(digest);
        let force = path.ends_with(BROTLI_SUFFIX);
        let compressed_bytes = if force || data.len() >= BROTLI_MIN_SIZE {
            let c = brotli_compress(&data)?;
            (force || c.len() < data.len().saturating_sub(BROTLI_MIN_GAIN)).then_some(c)
        } else {
            None
        };
        let compressed = compressed_bytes.is_some();
        let file_name = if compressed {
            format!("{path}{BROTLI_SUFFIX}")
        } else {
            path.clone()
        };
        let payload = compressed_bytes.unwrap_or_else(|| data.clone());
        let (stored, file_hash) = match encryption {
            Some((session, signing_key)) => (
                encrypt_bytes(session, &payload),
                sign_checksum(signing_key, &digest)?,
            ),
            None => (payload, plain_sha256.clone()),
        };
        out.push(ManifestFile {
            file_name,
            path,
            file_hash,
            plain_sha256,
            plain_size: data.len() as u64,
            compressed,
            stored,
        });
    }
    Ok(out)
}

/// Splits a wire `file_name` into (real path, is brotli) and validates the path.
pub fn manifest_target_path(file_name: &str) -> Result<(&str, bool)> {
    validate_bundle_path(file_name)?;
    let (path, compressed) = match file_name.strip_suffix(BROTLI_SUFFIX) {
        Some(p) => (p, true),
        None => (file_name, false),
    };
    validate_bundle_path(path)?;
    Ok((path, compressed))
}

/// Verifies one downloaded manifest file the way a device does and returns the original bytes:
/// decrypt with the session key (when `encryption` is given), brotli-decompress if `file_name`
/// ends in `.br` (at most `max_output` bytes, against decompression bombs), then compare the
/// sha256 with `file_hash` (recovered with the public key when encrypted; otherwise it must be
/// 64 lowercase hex characters).
pub fn verify_manifest_file(
    file_name: &str,
    stored: &[u8],
    file_hash: &str,
    encryption: Option<(&SessionKey, &VerifyingKey)>,
    max_output: u64,
) -> Result<Vec<u8>> {
    let (_path, compressed) = manifest_target_path(file_name)?;
    let hash_err = |reason: String| CryptoError::ManifestHash {
        file_name: file_name.to_owned(),
        reason,
    };
    let expected = match encryption {
        Some((_, vk)) => vk
            .recover_checksum(file_hash)
            .map_err(|e| hash_err(e.to_string()))?,
        None => {
            let is_lower_hex = file_hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            match parse_sha256_hex(file_hash) {
                Some(d) if is_lower_hex => d,
                _ => {
                    return Err(hash_err(format!(
                        "file_hash must be a 64-character lowercase sha256 hex for an unencrypted \
                         bundle, got {} characters{}",
                        file_hash.len(),
                        if file_hash.len() == 512 {
                            " (this looks like a signed hash: pass the session key and public key)"
                        } else {
                            ""
                        }
                    )))
                }
            }
        }
    };
    let decrypted;
    let payload: &[u8] = match encryption {
        Some((session, _)) => {
            decrypted =
                decrypt_bytes(session, stored).map_err(|e| CryptoError::ManifestDecrypt {
                    file_name: file_name.to_owned(),
                    source: Box::new(e),
                })?;
            &decrypted
        }
        None => stored,
    };
    let original = if compressed {
        brotli_decompress(file_name, payload, max_output)?
    } else {
        payload.to_vec()
    };
    let actual = sha256(&original);
    if actual != expected {
        return Err(CryptoError::ManifestHashMismatch {
            file_name: file_name.to_owned(),
            expected: hex::encode(expected),
            actual: hex::encode(actual),
        });
    }
    Ok(original)
}
