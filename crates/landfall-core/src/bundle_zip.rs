//! Safety checks for uploaded bundle zips: layout the plugin can install, no path tricks, no bombs.
//!
//! The plugin installs a zip whose `index.html` sits at the root or inside exactly one top folder
//! (protocol §8). Everything else here protects devices and the server: traversal, absolute and
//! Windows paths, symlinks, `__MACOSX` folders, duplicate names, and decompression bombs (the
//! declared sizes are not trusted: every entry is inflated and counted).

use std::collections::HashSet;
use std::io::{Read, Seek};

use thiserror::Error;

/// Limits applied to one bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Most entries (files and folders).
    pub max_entries: usize,
    /// Most bytes after decompression, all files together.
    pub max_total_uncompressed: u64,
    /// Highest uncompressed/compressed ratio for an entry larger than 1 MiB.
    pub max_ratio: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            max_total_uncompressed: 1 << 30,
            max_ratio: 200,
        }
    }
}

/// Why a zip was refused. Every message names the entry and what to change.
#[derive(Debug, Error)]
pub enum ZipError {
    #[error("not a readable zip file ({0}); upload the zip produced by `landfall bundle upload <dir>` or `capgo bundle zip`")]
    NotAZip(String),
    #[error("the zip has {0} entries, more than the limit of {1}")]
    TooManyEntries(usize, usize),
    #[error("entry {0:?}: {1}")]
    BadPath(String, &'static str),
    #[error("entry {0:?} is a symbolic link; the Android plugin cannot install links, put a copy of the file instead")]
    Symlink(String),
    #[error("entry {0:?} appears twice")]
    Duplicate(String),
    #[error("the zip has a __MACOSX folder (Finder metadata); zip the folder's contents with `landfall bundle upload <dir>` instead")]
    MacosxFolder,
    #[error("entry {0:?} is password-protected; bundles must not use zip encryption (use `--key` for Capgo encryption)")]
    Encrypted(String),
    #[error("entry {0:?} uses compression method {1}; only stored and deflate are supported")]
    Method(String, String),
    #[error("the bundle unpacks to more than {0} bytes (zip bomb protection); raise the server's max bundle size if this is real")]
    TooLarge(u64),
    #[error("entry {0:?} compresses {1}:1, beyond the {2}:1 limit (zip bomb protection)")]
    Ratio(String, u64, u64),
    #[error("entry {0:?} is corrupt: {1}")]
    Corrupt(String, String),
    #[error("no index.html at the root of the zip or inside a single top folder; the plugin cannot start such a bundle")]
    NoIndexHtml,
}

/// What a valid zip contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipSummary {
    /// Files (not folders), with the single top folder removed if the zip had one.
    pub files: Vec<ZipFile>,
    /// The single top folder that the plugin hoists, if any.
    pub top_folder: Option<String>,
    /// Bytes after decompression.
    pub total_uncompressed: u64,
}

/// One file of a valid zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipFile {
    /// Path inside the installed bundle (after hoisting).
    pub path: String,
    /// Name of the entry in the zip.
    pub entry: String,
    pub size: u64,
}

