//! Delta manifest building, path validation, the skip list and device-side verification.

mod common;

use common::*;
use landfall_crypto::{
    brotli_compress, build_manifest, manifest_target_path, sha256_hex, should_skip_path,
    validate_bundle_path, verify_manifest_file, walk_dir, CryptoError, SessionKey, VerifyingKey,
};

const MAX_OUT: u64 = 10 << 20;

fn f(path: &str, data: &[u8]) -> (String, Vec<u8>) {
    (path.to_owned(), data.to_vec())
}

fn compressible(len: usize) -> Vec<u8> {
    b"function notifyAppReady() { return 42; }\n"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// Deterministic incompressible bytes (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn path_validation_errors_name_the_path() {
    let cases: [(&str, fn(&CryptoError) -> bool); 9] = [
        ("/etc/passwd", |e| {
            matches!(e, CryptoError::PathAbsolute { .. })
        }),
        ("C:/x.js", |e| matches!(e, CryptoError::PathAbsolute { .. })),
        ("../x.js", |e| {
            matches!(e, CryptoError::PathParentSegment { .. })
        }),
        ("a/../../x.js", |e| {
            matches!(e, CryptoError::PathParentSegment { .. })
        }),
        ("a\\b.js", |e| {
            matches!(e, CryptoError::PathBackslash { .. })
        }),
        ("a\0b.js", |e| matches!(e, CryptoError::PathNul { .. })),
        ("a//b.js", |e| {
            matches!(e, CryptoError::PathEmptySegment { .. })
        }),
        ("assets/", |e| {
            matches!(e, CryptoError::PathEmptySegment { .. })
        }),
        ("./index.html", |e| {
            matches!(e, CryptoError::PathDotSegment { .. })
        }),
    ];
    for (path, is_expected) in cases {
        let err = validate_bundle_path(path).unwrap_err();
        assert!(is_expected(&err), "{path:?}: {err:?}");
        if !path.contains('\0') {
            assert!(
                err.to_string().contains(path),
                "message names {path:?}: {err}"
            );
        }
        let err = build_manifest(vec![f("index.html", b"x"), f(path, b"data")], None).unwrap_err();
        assert!(is_expected(&err), "build_manifest {path:?}: {err:?}");
        let err =
            verify_manifest_file(path, b"data", &sha256_hex(b"data"), None, MAX_OUT).unwrap_err();
        assert!(is_expected(&err), "verify {path:?}: {err:?}");
    }
    assert!(matches!(
        validate_bundle_path("").unwrap_err(),
        CryptoError::PathEmpty
    ));
    for ok in [
        "index.html",
        "a/b/c.js",
        "..hidden",
        "a/.well-known/x",
        "dots..js",
    ] {
        validate_bundle_path(ok).unwrap();
    }

    let err = build_manifest(
        vec![f("a.js", b"1"), f("b.js", b"2"), f("a.js", b"3")],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&err, CryptoError::DuplicatePath { path } if path == "a.js"),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"a.js\""));
}

#[test]
fn brotli_rules() {
    let small = compressible(8191);
    let big = compressible(8192);
    let random = noise(20_000);
    let built = build_manifest(
        vec![
            f("z/empty.txt", b""),
            f("small.js", &small),
            f("big.js", &big),
            f("random.bin", &random),
            f("already.br", b"tiny file with a .br name"),
        ],
        None,
    )
    .unwrap();
    let names: Vec<&str> = built.iter().map(|m| m.file_name.as_str()).collect();
    // Sorted by path, empty file skipped.
    assert_eq!(
        names,
        ["already.br.br", "big.js.br", "random.bin", "small.js"]
    );
    let by_path = |p: &str| built.iter().find(|m| m.path == p).unwrap();
    assert!(!by_path("small.js").compressed);
    assert_eq!(by_path("small.js").stored, small);
    assert!(by_path("big.js").compressed);
    assert_eq!(by_path("big.js").stored, brotli_compress(&big).unwrap());
    assert!(by_path("big.js").stored.len() < 8192 - 10);
    assert!(
        !by_path("random.bin").compressed,
        "incompressible data stays raw"
    );
    assert_eq!(by_path("random.bin").stored, random);
    // A real ".br" file is always wrapped so the device's strip-and-decompress yields it.
    assert!(by_path("already.br").compressed);
    for m in &built {
        assert_eq!(m.file_hash, m.plain_sha256);
        let back =
            verify_manifest_file(&m.file_name, &m.stored, &m.file_hash, None, MAX_OUT).unwrap();
        assert_eq!(sha256_hex(&back), m.plain_sha256);
        assert_eq!(back.len() as u64, m.plain_size);
        assert_eq!(
            manifest_target_path(&m.file_name).unwrap(),
            (m.path.as_str(), m.compressed)
        );
    }
}

