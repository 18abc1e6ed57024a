//! Error types of landfall-crypto; every message says what went wrong and what to do about it.

use std::io;

/// Everything that can go wrong in this crate (except [`crate::verify_encrypted_bundle`],
/// which wraps these in [`BundleVerifyError`] to name the failing step).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    // ---------------------------------------------------------------- keys
    /// A PKCS#8 private key was given where Capgo needs PKCS#1.
    #[error(
        "this is a PKCS#8 private key (\"-----BEGIN PRIVATE KEY-----\") but Capgo needs a PKCS#1 \
         key (\"-----BEGIN RSA PRIVATE KEY-----\"); convert it with: \
         openssl rsa -in key.pem -traditional -out .capgo_key_v2"
    )]
    Pkcs8PrivateKey,

    /// A passphrase-protected private key was given.
    #[error(
        "this private key is encrypted with a passphrase; Capgo needs an unencrypted PKCS#1 key \
         (\"-----BEGIN RSA PRIVATE KEY-----\"); decrypt and convert it with: \
         openssl rsa -in key.pem -traditional -out .capgo_key_v2"
    )]
    EncryptedPrivateKey,

    /// An SPKI ("BEGIN PUBLIC KEY") public key was given where Capgo needs PKCS#1.
    #[error(
        "this is an SPKI public key (\"-----BEGIN PUBLIC KEY-----\") but Capgo devices only accept \
         PKCS#1 (\"-----BEGIN RSA PUBLIC KEY-----\"); convert it with: \
         openssl rsa -pubin -in key.pub -RSAPublicKey_out -out .capgo_key_v2.pub"
    )]
    SpkiPublicKey,

    /// A public key was given where the private (signing) key is needed.
    #[error(
        "expected the PRIVATE key (\"-----BEGIN RSA PRIVATE KEY-----\", usually .capgo_key_v2) but \
         got a public key; pass the private key file, not the .pub"
    )]
    PublicKeyGivenForPrivate,

    /// A private key was given where the public (verifying) key is expected.
    #[error(
        "expected the PUBLIC key (\"-----BEGIN RSA PUBLIC KEY-----\", usually .capgo_key_v2.pub) but \
         got a private key; never ship or upload the private key: pass the .pub file (derive it with: \
         openssl rsa -in .capgo_key_v2 -RSAPublicKey_out -out .capgo_key_v2.pub)"
    )]
    PrivateKeyGivenForPublic,

    /// The RSA key does not have a 2048-bit modulus.
    #[error(
        "the RSA key has a {bits}-bit modulus but Capgo requires RSA-2048 (devices reject anything \
         else); create a new key pair with `capgo key create` or landfall's key generation"
    )]
    WrongKeySize {
        /// Bit length of the modulus that was found.
        bits: usize,
    },

    /// A PEM block with a label this crate does not understand.
    #[error(
        "unsupported PEM block \"-----BEGIN {label}-----\"; expected {expected} \
         (create Capgo keys with `capgo key create` or landfall's key generation)"
    )]
    UnsupportedPem {
        /// The label found after "-----BEGIN ".
        label: String,
        /// What was expected instead.
        expected: &'static str,
    },

    /// The text is not a PEM key at all.
    #[error(
        "not a PEM key ({reason}); expected text starting with \"{expected}\" \
         (if you have a file path, pass the file's contents)"
    )]
    NotPem {
        /// What is wrong with the text.
        reason: &'static str,
        /// The header line that was expected.
        expected: &'static str,
    },

    /// The PEM framing is fine but the key inside it is not a valid RSA key.
    #[error(
        "the {kind} key is damaged or incomplete ({detail}); check that the whole PEM text was \
         copied, or create a new key pair"
    )]
    MalformedKey {
        /// "private" or "public".
        kind: &'static str,
        /// Low-level reason.
        detail: String,
    },

    /// RSA key generation failed (should not happen with a working OS random source).
    #[error("RSA key generation failed ({0}); check that the OS random number generator works")]
    KeyGeneration(String),

    /// More data than one RSA-2048 type-1 block can carry.
    #[error(
        "cannot RSA-sign {len} bytes: one RSA-2048 block carries at most 245; sign a SHA-256 \
         (32 bytes) or an AES key (16 bytes)"
    )]
    SignInputTooLong {
        /// Length of the rejected input.
        len: usize,
    },

    /// The RSA private-key operation failed (indicates a broken key).
    #[error(
        "RSA signing failed ({0}); the private key is probably corrupt, create a new key pair"
    )]
    Signing(String),

    // --------------------------------------------------------- session key
    /// The session key string does not have the `IV:KEY` shape.
    #[error(
        "a session key must look like \"<base64 IV>:<base64 RSA-encrypted AES key>\" (the \
         ivSessionKey printed by `capgo bundle encrypt`), with exactly one ':'; got {found}"
    )]
    SessionKeyFormat {
        /// Short description of what was found.
        found: String,
    },

    /// One half of the session key is not canonical standard base64.
    #[error(
        "the {part} part of the session key is not valid standard base64 (A-Z a-z 0-9 + / with = \
         padding); copy the ivSessionKey exactly as `capgo bundle encrypt` printed it"
    )]
    SessionKeyBase64 {
        /// "IV" or "encrypted key".
        part: &'static str,
    },

    /// The IV half does not decode to 16 bytes.
    #[error("the session key's IV decodes to {len} bytes, but AES-128-CBC needs exactly 16")]
    SessionKeyIvLength {
        /// Decoded length.
        len: usize,
    },

    /// The RSA half does not decode to 256 bytes.
    #[error(
        "the session key's encrypted AES key decodes to {len} bytes, but an RSA-2048 block is \
         exactly 256 bytes; the session key is truncated or was made with a different key size"
    )]
    SessionKeyRsaLength {
        /// Decoded length.
        len: usize,
    },

    /// The RSA half does not open with this public key.
    #[error(
        "this session key was not made with the private key matching this public key (RSA \
         padding check failed); use the key pair that encrypted the bundle"
    )]
    SessionKeyWrongKey,

    /// The RSA half opened but did not contain a 16-byte AES key.
    #[error(
        "the session key opened to a {len}-byte AES key, but Capgo uses AES-128 (16 bytes); \
         re-encrypt the bundle with `capgo bundle encrypt` or landfall"
    )]
    SessionKeyAesLength {
        /// Length of the recovered key.
        len: usize,
    },

    // ------------------------------------------------------------ checksum
    /// A plain SHA-256 was given where a signed (encrypted) checksum is needed.
    #[error(
        "this is a plain sha256, not a signed checksum: encrypted bundles need the 512-hex-char \
         checksum printed by `capgo bundle encrypt` (RSA-signed SHA-256)"
    )]
    ChecksumIsPlain,

    /// The checksum is not hexadecimal.
    #[error(
        "the signed checksum is not hexadecimal; if it is base64 it is the legacy \"V2\" format that \
         current plugins reject: re-run `capgo bundle encrypt` with @capgo/capacitor-updater \
         installed in node_modules, or sign with landfall"
    )]
    ChecksumNotHex,

    /// The checksum is hex but not 512 characters long.
    #[error(
        "the signed checksum has {hex_chars} hex characters, expected 512 (an RSA-2048 block); it \
         is truncated or was made with a different key size"
    )]
    ChecksumLength {
        /// Number of characters found.
        hex_chars: usize,
    },

    /// The checksum was not signed by the private key matching this public key.
    #[error(
        "this checksum was not signed with the private key matching this public key (RSA padding \
         check failed); use the key pair that encrypted the bundle"
    )]
    ChecksumWrongKey,

    /// The checksum opened but did not contain a SHA-256.
    #[error(
        "the signed checksum opened to {len} bytes, expected 32 (a SHA-256){hint}; re-sign the \
         bundle's SHA-256"
    )]
    ChecksumPayloadLength {
        /// Length of the recovered payload.
        len: usize,
        /// Extra hint (e.g. legacy CRC32).
        hint: &'static str,
    },

    // ----------------------------------------------------------------- AES
    /// The ciphertext is empty.
    #[error("the encrypted data is empty; the upload or download was probably cut off")]
    CiphertextEmpty,

    /// The ciphertext length is not a multiple of 16.
    #[error(
        "the encrypted data is {len} bytes, not a multiple of 16 (AES block size): it is truncated \
         or not AES-128-CBC ciphertext"
    )]
    CiphertextLength {
        /// Total ciphertext length.
        len: u64,
    },

    /// The final block's PKCS#7 padding is invalid.
    #[error(
        "decryption produced invalid PKCS#7 padding: the data is corrupt or was encrypted with a \
         different session key (AES key/IV)"
    )]
    BadPadding,

    /// Reading the input or writing the output failed.
    #[error("I/O error while processing data: {0}")]
    Io(#[from] std::io::Error),

    // ------------------------------------------------------------ manifest
    /// An empty manifest path.
    #[error("a bundle file has an empty path; every file needs a relative path such as \"assets/app.js\"")]
    PathEmpty,

    /// An absolute manifest path.
    #[error("bundle path \"{path}\" is absolute; use a path relative to the web dir (e.g. \"assets/app.js\")")]
    PathAbsolute {
        /// Offending path.
        path: String,
    },

    /// A manifest path with a `..` segment.
    #[error("bundle path \"{path}\" contains a \"..\" segment; devices reject paths that leave the bundle directory")]
    PathParentSegment {
        /// Offending path.
        path: String,
    },

    /// A manifest path with a `.` segment.
    #[error("bundle path \"{path}\" contains a \".\" segment; remove \"./\" so every path is normalized")]
    PathDotSegment {
        /// Offending path.
        path: String,
    },

    /// A manifest path with a backslash.
    #[error("bundle path \"{path}\" contains a backslash; use '/' as the separator (devices reject '\\')")]
    PathBackslash {
        /// Offending path.
        path: String,
    },

    /// A manifest path with a NUL byte.
    #[error("bundle path {path:?} contains a NUL byte; rename the file")]
    PathNul {
        /// Offending path.
        path: String,
    },

    /// A manifest path with an empty segment (`a//b` or trailing `/`).
    #[error("bundle path \"{path}\" has an empty segment (\"//\" or a trailing '/'); remove the extra '/'")]
    PathEmptySegment {
        /// Offending path.
        path: String,
    },

    /// Two files with the same path.
    #[error("bundle path \"{path}\" appears more than once; each file may be listed only once")]
    DuplicatePath {
        /// Offending path.
        path: String,
    },

    /// `verify_manifest_file` was given a `file_hash` of the wrong shape.
    #[error("manifest entry \"{file_name}\": {reason}")]
    ManifestHash {
        /// The entry's `file_name`.
        file_name: String,
        /// What is wrong with the hash.
        reason: String,
    },

    /// A manifest file's content does not match its `file_hash`.
    #[error(
        "manifest entry \"{file_name}\": content sha256 is {actual} but file_hash says {expected}; \
         the stored file is corrupt or belongs to another bundle version"
    )]
    ManifestHashMismatch {
        /// The entry's `file_name`.
        file_name: String,
        /// Hash the manifest promised (hex).
        expected: String,
        /// Hash of the content (hex).
        actual: String,
    },

    /// A manifest file does not decrypt with the session key.
    #[error("manifest entry \"{file_name}\": {source}")]
    ManifestDecrypt {
        /// The entry's `file_name`.
        file_name: String,
        /// The decryption error.
        #[source]
        source: Box<CryptoError>,
    },

    /// A `.br` manifest file failed to decompress.
    #[error(
        "manifest entry \"{file_name}\": brotli decompression failed ({detail}); the stored file \
         is corrupt or is not brotli data despite the .br suffix"
    )]
    Brotli {
        /// The entry's `file_name`.
        file_name: String,
        /// Decoder message.
        detail: String,
    },

    /// A `.br` manifest file decompresses to more than the allowed size.
    #[error(
        "manifest entry \"{file_name}\": brotli output exceeds the {max_output}-byte limit; \
         refusing a possible decompression bomb (raise the limit if the file is legitimately that big)"
    )]
    BrotliTooLarge {
        /// The entry's `file_name`.
        file_name: String,
        /// The limit that was exceeded.
        max_output: u64,
    },

    /// Reading a directory for [`crate::walk_dir`] failed.
    #[error("cannot read {path}: {source}")]
    Walk {
        /// The path that could not be read.
        path: String,
        /// Underlying error.
        #[source]
        source: io::Error,
    },

    /// A file name in the walked directory is not valid UTF-8.
    #[error("file name {path:?} is not valid UTF-8; rename it (bundle paths must be UTF-8)")]
    NonUtf8Path {
        /// Lossy rendering of the path.
        path: String,
    },
}