fn check_path(name: &str) -> Result<(), ZipError> {
    let bad = |why| Err(ZipError::BadPath(name.to_owned(), why));
    if name.is_empty() {
        return bad("empty name");
    }
    if name.contains('\0') {
        return bad("contains a NUL byte");
    }
    if name.contains('\\') {
        return bad("contains a backslash; use '/' separators (the plugin rejects Windows paths)");
    }
    if name.starts_with('/') || (name.len() > 1 && name.as_bytes()[1] == b':') {
        return bad("is an absolute path");
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    for seg in trimmed.split('/') {
        match seg {
            "" => return bad("has an empty path segment ('//')"),
            "." | ".." => return bad("has a '.' or '..' segment (path traversal)"),
            _ => {}
        }
    }
    Ok(())
}

/// Total entry count from the end-of-central-directory record (`None` for zip64 or when not found).
fn declared_entries<R: Read + Seek>(r: &mut R) -> Option<u16> {
    use std::io::SeekFrom;
    let len = r.seek(SeekFrom::End(0)).ok()?;
    let tail = len.min(65_557);
    r.seek(SeekFrom::Start(len - tail)).ok()?;
    let mut buf = vec![0u8; tail as usize];
    r.read_exact(&mut buf).ok()?;
    r.seek(SeekFrom::Start(0)).ok()?;
    let pos = buf
        .windows(4)
        .rposition(|w| w == [0x50, 0x4b, 0x05, 0x06])?;
    let total = u16::from_le_bytes([*buf.get(pos + 10)?, *buf.get(pos + 11)?]);
    (total != 0xffff).then_some(total)
}

/// Validate a bundle zip. Reads every entry to the end (so CRCs and sizes are verified).
pub fn validate<R: Read + Seek>(mut reader: R, limits: ZipLimits) -> Result<ZipSummary, ZipError> {
    let declared = declared_entries(&mut reader);
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| ZipError::NotAZip(e.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(ZipError::TooManyEntries(zip.len(), limits.max_entries));
    }
    // The zip reader keeps one entry per name; a central directory that declares more entries than it
    // indexed has duplicate names (which unzip tools resolve differently: a classic smuggling trick).
    if declared.is_some_and(|n| n as usize != zip.len()) {
        return Err(ZipError::Duplicate(format!(
            "{} entries declared, {} distinct names",
            declared.unwrap_or_default(),
            zip.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(zip.len());
    let mut total: u64 = 0;
    let mut sink = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| ZipError::NotAZip(format!("entry {i}: {e}")))?;
        let name = String::from_utf8(f.name_raw().to_vec()).map_err(|_| {
            ZipError::BadPath(
                String::from_utf8_lossy(f.name_raw()).into_owned(),
                "is not UTF-8",
            )
        })?;
        check_path(&name)?;
        if name == "__MACOSX" || name.starts_with("__MACOSX/") {
            return Err(ZipError::MacosxFolder);
        }
        if f.encrypted() {
            return Err(ZipError::Encrypted(name));
        }
        if f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            return Err(ZipError::Symlink(name));
        }
        let method = f.compression();
        if !matches!(
            method,
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            return Err(ZipError::Method(name, format!("{method:?}")));
        }
        let key = name.trim_end_matches('/').to_owned();
        if !seen.insert(key) {
            return Err(ZipError::Duplicate(name));
        }
        if f.is_dir() {
            continue;
        }
        let compressed = f.compressed_size().max(1);
        let mut size: u64 = 0;
        loop {
            let n = f
                .read(&mut sink)
                .map_err(|e| ZipError::Corrupt(name.clone(), e.to_string()))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if total + size > limits.max_total_uncompressed {
                return Err(ZipError::TooLarge(limits.max_total_uncompressed));
            }
        }
        if size > (1 << 20) && size / compressed > limits.max_ratio {
            return Err(ZipError::Ratio(name, size / compressed, limits.max_ratio));
        }
        total += size;
        entries.push((name, size));
    }
    // Layout: index.html at the root, or exactly one top-level folder holding it.
    let top_level: HashSet<&str> = seen
        .iter()
        .map(|n| n.split('/').next().unwrap_or_default())
        .collect();
    let top_folder = if entries.iter().any(|(n, _)| n == "index.html") {
        None
    } else if top_level.len() == 1 {
        let top = top_level.into_iter().next().unwrap_or_default().to_owned();
        let index = format!("{top}/index.html");
        if !entries.iter().any(|(n, _)| *n == index) {
            return Err(ZipError::NoIndexHtml);
        }
        Some(top)
    } else {
        return Err(ZipError::NoIndexHtml);
    };
    let files = entries
        .into_iter()
        .map(|(entry, size)| {
            let path = match &top_folder {
                Some(t) => entry[t.len() + 1..].to_owned(),
                None => entry.clone(),
            };
            ZipFile { path, entry, size }
        })
        .collect();
    Ok(ZipSummary {
        files,
        top_folder,
        total_uncompressed: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            if name.ends_with('/') {
                w.add_directory(*name, SimpleFileOptions::default())
                    .unwrap();
            } else {
                w.start_file(*name, SimpleFileOptions::default()).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    }

    fn check(entries: &[(&str, &[u8])]) -> Result<ZipSummary, ZipError> {
        validate(Cursor::new(build(entries)), ZipLimits::default())
    }

    #[test]
    fn accepts_root_index_and_single_top_folder() {
        let s = check(&[
            ("index.html", b"<html>"),
            ("assets/", b""),
            ("assets/app.js", b"x"),
        ])
        .unwrap();
        assert_eq!(s.top_folder, None);
        assert_eq!(s.files.len(), 2);
        let s = check(&[
            ("dist/", b""),
            ("dist/index.html", b"<html>"),
            ("dist/a/b.js", b"x"),
        ])
        .unwrap();
        assert_eq!(s.top_folder.as_deref(), Some("dist"));
        assert!(s
            .files
            .iter()
            .any(|f| f.path == "a/b.js" && f.entry == "dist/a/b.js"));
    }

    #[test]
    fn accepts_the_capgo_cli_zip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/capgo-vectors/bundle-1.0.1.zip"
        );
        let f = std::fs::File::open(path).expect("shared/ next to the repo");
        let s = validate(f, ZipLimits::default()).unwrap();
        let mut names: Vec<_> = s.files.iter().map(|f| f.path.as_str()).collect();
        names.sort();
        assert_eq!(names, ["assets/app.js", "assets/big.js", "index.html"]);
    }

    #[test]
    fn refuses_bad_layouts() {
        assert!(matches!(
            check(&[("a.html", b"x")]),
            Err(ZipError::NoIndexHtml)
        ));
        assert!(matches!(
            check(&[("a/index.html", b"x"), ("b/index.html", b"x")]),
            Err(ZipError::NoIndexHtml)
        ));
        assert!(matches!(
            check(&[("dist/index.html", b"x"), (".DS_Store", b"x")]),
            Err(ZipError::NoIndexHtml)
        ));
        assert!(matches!(
            check(&[("index.html", b"x"), ("__MACOSX/._index.html", b"x")]),
            Err(ZipError::MacosxFolder)
        ));
        assert!(matches!(check(&[]), Err(ZipError::NoIndexHtml)));
    }

    #[test]
    fn refuses_hostile_paths() {
        for bad in [
            "../evil.js",
            "a/../../evil.js",
            "/etc/passwd",
            "a\\b.js",
            "C:/x.js",
            "a//b.js",
            "./index.html",
        ] {
            let r = check(&[("index.html", b"x"), (bad, b"x")]);
            assert!(matches!(r, Err(ZipError::BadPath(..))), "{bad}: {r:?}");
        }
    }

    #[test]
    fn refuses_symlinks() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("index.html", SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"x").unwrap();
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert!(matches!(
            validate(Cursor::new(bytes), ZipLimits::default()),
            Err(ZipError::Symlink(_))
        ));
    }

    #[test]
    fn refuses_bombs_and_garbage() {
        let zeros = vec![0u8; 4 << 20];
        let bytes = build(&[("index.html", b"x"), ("bomb.bin", &zeros)]);
        let r = validate(Cursor::new(&bytes), ZipLimits::default());
        assert!(matches!(r, Err(ZipError::Ratio(..))), "{r:?}");
        let small = ZipLimits {
            max_total_uncompressed: 1 << 20,
            ..Default::default()
        };
        assert!(matches!(
            validate(Cursor::new(&bytes), small),
            Err(ZipError::TooLarge(_))
        ));
        let few = ZipLimits {
            max_entries: 1,
            ..Default::default()
        };
        assert!(matches!(
            validate(Cursor::new(&bytes), few),
            Err(ZipError::TooManyEntries(2, 1))
        ));
        assert!(matches!(
            validate(
                Cursor::new(b"not a zip at all".to_vec()),
                ZipLimits::default()
            ),
            Err(ZipError::NotAZip(_))
        ));
    }

    #[test]
    fn detects_corrupt_data() {
        let mut bytes = build(&[("index.html", &b"<html>hello world</html>".repeat(50))]);
        // Flip a byte inside the compressed data of the first entry (after the 30-byte local header + name).
        let pos = 30 + "index.html".len() + 5;
        bytes[pos] ^= 0xff;
        let r = validate(Cursor::new(bytes), ZipLimits::default());
        assert!(matches!(r, Err(ZipError::Corrupt(..))), "{r:?}");
    }

    #[test]
    fn refuses_duplicates() {
        // The zip writer refuses duplicates, so rename an entry in place (same length).
        let mut bytes = build(&[("index.html", b"x"), ("index.htmX", b"y")]);
        let needle = b"index.htmX";
        let mut i = 0;
        while i + needle.len() <= bytes.len() {
            if &bytes[i..i + needle.len()] == needle {
                bytes[i + needle.len() - 1] = b'l';
            }
            i += 1;
        }
        let r = validate(Cursor::new(bytes), ZipLimits::default());
        assert!(matches!(r, Err(ZipError::Duplicate(_))), "{r:?}");
    }
}