#[test]
fn encrypted_round_trip_and_failures() {
    let sk = vector_signing_key();
    let vk = vector_verifying_key();
    let session = SessionKey::random();
    let files = vec![
        f("index.html", b"<html>notifyAppReady</html>"),
        f("assets/big.js", &compressible(50_000)),
    ];
    let built = build_manifest(files.clone(), Some((&session, &sk))).unwrap();
    assert_eq!(built.len(), 2);
    for m in &built {
        assert_eq!(m.file_hash.len(), 512);
        assert_eq!(
            vk.recover_checksum(&m.file_hash).unwrap().to_vec(),
            hex::decode(&m.plain_sha256).unwrap()
        );
        assert_eq!(m.stored.len() % 16, 0);
        let back = verify_manifest_file(
            &m.file_name,
            &m.stored,
            &m.file_hash,
            Some((&session, &vk)),
            MAX_OUT,
        )
        .unwrap();
        let original = &files.iter().find(|(p, _)| *p == m.path).unwrap().1;
        assert_eq!(&back, original);
    }
    let big = built.iter().find(|m| m.path == "assets/big.js").unwrap();
    assert_eq!(big.file_name, "assets/big.js.br");

    // Wrong session key: AES padding fails (or brotli/hash fails) — never silently accepted.
    let wrong = SessionKey::new([1; 16], [2; 16]);
    let err = verify_manifest_file(
        &big.file_name,
        &big.stored,
        &big.file_hash,
        Some((&wrong, &vk)),
        MAX_OUT,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::ManifestDecrypt { .. }
                | CryptoError::Brotli { .. }
                | CryptoError::ManifestHashMismatch { .. }
        ),
        "{err:?}"
    );

    // Wrong public key: the signed hash does not open.
    let other = VerifyingKey::from_pem(&other_keypair().public_pem).unwrap();
    let err = verify_manifest_file(
        &big.file_name,
        &big.stored,
        &big.file_hash,
        Some((&session, &other)),
        MAX_OUT,
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::ManifestHash { .. }), "{err:?}");
    assert!(err.to_string().contains("assets/big.js.br"));

    // Swapped content: hashes differ.
    let index = built.iter().find(|m| m.path == "index.html").unwrap();
    let err = verify_manifest_file(
        &index.file_name,
        &index.stored,
        &big.file_hash,
        Some((&session, &vk)),
        MAX_OUT,
    )
    .unwrap_err();
    assert!(
        matches!(err, CryptoError::ManifestHashMismatch { .. }),
        "{err:?}"
    );

    // Encrypted manifest verified as if plain: the 512-hex hash is called out.
    let err = verify_manifest_file(
        &index.file_name,
        &index.stored,
        &index.file_hash,
        None,
        MAX_OUT,
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::ManifestHash { .. }), "{err:?}");
    assert!(err.to_string().contains("signed hash"), "{err}");

    // Plain hash where a signed one is required.
    let err = verify_manifest_file(
        &index.file_name,
        &index.stored,
        &index.plain_sha256,
        Some((&session, &vk)),
        MAX_OUT,
    )
    .unwrap_err();
    assert!(err.to_string().contains("plain sha256"), "{err}");

    // Truncated ciphertext.
    let err = verify_manifest_file(
        &index.file_name,
        &index.stored[..index.stored.len() - 3],
        &index.file_hash,
        Some((&session, &vk)),
        MAX_OUT,
    )
    .unwrap_err();
    assert!(
        matches!(err, CryptoError::ManifestDecrypt { .. }),
        "{err:?}"
    );
}

