//! Local encryption and signing of a bundle zip (Capgo v2 scheme, like `capgo bundle encrypt`):
//! a fresh AES-128 session key per bundle, the V3 signed checksum of the plain zip, and, for
//! delta uploads, one signed sha256 per bundle file. Also the reverse (`capgo bundle decrypt`).
//!
//! Whole zips are streamed in one pass (hashed while encrypted / decrypted), never buffered.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use landfall_client::FileSignatures;
use landfall_crypto::{
    CryptoError, SessionKey, Sha256Reader, Sha256Writer, SigningKey, VerifyingKey, SHA256_LEN,
};

/// The encrypted bundle, ready to upload.
#[derive(Debug)]
pub struct Encrypted {
    /// The ciphertext (temp file, deleted on drop).
    pub file: tempfile::NamedTempFile,
    /// `base64(iv):base64(rsa)`, the `session_key` devices get.
    pub session_key: String,
    /// V3 signed checksum (512 hex) of the plain zip.
    pub checksum: String,
    /// Key id of the signing key's public half.
    pub key_id: String,
    /// sha256 hex of the plain zip (what the server reports once it has verified the upload).
    pub plain_sha256: String,
    /// Per-file signatures (bundle path → V3 signed sha256), for delta uploads.
    pub signatures: Option<FileSignatures>,
}

/// Reads a PKCS#1 private key (`.capgo_key_v2`).
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let pem = read_key_file(
        path,
        "private",
        "create a key pair with `landfall key create`",
    )?;
    SigningKey::from_pem(&pem)
        .with_context(|| format!("{} is not a usable Capgo private key", path.display()))
}

/// Reads a PKCS#1 public key (`.capgo_key_v2.pub`).
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey> {
    let pem = read_key_file(
        path,
        "public",
        "pass the app's .capgo_key_v2.pub with --key",
    )?;
    VerifyingKey::from_pem(&pem)
        .with_context(|| format!("{} is not a usable Capgo public key", path.display()))
}

fn read_key_file(path: &Path, kind: &str, hint: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        let mut msg = format!("cannot read the {kind} key {}: {e}", path.display());
        if e.kind() == std::io::ErrorKind::NotFound {
            msg.push_str(&format!(" ({hint})"));
        }
        anyhow::anyhow!(msg)
    })
}

/// What encrypting a plain zip produced; the ciphertext went to the caller's writer.
#[derive(Debug)]
pub struct Sealed {
    /// `base64(iv):base64(rsa)`, the CLI's `ivSessionKey` / the `session_key` devices get.
    pub session_key: String,
    /// V3 signed checksum (512 hex) of the plain zip.
    pub checksum: String,
    /// sha256 of the plain zip.
    pub plain_sha256: [u8; SHA256_LEN],
    /// Bytes of the plain zip.
    pub plain_len: u64,
}

/// Encrypts the file at `plain` into `out` with a fresh session key, in one streaming pass that
/// also hashes it, then signs the session key and the sha256 with `signer`.
pub fn seal<W: Write>(plain: &Path, signer: &SigningKey, out: W) -> Result<Sealed> {
    let file = File::open(plain).with_context(|| format!("cannot read {}", plain.display()))?;
    let session = SessionKey::random();
    // encrypt_stream reads 1 MiB at a time: no BufReader needed.
    let mut hashing = Sha256Reader::new(file);
    landfall_crypto::encrypt_stream(&session, &mut hashing, out)
        .with_context(|| format!("cannot encrypt {}", plain.display()))?;
    let plain_len = hashing.len();
    let (plain_sha256, _) = hashing.finish();
    Ok(Sealed {
        session_key: session
            .to_wire(signer)
            .context("cannot seal the session key")?,
        checksum: landfall_crypto::sign_checksum(signer, &plain_sha256)
            .context("cannot sign the checksum")?,
        plain_sha256,
        plain_len,
    })
}

