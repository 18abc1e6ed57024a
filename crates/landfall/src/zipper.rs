//! Zips a web build directory the way `@capgo/cli bundle zip` does: entries relative to the
//! directory with `/` separators, directory entries included, Deflate, `index.html` required at
//! the root.
//!
//! A bundle keeps every file of the web dir except what is certainly not app content
//! ([`landfall_crypto::skip_reason`]): `.DS_Store` files anywhere, `.git` directories anywhere,
//! and a top-level `node_modules` directory. Unlike the Capgo CLI, nested `node_modules`
//! (e.g. PDF.js character maps copied by a build), `.gitignore`, `package-lock.json` and
//! `tsconfig*.json` are kept. What was skipped is reported ([`ZipSummary::skipped`]). The server
//! builds the delta manifest from the zip's own file list, so the manifest lists exactly the
//! zip's (non-empty) files.
//!
//! Unlike the Capgo CLI, timestamps are fixed (1980-01-01), so zipping the same files twice gives
//! the same bytes and the same sha256.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use landfall_crypto::should_skip_path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// What [`zip_dir`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipSummary {
    /// Entry names in the order written (directories end with `/`).
    pub entries: Vec<String>,
    /// Number of regular files.
    pub files: usize,
    /// Sum of the uncompressed file sizes.
    pub content_bytes: u64,
    /// Paths left out by the skip rule, relative, in walk order; a skipped directory is listed
    /// once with a trailing `/` (not every file under it).
    pub skipped: Vec<String>,
}

/// Checks that `dir` is a directory with `index.html` at its root; the error says where an
/// `index.html` was found instead, when one was.
pub fn check_web_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    if dir.join("index.html").is_file() {
        return Ok(());
    }
    let nested = walkdir::WalkDir::new(dir)
        .min_depth(2)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != ".git")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name() == "index.html" && e.file_type().is_file());
    match nested {
        Some(found) => {
            let parent = found.path().parent().unwrap_or(dir);
            bail!(
                "index.html must be at the root of the bundle directory, but {} has none \
                 (found {}: did you mean to upload {}?)",
                dir.display(),
                found.path().display(),
                parent.display()
            )
        }
        None => bail!(
            "index.html must be at the root of the bundle directory, but {} has none \
             (pass your web build output, e.g. the webDir of capacitor.config)",
            dir.display()
        ),
    }
}

/// Zips the contents of `dir` into `out`. Fails when `dir` has no root `index.html`.
pub fn zip_dir<W: Write + Seek>(dir: &Path, out: W) -> Result<ZipSummary> {
    check_web_dir(dir)?;
    let mut zip = ZipWriter::new(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let dir_options = SimpleFileOptions::default().unix_permissions(0o755);
    let mut summary = ZipSummary {
        entries: Vec::new(),
        files: 0,
        content_bytes: 0,
        skipped: Vec::new(),
    };
    let mut skipped = Vec::new();

    let walker = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| match relative(dir, e.path()) {
            Ok(rel) if should_skip_path(&rel) => {
                let slash = if e.file_type().is_dir() { "/" } else { "" };
                skipped.push(format!("{rel}{slash}"));
                false
            }
            Ok(_) => true,
            Err(_) => true, // reported below
        });
    for entry in walker {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let rel = relative(dir, entry.path())?;
        let file_type = entry.file_type();
        if file_type.is_dir() {
            let name = format!("{rel}/");
            zip.add_directory(name.as_str(), dir_options)
                .with_context(|| format!("cannot add {name} to the zip"))?;
            summary.entries.push(name);
        } else if file_type.is_file() {
            let mut file = File::open(entry.path())
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            zip.start_file(rel.as_str(), options.large_file(len >= u64::from(u32::MAX)))
                .with_context(|| format!("cannot add {rel} to the zip"))?;
            let copied = io::copy(&mut file, &mut zip)
                .with_context(|| format!("cannot zip {}", entry.path().display()))?;
            summary.files += 1;
            summary.content_bytes += copied;
            summary.entries.push(rel);
        }
        // Sockets, fifos and dangling symlinks are not bundle content: skipped.
    }
    summary.skipped = skipped;
    let mut out = zip.finish().context("cannot finish the zip")?;
    out.flush().context("cannot write the zip")?;
    Ok(summary)
}

/// Zips `dir` into a new temp file (deleted when the handle drops), or into `keep` when given.
pub fn zip_dir_to_file(dir: &Path, keep: Option<&Path>) -> Result<(ZipFile, ZipSummary)> {
    check_web_dir(dir)?;
    match keep {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let summary = zip_dir(dir, io::BufWriter::new(file))?;
            Ok((ZipFile::Kept(path.to_owned()), summary))
        }
        None => {
            let mut tmp = tempfile::Builder::new()
                .prefix("landfall-bundle-")
                .suffix(".zip")
                .tempfile()
                .context("cannot create a temporary file for the zip")?;
            let summary = zip_dir(dir, io::BufWriter::new(tmp.as_file_mut()))?;
            Ok((ZipFile::Temp(tmp), summary))
        }
    }
}

/// A zip on disk, temporary or kept.
#[derive(Debug)]
pub enum ZipFile {
    /// Deleted on drop.
    Temp(tempfile::NamedTempFile),
    /// Left in place.
    Kept(PathBuf),
}

impl ZipFile {
    /// Where it is.
    pub fn path(&self) -> &Path {
        match self {
            ZipFile::Temp(t) => t.path(),
            ZipFile::Kept(p) => p,
        }
    }
}

