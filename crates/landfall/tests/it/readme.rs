//! README.md runs as written, in order: every ```` ```sh ```` block is run with bash
//! (`set -euo pipefail`) against a real `landfall serve` on a fresh data dir, in one fresh working
//! directory, with the binary under test first on `PATH` and `LANDFALL_URL`/`LANDFALL_TOKEN` set
//! (what the README's skipped set-up blocks do by hand).
//!
//! A block that cannot run here (it starts the long-running server, builds, or runs the test
//! suite) is skipped only when the line before it (blank lines aside) is a marker
//! `<!-- readme-test: skip (why) -->`; nothing is skipped by guessing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Server, BIN, LANDFALL_VARS};

const MARKER: &str = "<!-- readme-test: skip";
/// Longest a single block may run.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A fenced `sh` block of the README.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
    skip: bool,
}

/// Every ```` ```sh ```` block of `markdown`, in order, with its skip marker.
fn sh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut marker: Option<usize> = None;
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.starts_with(MARKER) {
            assert!(
                trimmed.ends_with("-->"),
                "README.md:{}: the marker must be one line",
                i + 1
            );
            marker = Some(i + 1);
        } else if let Some(lang) = trimmed.strip_prefix("```") {
            let mut text = String::new();
            for (_, body) in lines.by_ref() {
                if body.trim() == "```" {
                    break;
                }
                text.push_str(body);
                text.push('\n');
            }
            if lang == "sh" {
                blocks.push(Block {
                    line: i + 1,
                    text,
                    skip: marker.take().is_some(),
                });
            } else if let Some(at) = marker {
                panic!("README.md:{at}: skip marker before a ```{lang} block, not a ```sh block");
            }
        } else if !trimmed.is_empty() {
            if let Some(at) = marker {
                panic!("README.md:{at}: skip marker not directly before a ```sh block");
            }
        }
    }
    blocks
}

#[test]
fn sh_blocks_are_found_with_their_markers() {
    let md =
        "text\n\n<!-- readme-test: skip (server) -->\n\n```sh\nserve\n```\n\n```json\n{}\n```\n\
              ```sh\na\nb\n```\n";
    let blocks = sh_blocks(md);
    assert_eq!(blocks.len(), 2);
    assert!(blocks[0].skip);
    assert_eq!(blocks[0].text, "serve\n");
    assert_eq!(blocks[0].line, 5);
    assert!(!blocks[1].skip);
    assert_eq!(blocks[1].text, "a\nb\n");
}

#[test]
#[should_panic(expected = "not directly before")]
fn a_stray_marker_is_an_error() {
    sh_blocks("<!-- readme-test: skip (x) -->\nsome text\n```sh\nls\n```\n");
}

/// Runs `script` with bash in `cwd`; returns (success, combined stdout+stderr).
fn run_block(script: &str, cwd: &Path, server: &Server) -> (bool, String) {
    let script_path = cwd.join(".readme-block.sh");
    std::fs::write(&script_path, format!("set -euo pipefail\n{script}")).unwrap();
    let out_path = cwd.join(".readme-block.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut dirs = vec![bin_dir.to_owned()];
            dirs.extend(std::env::split_paths(&p));
            std::env::join_paths(dirs).unwrap()
        }
        None => bin_dir.as_os_str().to_owned(),
    };
    let mut cmd = Command::new("bash");
    for var in LANDFALL_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .arg(&script_path)
        .current_dir(cwd)
        .env("PATH", path)
        .env("LANDFALL_URL", &server.url)
        .env("LANDFALL_TOKEN", &server.token)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("cannot run bash");
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&script_path);
    let _ = std::fs::remove_file(&out_path);
    match status {
        Some(s) => (s.success(), output),
        None => {
            output.push_str(&format!("\n(killed after {BLOCK_TIMEOUT:?})"));
            (false, output)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_runs_as_written() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let blocks = sh_blocks(&readme);
    let skipped = blocks.iter().filter(|b| b.skip).count();
    assert!(
        blocks.len() - skipped >= 5,
        "only {} runnable sh blocks in README.md",
        blocks.len() - skipped
    );

    let server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    for (n, block) in blocks.iter().enumerate() {
        if block.skip {
            println!("README.md:{} block {n}: skipped (marked)", block.line);
            continue;
        }
        let (ok, output) =
            tokio::task::block_in_place(|| run_block(&block.text, work.path(), &server));
        assert!(
            ok,
            "README.md:{} block {n} failed.\n---- block ----\n{}---- output ----\n{output}\n\
             ---- server log ----\n{}",
            block.line,
            block.text,
            server.log()
        );
        println!(
            "README.md:{} block {n}: ok ({} lines of output)",
            block.line,
            output.lines().count()
        );
    }
    println!(
        "{} blocks run, {skipped} skipped, in {:?}",
        blocks.len() - skipped,
        started.elapsed()
    );
}