/// `<path>_encrypted.zip` / `<path>_decrypted.zip`, the Capgo CLI's output names.
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// A temp file next to `dest`, to be renamed onto it once complete (mode 0644 on unix, like a
/// file the Capgo CLI writes, rather than the temp file's 0600).
pub fn temp_next_to(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".landfall-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

/// Decrypts the file at `encrypted` into `out` (streamed), returning the plaintext's sha256 and
/// length. A wrong session key shows as a padding error.
pub fn open<W: Write>(
    encrypted: &Path,
    session: &SessionKey,
    out: W,
) -> Result<([u8; SHA256_LEN], u64)> {
    let file =
        File::open(encrypted).with_context(|| format!("cannot read {}", encrypted.display()))?;
    let mut hashing = Sha256Writer::new(out);
    landfall_crypto::decrypt_stream(session, file, &mut hashing).map_err(|e| match e {
        CryptoError::Io(io) => anyhow::Error::new(io)
            .context(format!("cannot decrypt {}: I/O error", encrypted.display())),
        other => anyhow::Error::new(other).context(format!(
            "cannot decrypt {} with this ivSessionKey",
            encrypted.display()
        )),
    })?;
    let len = hashing.len();
    let (digest, _) = hashing.finish();
    Ok((digest, len))
}

/// Encrypts and signs the plain zip at `plain` with `signer`.
pub fn encrypt_bundle(plain: &Path, signer: &SigningKey, delta: bool) -> Result<Encrypted> {
    let file = tempfile::Builder::new()
        .prefix("landfall-bundle-")
        .suffix(".zip_encrypted.zip")
        .tempfile()
        .context("cannot create a temporary file for the encrypted zip")?;
    let sealed = {
        let mut out = BufWriter::new(file.as_file());
        let sealed = seal(plain, signer, &mut out)?;
        out.flush().context("cannot write the encrypted zip")?;
        sealed
    };
    let signatures = if delta {
        Some(sign_files(plain, signer)?)
    } else {
        None
    };
    Ok(Encrypted {
        file,
        session_key: sealed.session_key,
        checksum: sealed.checksum,
        key_id: signer.key_id(),
        plain_sha256: hex::encode(sealed.plain_sha256),
        signatures,
    })
}

/// One V3 signed sha256 per file of the zip, keyed by its path inside the installed bundle
/// (after the plugin's single-top-folder hoisting, as the server's manifest names them).
fn sign_files(plain: &Path, signer: &SigningKey) -> Result<FileSignatures> {
    let reader = || {
        File::open(plain)
            .map(BufReader::new)
            .with_context(|| format!("cannot read {}", plain.display()))
    };
    let summary = landfall_core::bundle_zip::validate(reader()?, Default::default())
        .with_context(|| format!("{} is not a valid bundle zip", plain.display()))?;
    let mut zip = zip::ZipArchive::new(reader()?)
        .with_context(|| format!("{} is not a zip", plain.display()))?;
    let mut signatures = FileSignatures::new();
    for f in &summary.files {
        let mut entry = zip
            .by_name(&f.entry)
            .with_context(|| format!("cannot read {} in the zip", f.entry))?;
        let mut data = Vec::with_capacity(f.size as usize);
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("cannot read {} in the zip", f.entry))?;
        let sig = landfall_crypto::sign_checksum(signer, &landfall_crypto::sha256(&data))
            .with_context(|| format!("cannot sign {}", f.path))?;
        signatures.insert(f.path.clone(), sig);
    }
    Ok(signatures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_crypto::VerifyingKey;

    #[test]
    fn encrypted_bundle_verifies_with_the_public_key() {
        let pair = landfall_crypto::generate_keypair().unwrap();
        let signer = SigningKey::from_pem(&pair.private_pem).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("js")).unwrap();
        std::fs::write(src.join("index.html"), "<html></html>").unwrap();
        std::fs::write(src.join("js/app.js"), "notifyAppReady()").unwrap();
        let zip_path = dir.path().join("b.zip");
        crate::zipper::zip_dir(&src, File::create(&zip_path).unwrap()).unwrap();
        let plain = std::fs::read(&zip_path).unwrap();

        let enc = encrypt_bundle(&zip_path, &signer, true).unwrap();
        assert_eq!(enc.plain_sha256, landfall_crypto::sha256_hex(&plain));
        assert_eq!(enc.key_id, landfall_crypto::key_id(&pair.public_pem));

        let verifier = VerifyingKey::from_pem(&pair.public_pem).unwrap();
        let cipher = std::fs::read(enc.file.path()).unwrap();
        assert_ne!(cipher, plain);
        let mut out = Vec::new();
        landfall_crypto::verify_encrypted_bundle(
            &verifier,
            &enc.session_key,
            &enc.checksum,
            &cipher[..],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, plain);

        let sigs = enc.signatures.unwrap();
        assert_eq!(sigs.keys().collect::<Vec<_>>(), ["index.html", "js/app.js"]);
        let digest = landfall_crypto::sha256(b"notifyAppReady()");
        assert!(verifier
            .checksum_matches(&sigs["js/app.js"], &digest)
            .unwrap());
    }
}
