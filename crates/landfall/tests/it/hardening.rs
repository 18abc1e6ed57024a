//! Issue 7 against the real binary: the data-dir lock, private file modes, connection timeouts,
//! admin token hygiene, and the CLI's message when the server refuses a large bundle.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{landfall, random_token, run, vectors_dir, Server};

/// Reads until the server closes the connection (or `limit` passes); returns what arrived and
/// how long it took.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "connection still open after {:?} ({e}); got {:?}",
                start.elapsed(),
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.url.trim_start_matches("http://")).unwrap()
}

#[tokio::test]
async fn stalled_headers_bodies_and_idle_connections_are_closed() {
    let server = Server::start_with_args(&[
        "--header-read-timeout",
        "1",
        "--body-read-timeout",
        "1",
        "--idle-timeout",
        "2",
    ])
    .await;
    // A partial header, then silence.
    let mut s = connect(&server);
    s.write_all(b"POST /updates HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .unwrap();
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(took < Duration::from_secs(4), "closed after {took:?}");

    // Headers announce 1 MB, a few bytes arrive, then silence: the body timeout ends it.
    let mut s = connect(&server);
    s.write_all(
        b"POST /updates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"app_id\":",
    )
    .unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 4"),
        "unexpected answer {got:?}"
    );

    // A keep-alive connection that goes quiet after one request is closed.
    let mut s = connect(&server);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(got.starts_with("HTTP/1.1 200"), "{got:?}");
    assert!(took < Duration::from_secs(4), "closed after {took:?}");

    // A slow but steady body is not an idle one: 3 s of trickling with 1 s limits still works.
    let body = br#"{"status":"trickle"}"#;
    let mut s = connect(&server);
    s.write_all(
        format!(
            "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    for chunk in body.chunks(4) {
        std::thread::sleep(Duration::from_millis(600));
        s.write_all(chunk).unwrap();
    }
    let (got, _) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(got.starts_with("HTTP/1.1 "), "{got:?}");
    assert!(!got.starts_with("HTTP/1.1 408"), "{got:?}");
    assert!(!got.contains("Failed to buffer"), "{got:?}");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_refuses_and_touches_nothing() {
    let first = Server::start().await;
    let data = first.data_dir().to_owned();
    // An upload in flight (staging file) and a blob not yet committed, as the first server sees them.
    let staging = data.join("tmp").join("upload-in-flight");
    std::fs::write(&staging, b"partial").unwrap();
    let blob_dir = data.join("blobs").join("ab");
    std::fs::create_dir_all(&blob_dir).unwrap();
    let blob = blob_dir.join(format!("ab{}", "0".repeat(62)));
    std::fs::write(&blob, b"being committed").unwrap();

    let r = run(landfall()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("LANDFALL_ADMIN_TOKEN", random_token()));
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr.contains("in use by another landfall process"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("pid "), "names the holder: {r:#?}");
    assert!(staging.exists(), "the staging file was wiped");
    assert!(blob.exists(), "the blob was swept");
    // The first server still serves.
    assert_eq!(first.cli(&["status"]).code, 0);
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start_on_sqlite().await;
    let app = "com.example.modes";
    server.cli(&["app", "create", app]).ok();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<script src=main.js></script>",
    )
    .unwrap();
    std::fs::write(dist.path().join("main.js"), "console.log(1)").unwrap();
    server
        .cli(&[
            "bundle",
            "upload",
            app,
            dist.path().to_str().unwrap(),
            "--version",
            "1.0.0",
        ])
        .ok();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/apps/{app}/icp/documents?kind=entity_certificate&file_name=licence.pdf",
            server.url
        ))
        .bearer_auth(&server.token)
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let data = server.data_dir().to_owned();
    let mut files = 0;
    let mut stack = vec![data.clone()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:o}", p.display());
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else {
            assert_eq!(mode, 0o600, "{} is {mode:o}", p.display());
            files += 1;
        }
    }
    // The database (+ WAL), the lock, a bundle blob and the document.
    assert!(files >= 5, "{files} files");
    assert!(data.join("landfall.db-wal").exists());
    assert!(
        std::fs::read_dir(data.join("icp-documents"))
            .unwrap()
            .count()
            > 0
    );
}

#[tokio::test]
async fn a_short_admin_token_from_the_environment_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let r = run(landfall()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("LANDFALL_ADMIN_TOKEN", "short-secret"));
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("at least 32 characters"), "{r:#?}");
    assert!(!r.stderr.contains("short-secret"), "never echo the secret");
}

#[allow(dead_code)]
fn vectors() -> std::path::PathBuf {
    vectors_dir()
}

#[tokio::test]
async fn an_admin_token_can_be_minted_offline_but_not_under_a_running_server() {
    let mut server = Server::start_on_sqlite().await;
    let data = server.data_dir().to_owned();
    let args = |d: &std::path::Path| {
        let mut c = landfall();
        c.args([
            "token",
            "create",
            "--name",
            "rescue",
            "--scope",
            "*:admin",
            "--data-dir",
        ])
        .arg(d);
        c
    };
    let r = run(&mut args(&data));
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr.contains("in use by another landfall process"),
        "{r:#?}"
    );
    assert!(server.terminate().success());
    let r = run(&mut args(&data)).ok();
    let secret = r.stdout.trim().to_owned();
    assert!(secret.starts_with("lf_"), "{r:#?}");
    // The server accepts the rescued token.
    server.restart().await;
    let r = crate::support::run_cli(&server.url, &secret, &["token", "list"]).ok();
    assert!(r.stdout.contains("rescue"), "{r:#?}");
}

/// An upload over the server's limit shows the server's refusal, not a broken pipe.
#[tokio::test]
async fn cli_explains_an_upload_over_the_servers_limit() {
    let server = Server::start_with_args(&["--max-bundle-bytes", "4096"]).await;
    server.cli(&["app", "create", "com.example.big"]).ok();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html></html>").unwrap();
    // Incompressible, so the zip is far over 4 KiB.
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dist.path().join("app.js"), noise).unwrap();
    let r = server.cli(&[
        "bundle",
        "upload",
        "com.example.big",
        dist.path().to_str().unwrap(),
        "--version",
        "1.0.0",
    ]);
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr
            .contains("larger than the server accepts (4096 bytes)"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("--max-bundle-bytes"), "{r:#?}");
    assert!(!r.stderr.to_lowercase().contains("broken pipe"), "{r:#?}");
}
