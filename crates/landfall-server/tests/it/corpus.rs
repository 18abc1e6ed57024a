//! Delta updates on the real release pairs of `shared/corpus/`: a device on A downloads no more
//! than the Capgo CLI's delta rule says, and unchanged files are stored once.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn zip_dir(dir: &std::path::Path) -> Vec<u8> {
    use std::io::Write;
    let files = landfall_crypto::walk_dir(dir).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_level(Some(9));
    for (path, data) in files {
        w.start_file(path, opts).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Bytes a delta transfers per the CLI rule, from the pair's changes.tsv (modified + added files).
fn cli_rule_bytes(pair: &str) -> u64 {
    let tsv = std::fs::read_to_string(corpus().join(pair).join("changes.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0] != "D").then(|| cols[4].parse::<u64>().unwrap())
        })
        .sum()
}

async fn run_pair(pair: &str) {
    let app = TestApp::new_with_limit(64 << 20).await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let a = zip_dir(&corpus().join(pair).join("A"));
    let b = zip_dir(&corpus().join(pair).join("B"));
    let r = app
        .upload(&app.admin, "version=1.0.0&channel=production&delta=true", a)
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let b_len = b.len() as u64;
    let r = app
        .upload(&app.admin, "version=1.0.1&channel=production&delta=true", b)
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let d = r.json()["delta"].clone();
    let download = d["download_bytes_from_previous"].as_u64().unwrap();
    let limit = cli_rule_bytes(pair);
    let stored: u64 = app
        .state
        .blobs
        .list()
        .await
        .unwrap()
        .iter()
        .map(|b| b.size)
        .sum();
    println!(
        "corpus {pair}: delta download {download} B (CLI rule {limit} B), full zip B {b_len} B, \
         files {} reused {}, server storage for A+B {stored} B",
        d["files"], d["reused_files"]
    );
    assert!(
        download <= limit,
        "{pair}: delta downloads {download} B, more than the CLI rule's {limit} B"
    );
    assert!(download < b_len, "{pair}: delta must beat the full zip");
}

#[tokio::test]
async fn corpus_01_ionic_core() {
    run_pair("01-ionic-core-dist-9.0.4-to-9.0.5").await;
}

#[tokio::test]
async fn corpus_02_react_vite() {
    run_pair("02-react-vite-code-change").await;
}

#[tokio::test]
async fn corpus_04_vue_image() {
    run_pair("04-vue-vite-image-change").await;
}

#[tokio::test]
async fn corpus_06_stable_names() {
    run_pair("06-react-vite-code-change-stable-names").await;
}