#[test]
fn plain_verification_failures() {
    let data = b"console.log('hi')";
    let hash = sha256_hex(data);
    let err = verify_manifest_file("a.js", data, &hash.to_uppercase(), None, MAX_OUT).unwrap_err();
    assert!(matches!(err, CryptoError::ManifestHash { .. }), "{err:?}");
    assert!(err.to_string().contains("lowercase"));
    let err = verify_manifest_file("a.js", b"tampered", &hash, None, MAX_OUT).unwrap_err();
    assert!(
        matches!(err, CryptoError::ManifestHashMismatch { .. }),
        "{err:?}"
    );
    let err = verify_manifest_file("a.js.br", data, &hash, None, MAX_OUT).unwrap_err();
    assert!(matches!(err, CryptoError::Brotli { .. }), "{err:?}");
}

#[test]
fn brotli_bomb_is_capped() {
    let zeros = vec![0u8; 20 << 20];
    let bomb = brotli_compress(&zeros).unwrap();
    assert!(bomb.len() < 10_000, "{}", bomb.len());
    let hash = sha256_hex(&zeros);
    let err = verify_manifest_file("bomb.js.br", &bomb, &hash, None, 1 << 20).unwrap_err();
    assert!(
        matches!(err, CryptoError::BrotliTooLarge { max_output, .. } if max_output == 1 << 20),
        "{err:?}"
    );
    // Exactly at the limit is fine.
    let out = verify_manifest_file("bomb.js.br", &bomb, &hash, None, 20 << 20).unwrap();
    assert_eq!(out.len(), 20 << 20);
}

/// Landfall's rule, not the Capgo CLI's: the CLI skips every path that merely *contains*
/// `.git`, `node_modules`, `package-lock.json` or `tsconfig…json`; Landfall deliberately keeps
/// all of those except `.git` directories and a top-level `node_modules` (docs/PROTOCOL.md).
#[test]
fn skip_rule_drops_only_what_is_not_app_content() {
    use landfall_crypto::{skip_reason, SkipReason};
    for (skip, reason) in [
        (".DS_Store", SkipReason::DsStore),
        ("assets/.DS_Store", SkipReason::DsStore),
        (".git", SkipReason::Git),
        (".git/config", SkipReason::Git),
        ("vendor/lib/.git/HEAD", SkipReason::Git),
        ("node_modules", SkipReason::TopLevelNodeModules),
        ("node_modules/x/index.js", SkipReason::TopLevelNodeModules),
    ] {
        assert_eq!(skip_reason(skip), Some(reason), "{skip}");
        assert!(should_skip_path(skip), "{skip}");
    }
    for keep in [
        "index.html",
        "assets/app.js",
        // Kept by Landfall, skipped by the Capgo CLI:
        "a/node_modules/b.js",
        "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap",
        ".gitignore",
        "sub/.gitignore",
        ".github/workflows/x.yml",
        ".gitkeep",
        "package-lock.json",
        "tsconfig.json",
        "src/tsconfig.spec.json",
        "my.git/x",
        "node_modules_backup/x.js",
        "x.DS_Store.txt",
        // Kept by both:
        "package.json",
        "tsconfig.js",
        "gitignore.txt",
    ] {
        assert_eq!(skip_reason(keep), None, "{keep}");
        assert!(!should_skip_path(keep), "{keep}");
    }
}

#[test]
fn walk_dir_applies_the_skip_list() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    write("index.html", b"<html/>");
    write("assets/b.js", b"b");
    write("assets/a.js", b"a");
    write("assets/deep/empty.txt", b"");
    write("node_modules/x/index.js", b"x");
    write(".git/HEAD", b"ref");
    write(".DS_Store", b"junk");
    write("assets/.git/HEAD", b"ref");
    write("assets/.DS_Store", b"junk");
    write("tsconfig.app.json", b"{}");
    write("package-lock.json", b"{}");
    write(".gitignore", b"dist");
    write(
        "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap",
        b"bcmap",
    );
    let files = walk_dir(root).unwrap();
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            ".gitignore",
            "assets/a.js",
            "assets/b.js",
            "assets/deep/empty.txt",
            "index.html",
            "package-lock.json",
            "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap",
            "tsconfig.app.json",
        ]
    );
    let built = build_manifest(files, None).unwrap();
    assert_eq!(built.len(), 7, "empty file skipped");

    let err = walk_dir(&root.join("missing")).unwrap_err();
    assert!(matches!(err, CryptoError::Walk { .. }), "{err:?}");
    assert!(err.to_string().contains("missing"));
}
