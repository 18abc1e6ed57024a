//! Local encryption and signing of a bundle zip before upload (Capgo v2 scheme, like
//! `capgo bundle encrypt`): a fresh AES-128 session key per bundle, the V3 signed checksum of the
//! plain zip, and, for delta uploads, one signed sha256 per bundle file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use landfall_client::FileSignatures;
use landfall_crypto::{SessionKey, SigningKey};

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
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the private key {}", path.display()))?;
    SigningKey::from_pem(&pem)
        .with_context(|| format!("{} is not a usable Capgo private key", path.display()))
}

/// Encrypts and signs the plain zip at `plain` with `signer`.
pub fn encrypt_bundle(plain: &Path, signer: &SigningKey, delta: bool) -> Result<Encrypted> {
    let open = || {
        File::open(plain)
            .map(BufReader::new)
            .with_context(|| format!("cannot read {}", plain.display()))
    };
    let (digest, _) = landfall_crypto::sha256_reader(open()?)
        .with_context(|| format!("cannot read {}", plain.display()))?;
    let session = SessionKey::random();
    let file = tempfile::Builder::new()
        .prefix("landfall-bundle-")
        .suffix(".zip_encrypted.zip")
        .tempfile()
        .context("cannot create a temporary file for the encrypted zip")?;
    {
        let mut out = BufWriter::new(file.as_file());
        landfall_crypto::encrypt_stream(&session, open()?, &mut out)
            .context("cannot encrypt the bundle")?;
        out.flush().context("cannot write the encrypted zip")?;
    }
    let signatures = if delta {
        Some(sign_files(plain, signer)?)
    } else {
        None
    };
    Ok(Encrypted {
        file,
        session_key: session
            .to_wire(signer)
            .context("cannot seal the session key")?,
        checksum: landfall_crypto::sign_checksum(signer, &digest)
            .context("cannot sign the checksum")?,
        key_id: signer.key_id(),
        plain_sha256: hex::encode(digest),
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
