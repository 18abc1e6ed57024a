//! Scale-out, black-box: several `landfall serve` processes on one PostgreSQL database and one
//! S3 bucket (Garage, started by `scripts/test`), download modes (proxy, presign, public CDN base,
//! geo split behind a trusted proxy), ICP documents kept out of the public bucket, and what an
//! unreachable database or bucket does at start and while running.
//!
//! PostgreSQL or Garage missing: these fail under CI and are skipped with a message elsewhere.

use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{device_info, private_bucket, test_bucket, web_dist, FreshPg, Server};

const APP: &str = "com.example.scale";
const D1: &str = "00000000-0000-4000-8000-00000000b001";
const D2: &str = "00000000-0000-4000-8000-00000000b002";
const D3: &str = "00000000-0000-4000-8000-00000000b003";

async fn check(base: &str, device: &str, headers: &[(&str, &str)]) -> (Value, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/updates"))
        .json(&device_info(APP, device, "builtin"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let how = resp
        .headers()
        .get("x-landfall-download")
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.json().await.unwrap(), how)
}

/// Poll `server` until the update check answers `version`; returns how long it took.
async fn until_served(server: &Server, device: &str, version: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (answer, _) = check(&server.url, device, &[]).await;
        if answer["version"] == version {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} still answers {answer} instead of {version}; its log:\n{}",
            server.url,
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Add a small PDF as the app's entity certificate through the CLI: (its path, its id).
fn add_document(server: &Server, dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let pdf = dir.join("licence.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
    )
    .unwrap();
    let added = server
        .cli(&[
            "icp",
            "documents",
            "add",
            APP,
            "entity-certificate",
            pdf.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    (pdf, added["id"].as_i64().unwrap().to_string())
}

/// Download an update answer's zip and check it against the answer's checksum.
async fn download_matches(answer: &Value) {
    let url = answer["url"].as_str().unwrap();
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(
        answer["checksum"],
        sha256(&resp.bytes().await.unwrap()),
        "{url}"
    );
}

fn upload(server: &Server, token: &str, dist: &str, version: &str) -> crate::support::Run {
    crate::support::run_cli(
        &server.url,
        token,
        &[
            "bundle",
            "upload",
            APP,
            dist,
            "--version",
            version,
            "--channel",
            "production",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_and_bucket_serve_one_truth() {
    let test = "two_instances";
    let (Some(pg), Some(bucket)) = (FreshPg::create(test).await, test_bucket(test)) else {
        return;
    };
    let args = ["--database", pg.url(), "--blobs", bucket.as_str()];
    let a = Server::start_with_args(&args).await;
    let mut b = Server::start_with_args(&args).await;
    // One token table: instance A's admin token works on B too.
    let token = a.token.clone();
    let work = tempfile::tempdir().unwrap();
    a.cli(&["app", "create", APP]).ok();
    upload(&a, &token, &web_dist(work.path(), "v1", "one"), "1.0.1").ok();

    // B serves A's upload, streaming the zip from the bucket (with Range).
    until_served(&b, D1, "1.0.1").await;
    let (answer, how) = check(&b.url, D1, &[]).await;
    assert_eq!(how, "region=global; via=proxy", "{answer}");
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&b.url), "{url}");
    let zip = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(answer["checksum"], sha256(&zip), "bytes from the bucket");
    let part = reqwest::Client::new()
        .get(url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &zip[10..20]);

    // A change through A is served by B within a second (the change feed), and back.
    upload(&a, &token, &web_dist(work.path(), "v2", "two"), "1.0.2").ok();
    let took = until_served(&b, D1, "1.0.2").await;
    assert!(
        took < Duration::from_secs(1),
        "B served 1.0.2 after {took:?}"
    );
    a.cli(&["channel", "set", APP, "production", "--bundle", "1.0.1"])
        .ok();
    let took = until_served(&b, D1, "1.0.1").await;
    assert!(
        took < Duration::from_secs(1),
        "B served the rollback after {took:?}"
    );

    // A device's own channel choice made on B reaches A (the devices table is shared too).
    a.cli(&["channel", "create", APP, "beta", "--allow-device-self-set"])
        .ok();
    a.cli(&["channel", "set", APP, "beta", "--bundle", "1.0.2"])
        .ok();
    // (Plugins before 5.34/6.34/7.34 keep no channel themselves: the server stores it.)
    let mut body = device_info(APP, D2, "builtin");
    body["channel"] = "beta".into();
    body["plugin_version"] = "6.10.0".into();
    // B learns of the channel created through A within a second, then stores the choice.
    let start = Instant::now();
    loop {
        let set: Value = reqwest::Client::new()
            .post(format!("{}/channel_self", b.url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if set["status"] == "ok" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{set}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = until_served(&a, D2, "1.0.2").await;
    assert!(
        took < Duration::from_secs(1),
        "A saw dev-2's channel after {took:?}"
    );

    // An upload through A while B restarts (B sweeps the bucket at start) keeps its blobs.
    assert!(b.terminate().success());
    let dist = web_dist(work.path(), "v3", "three");
    let (url_a, token_a) = (a.url.clone(), token.clone());
    let uploading = std::thread::spawn(move || {
        crate::support::run_cli(
            &url_a,
            &token_a,
            &[
                "bundle",
                "upload",
                APP,
                &dist,
                "--version",
                "1.0.3",
                "--channel",
                "production",
                "--delta",
            ],
        )
    });
    b.restart().await;
    uploading.join().unwrap().ok();
    until_served(&b, D1, "1.0.3").await;
    let (answer, _) = check(&b.url, D1, &[]).await;
    download_matches(&answer).await;
    for f in answer["manifest"].as_array().into_iter().flatten() {
        let got = reqwest::get(f["download_url"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{f}");
    }
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_and_geo_split_links_point_where_configured() {
    let test = "presign";
    let Some(bucket) = test_bucket(test) else {
        return;
    };
    let server = Server::start_with_args(&[
        "--blobs",
        &bucket,
        "--download",
        "presign",
        "--presign-expiry",
        "600",
        "--trusted-proxies",
        "127.0.0.1/32,10.0.0.0/8",
        "--download-base-mainland",
        "https://cdn.example.cn/lf/blobs",
    ])
    .await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();

    // Outside the mainland (through the trusted balancer): a presigned bucket URL.
    let (answer, how) = check(&server.url, D3, &[("x-forwarded-for", "8.8.8.8")]).await;
    assert_eq!(how, "region=global; via=presign", "{answer}");
    let url = answer["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=600"),
        "{url}"
    );
    let zip = reqwest::get(url).await.unwrap();
    assert_eq!(zip.status(), 200, "{url}");
    assert_eq!(answer["checksum"], sha256(&zip.bytes().await.unwrap()));
    // The same URL again (signed once, reused while young).
    let (again, _) = check(&server.url, D3, &[("x-forwarded-for", "8.8.8.8")]).await;
    assert_eq!(again["url"], answer["url"]);

    // A mainland device gets the ICP-filed CDN; a device that merely claims a mainland address
    // without going through a trusted proxy does not.
    let sha = url.split('?').next().unwrap().rsplit('/').next().unwrap();
    let (cn, how) = check(&server.url, D3, &[("x-forwarded-for", "114.114.114.114")]).await;
    assert_eq!(how, "region=mainland; via=base-mainland");
    assert_eq!(cn["url"], format!("https://cdn.example.cn/lf/blobs/{sha}"));
    let (chained, how) = check(
        &server.url,
        D3,
        &[("x-forwarded-for", "114.114.114.114, 10.1.2.3")],
    )
    .await;
    assert_eq!(how, "region=mainland; via=base-mainland", "{chained}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_downloads_come_from_the_bucket_and_documents_stay_private() {
    let test = "public";
    let (Some(bucket), Some(private)) = (test_bucket(test), private_bucket(test)) else {
        return;
    };
    let web = std::env::var("LANDFALL_TEST_S3_WEB").expect("scripts/test sets it with the bucket");
    let prefix = bucket
        .split('?')
        .next()
        .unwrap()
        .trim_start_matches("s3://landfall-test/")
        .to_owned();
    let base = format!("{web}/{prefix}/blobs");

    // Documents beside public bundles are refused at start, naming the fix.
    let refused = crate::support::run(
        crate::support::landfall()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(tempfile::tempdir().unwrap().path())
            .args(["--blobs", &bucket, "--download", "public"])
            .args(["--download-base", &base]),
    );
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("private bucket"), "{refused:#?}");

    let server = Server::start_with_args(&[
        "--blobs",
        &bucket,
        "--documents",
        &private,
        "--download",
        "public",
        "--download-base",
        &base,
    ])
    .await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();
    let (answer, how) = check(&server.url, D3, &[]).await;
    assert_eq!(how, "region=global; via=public", "{answer}");
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{base}/")), "{url}");
    // Garage's website endpoint plays the CDN: anonymous, bucket chosen by Host.
    let http = reqwest::Client::new();
    let anon = |u: &str, bucket: &str| {
        http.get(u)
            .header("host", format!("{bucket}.web.garage.localhost"))
            .send()
    };
    let zip = anon(url, "landfall-test").await.unwrap();
    assert_eq!(zip.status(), 200, "{url}");
    assert_eq!(answer["checksum"], sha256(&zip.bytes().await.unwrap()));

    // An ICP document goes to the private bucket, which nobody can read anonymously.
    let (pdf, doc) = add_document(&server, work.path());
    let doc_sha = sha256(&std::fs::read(&pdf).unwrap());
    let private_prefix = private
        .split('?')
        .next()
        .unwrap()
        .trim_start_matches("s3://landfall-test-private/")
        .to_owned();
    for (u, bucket) in [
        (
            format!("{web}/{private_prefix}/{doc_sha}"),
            "landfall-test-private",
        ),
        (
            format!("{web}/{prefix}/icp-documents/{doc_sha}"),
            "landfall-test",
        ),
        (format!("{base}/{doc_sha}"), "landfall-test"),
    ] {
        let got = anon(&u, bucket).await.unwrap().status();
        assert!(got.is_client_error(), "{u} on {bucket} answered {got}");
    }
    // … and the desk still serves it, authorised.
    let out = work.path().join("copy.pdf");
    server
        .cli(&[
            "icp",
            "documents",
            "get",
            APP,
            &doc,
            "-o",
            out.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&pdf).unwrap());
}

#[tokio::test]
async fn an_unreachable_database_or_bucket_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |extra: &[&str]| {
        crate::support::run(
            crate::support::landfall()
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path())
                .args(extra)
                .env("LANDFALL_ADMIN_TOKEN", crate::support::random_token()),
        )
    };
    let r = serve(&["--database", "postgres://lf:pw-secret@127.0.0.1:1/landfall"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("postgres://127.0.0.1:1/landfall") && !r.stderr.contains("pw-secret"),
        "{r:#?}"
    );
    let r = serve(&[
        "--blobs",
        "s3://nowhere/lf?endpoint=http://127.0.0.1:1&region=x",
    ]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("s3://nowhere/lf/blobs at http://127.0.0.1:1"),
        "{r:#?}"
    );
    let r = serve(&["--download", "presign"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("S3-compatible bucket"), "{r:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_and_documents_move_from_the_data_dir_to_a_bucket() {
    let test = "migrate_blobs";
    let Some(bucket) = test_bucket(test) else {
        return;
    };
    let mut server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();
    let (pdf, doc) = add_document(&server, work.path());
    let (before, _) = check(&server.url, D1, &[]).await;
    assert!(server.terminate().success());

    let from = format!("file://{}", server.data_dir().join("blobs").display());
    let copy = |extra: &[&str]| {
        crate::support::run(
            crate::support::landfall()
                .args([
                    "migrate", "blobs", "--from", &from, "--to", &bucket, "--json",
                ])
                .args(extra),
        )
    };
    let done = copy(&[]).ok().json();
    assert_eq!(done["stores"][0]["what"], "bundle blobs", "{done}");
    assert_eq!(
        done["stores"][0]["blobs"], done["stores"][0]["verified"],
        "{done}"
    );
    assert_eq!(done["stores"][1]["copied"], 1, "the document: {done}");
    // Once copied, the target is not empty: refused without --resume, verified again with it.
    let again = copy(&[]);
    assert_eq!(again.code, 4, "{again:#?}");
    assert!(again.stderr.contains("--resume"), "{again:#?}");
    let resumed = copy(&["--resume"]).ok().json();
    assert_eq!(resumed["stores"][0]["copied"], 0, "{resumed}");

    // The same server on the bucket answers the same and serves the same bytes and document.
    server.set_args(&["--blobs", &bucket]);
    server.restart().await;
    let (after, _) = check(&server.url, D1, &[]).await;
    assert_eq!(after["checksum"], before["checksum"]);
    download_matches(&after).await;
    let out = work.path().join("copy.pdf");
    server
        .cli(&[
            "icp",
            "documents",
            "get",
            APP,
            &doc,
            "-o",
            out.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&pdf).unwrap());

    // And back: from the bucket to a fresh directory, the same blobs byte for byte.
    let back = work.path().join("back");
    let to = format!("file://{}", back.join("blobs").display());
    let home = crate::support::run(
        crate::support::landfall()
            .args(["migrate", "blobs", "--from", &bucket, "--to", &to, "--json"]),
    )
    .ok()
    .json();
    assert_eq!(
        home["stores"][0]["copied"], done["stores"][0]["blobs"],
        "{home}"
    );
    let files = |dir: &std::path::Path| {
        let mut v: Vec<(String, Vec<u8>)> = walk(dir)
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let blobs = files(&server.data_dir().join("blobs"));
    assert!(!blobs.is_empty());
    assert_eq!(files(&back.join("blobs")), blobs);
    assert_eq!(
        files(&back.join("icp-documents")),
        files(&server.data_dir().join("icp-documents"))
    );
}

/// A TCP forwarder that can be cut: while cut, live connections are dropped and new ones closed at
/// once (what a database failover or a network partition looks like to the server).
struct Cable {
    addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Cable {
    async fn to(target: String) -> Cable {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let target = target.clone();
                conns2.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                }));
            }
        });
        Cable { addr, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn heal(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_keeps_devices_answered_and_refuses_writes_cleanly() {
    let test = "database_outage";
    let Some(pg) = FreshPg::create(test).await else {
        return;
    };
    // The server reaches PostgreSQL through a cable the test can cut.
    let real = reqwest::Url::parse(pg.url()).unwrap();
    let target = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    );
    let cable = Cable::to(target.clone()).await;
    let through = pg.url().replacen(&target, &cable.addr.to_string(), 1);
    let server = Server::start_with_args(&["--database", &through]).await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();
    let (before, _) = check(&server.url, D1, &[]).await;
    assert_eq!(before["version"], "1.0.1");

    cable.cut();
    // Devices keep their answers (the catalog is in memory) and their downloads (local blobs).
    let (during, _) = check(&server.url, D1, &[]).await;
    assert_eq!(during, before);
    download_matches(&during).await;
    // Stats: a 5xx, so the plugin keeps the batch and retries later.
    let mut event = device_info(APP, D1, "1.0.1");
    event["action"] = "set".into();
    let http = reqwest::Client::new();
    let stats = http
        .post(format!("{}/stats", server.url))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), 503);
    // An operator's write: 503 with a stable code, nothing half-written.
    let write = http
        .patch(format!(
            "{}/api/v1/apps/{APP}/channels/production",
            server.url
        ))
        .bearer_auth(&server.token)
        .json(&serde_json::json!({ "bundle": "builtin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 503, "{}", server.log());
    let body: Value = write.json().await.unwrap();
    assert_eq!(body["error"], "database_unavailable", "{body}");

    // Back: the same write goes through, without restarting anything.
    cable.heal();
    let start = Instant::now();
    loop {
        let retry = http
            .patch(format!(
                "{}/api/v1/apps/{APP}/channels/production",
                server.url
            ))
            .bearer_auth(&server.token)
            .json(&serde_json::json!({ "bundle": "builtin" }))
            .send()
            .await
            .unwrap();
        if retry.status() == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            retry.text().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (after, _) = check(&server.url, D1, &[]).await;
    assert_eq!(after["version"], "builtin", "{after}");
    let stats = http
        .post(format!("{}/stats", server.url))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_bucket_refuses_uploads_cleanly_and_recovers() {
    let test = "bucket_outage";
    let Some(bucket) = test_bucket(test) else {
        return;
    };
    let endpoint = bucket.split("endpoint=http://").nth(1).unwrap();
    let target = endpoint.split(['&', '/']).next().unwrap().to_owned();
    let cable = Cable::to(target.clone()).await;
    let through = bucket.replacen(&target, &cable.addr.to_string(), 1);
    let server = Server::start_with_args(&["--blobs", &through]).await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();
    let (before, _) = check(&server.url, D1, &[]).await;

    cable.cut();
    let (during, _) = check(&server.url, D1, &[]).await;
    assert_eq!(during, before, "update checks never touch the bucket");
    let download = reqwest::get(during["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(download.status(), 503);
    let refused = upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v2", "two"),
        "1.0.2",
    );
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("(HTTP 503, blobs_unavailable)"),
        "{refused:#?}"
    );
    let (still, _) = check(&server.url, D1, &[]).await;
    assert_eq!(still["version"], "1.0.1", "nothing half-written: {still}");

    cable.heal();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v2", "two"),
        "1.0.2",
    )
    .ok();
    let (after, _) = check(&server.url, D1, &[]).await;
    assert_eq!(after["version"], "1.0.2");
    download_matches(&after).await;
}

/// Every file under `dir` (recursively).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_sets_its_own_download_base_per_region() {
    let server = Server::start_with_args(&["--trusted-proxies", "127.0.0.1/32"]).await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    upload(
        &server,
        &server.token,
        &web_dist(work.path(), "v1", "one"),
        "1.0.1",
    )
    .ok();
    let cn = [("x-forwarded-for", "114.114.114.114")];
    let abroad = [("x-forwarded-for", "8.8.8.8")];
    let (before, how) = check(&server.url, D1, &cn).await;
    assert_eq!(how, "region=mainland; via=proxy");
    let sha = before["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    server
        .cli(&[
            "app",
            "set",
            APP,
            "--download-base-mainland",
            "https://cdn.example.cn/lf/",
        ])
        .ok();
    let shown = server.cli(&["app", "show", APP]).ok();
    assert!(
        shown.stdout.contains("https://cdn.example.cn/lf"),
        "{shown:#?}"
    );
    let (cn_answer, how) = check(&server.url, D1, &cn).await;
    assert_eq!(how, "region=mainland; via=app-base-mainland");
    assert_eq!(cn_answer["url"], format!("https://cdn.example.cn/lf/{sha}"));
    let (abroad_answer, how) = check(&server.url, D1, &abroad).await;
    assert_eq!(how, "region=global; via=proxy");
    assert_eq!(abroad_answer["url"], before["url"]);

    let refused = server.cli(&["app", "set", APP, "--download-base-global", "ftp://x"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("invalid_download_base"),
        "{refused:#?}"
    );
    server
        .cli(&["app", "set", APP, "--download-base-mainland", "none"])
        .ok();
    let (back, how) = check(&server.url, D1, &cn).await;
    assert_eq!(how, "region=mainland; via=proxy");
    assert_eq!(back["url"], before["url"]);
}