/// `path` relative to `root`, with `/` separators; refuses non-UTF-8 names.
fn relative(root: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(root)
        .with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
    let mut parts = Vec::new();
    for comp in rel.components() {
        let Some(s) = comp.as_os_str().to_str() else {
            bail!(
                "{} has a name that is not UTF-8; rename it before bundling",
                path.display()
            );
        };
        parts.push(s);
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    fn write(root: &Path, rel: &str, data: &[u8]) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    fn names(bytes: &[u8]) -> Vec<String> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        archive.file_names().map(str::to_owned).collect::<Vec<_>>()
    }

    #[test]
    fn zips_like_the_capgo_cli() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "index.html", b"<html></html>");
        write(root, "assets/app.js", b"notifyAppReady()");
        write(root, "assets/img/logo.svg", b"<svg/>");
        write(root, "assets/.DS_Store", b"junk");
        write(root, ".DS_Store", b"junk");
        write(root, ".git/HEAD", b"ref");
        write(root, "node_modules/x/index.js", b"x");
        write(root, "empty.txt", b"");
        std::fs::create_dir_all(root.join("emptydir")).unwrap();

        let mut buf = Cursor::new(Vec::new());
        let summary = zip_dir(root, &mut buf).unwrap();
        let bytes = buf.into_inner();
        let expected = [
            "assets/",
            "assets/app.js",
            "assets/img/",
            "assets/img/logo.svg",
            "empty.txt",
            "emptydir/",
            "index.html",
        ];
        assert_eq!(summary.entries, expected);
        assert_eq!(summary.files, 4);
        assert_eq!(
            summary.skipped,
            [".DS_Store", ".git/", "assets/.DS_Store", "node_modules/"]
        );
        let mut listed = names(&bytes);
        listed.sort();
        assert_eq!(listed, expected);

        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut app = archive.by_name("assets/app.js").unwrap();
        assert_eq!(app.compression(), CompressionMethod::Deflated);
        let mut s = String::new();
        app.read_to_string(&mut s).unwrap();
        assert_eq!(s, "notifyAppReady()");
        drop(app);
        assert!(archive.by_name("assets/").unwrap().is_dir());

        // Same files, same bytes.
        let mut again = Cursor::new(Vec::new());
        zip_dir(root, &mut again).unwrap();
        assert_eq!(again.into_inner(), bytes);
    }

    /// Landfall keeps what the Capgo CLI's substring rules would drop: nested `node_modules`
    /// (PDF.js character maps), `.gitignore`, `.github/`, `package-lock.json`, `tsconfig*.json`.
    #[test]
    fn keeps_every_app_file_the_capgo_cli_would_drop() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "index.html", b"<html></html>");
        write(
            root,
            "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap",
            b"cmap",
        );
        write(root, ".gitignore", b"x");
        write(root, ".github/x.yml", b"x");
        write(root, "package-lock.json", b"{}");
        write(root, "tsconfig.json", b"{}");
        write(root, "vendor/lib/.git/HEAD", b"ref");

        let mut buf = Cursor::new(Vec::new());
        let summary = zip_dir(root, &mut buf).unwrap();
        let mut listed = names(&buf.into_inner());
        listed.sort();
        assert_eq!(
            listed,
            [
                ".github/",
                ".github/x.yml",
                ".gitignore",
                "index.html",
                "package-lock.json",
                "pdfjs/",
                "pdfjs/cmaps/",
                "pdfjs/cmaps/node_modules/",
                "pdfjs/cmaps/node_modules/pdfjs-dist/",
                "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/",
                "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap",
                "tsconfig.json",
                "vendor/",
                "vendor/lib/",
            ]
        );
        assert_eq!(summary.skipped, ["vendor/lib/.git/"]);
        // The delta manifest side walks with the same rule.
        let walked: Vec<String> = landfall_crypto::walk_dir(root)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let zipped_files: Vec<&String> = listed.iter().filter(|n| !n.ends_with('/')).collect();
        assert_eq!(walked.iter().collect::<Vec<_>>(), zipped_files);
    }

    #[test]
    fn index_html_must_be_at_the_root() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "www/index.html", b"<html></html>");
        let err = zip_dir(dir.path(), Cursor::new(Vec::new())).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("index.html must be at the root"), "{msg}");
        assert!(msg.contains("www"), "{msg}");

        let empty = tempfile::tempdir().unwrap();
        let err = zip_dir(empty.path(), Cursor::new(Vec::new())).unwrap_err();
        assert!(format!("{err:#}").contains("index.html"));

        let file = dir.path().join("www/index.html");
        let err = zip_dir(&file, Cursor::new(Vec::new())).unwrap_err();
        assert!(format!("{err:#}").contains("not a directory"));
    }

    #[test]
    fn zips_the_reference_dist_like_the_cli() {
        let dist = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/capgo-vectors/dist");
        if !dist.is_dir() {
            eprintln!("skipped: {} not present", dist.display());
            return;
        }
        let (zip, summary) = zip_dir_to_file(&dist, None).unwrap();
        // The Capgo CLI's own zip of this directory has exactly these entries.
        assert_eq!(
            summary.entries,
            ["assets/", "assets/app.js", "assets/big.js", "index.html"]
        );
        let bytes = std::fs::read(zip.path()).unwrap();
        let reference = dist.join("../bundle-1.0.1.zip");
        if let Ok(reference) = std::fs::read(reference) {
            let mut a = names(&bytes);
            let mut b = names(&reference);
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
        let path = zip.path().to_owned();
        drop(zip);
        assert!(!path.exists(), "temp zip is removed on drop");
    }
}