/// Why [`crate::verify_encrypted_bundle`] rejected an upload; each step has its own variant so a
/// server can tell the uploader exactly what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleVerifyError {
    /// The session key does not parse or does not open with the public key.
    #[error("the session key does not open with this app's public key: {0}")]
    SessionKey(#[source] CryptoError),

    /// The signed checksum does not parse or does not open with the public key.
    #[error("the signed checksum does not open with this app's public key: {0}")]
    Checksum(#[source] CryptoError),

    /// The ciphertext does not decrypt with the session key.
    #[error("the encrypted bundle is corrupt or was encrypted with another session key: {0}")]
    CiphertextCorrupt(#[source] CryptoError),

    /// Decryption worked but the plaintext hash differs from the signed checksum.
    #[error(
        "the decrypted bundle's sha256 is {actual} but the signed checksum says {expected}; the \
         checksum was made for a different zip (re-run the encrypt step on this exact file)"
    )]
    ChecksumMismatch {
        /// Hash recovered from the signed checksum (hex).
        expected: String,
        /// Hash of the decrypted bundle (hex).
        actual: String,
    },

    /// Reading the ciphertext or writing the plaintext failed.
    #[error("I/O error while verifying the bundle: {0}")]
    Io(#[source] io::Error),
}

/// Result alias used across the crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
