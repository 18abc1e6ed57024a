//! Helpers: run the `landfall` binary, start and stop a real server.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_landfall");

/// Variables of the outer environment that must not leak into the binary under test.
pub const LANDFALL_VARS: [&str; 10] = [
    "LANDFALL_URL",
    "LANDFALL_TOKEN",
    "LANDFALL_LISTEN",
    "LANDFALL_DATA_DIR",
    "LANDFALL_CONFIG",
    "LANDFALL_PUBLIC_URL",
    "LANDFALL_MAX_BUNDLE_BYTES",
    "LANDFALL_ADMIN_TOKEN",
    "LANDFALL_LOG",
    "RUST_LOG",
];

/// A finished CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (panics with the whole run otherwise).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Panics unless the exit code is 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        self
    }
}

/// A `landfall` command with a clean `LANDFALL_*` environment.
pub fn landfall() -> Command {
    let mut cmd = Command::new(BIN);
    for var in LANDFALL_VARS {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `landfall args…` with `url`/`token` in the environment.
pub fn run_cli(url: &str, token: &str, args: &[&str]) -> Run {
    let mut cmd = landfall();
    cmd.env("LANDFALL_URL", url).env("LANDFALL_TOKEN", token);
    run(cmd.args(args))
}

/// Runs a prepared command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("cannot run the landfall binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// 32 random hex characters.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `shared/reference/capgo-vectors` next to the repository.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/capgo-vectors")
}

/// A running `landfall serve`, killed on drop if still running.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub token: String,
    log: PathBuf,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts `landfall serve` on a free port with a fresh data dir and admin token, and waits
    /// until `GET /updates` answers `{"status":"ok"}`.
    pub async fn start() -> Server {
        Self::start_full(&[("LANDFALL_LOG", "info")], &[]).await
    }

    /// [`Server::start`] with these extra environment variables (and no `LANDFALL_LOG` unless
    /// given here). stdout and stderr both go to a file ([`Server::log`]), not a terminal.
    pub async fn start_with(env: &[(&str, &str)]) -> Server {
        Self::start_full(env, &[]).await
    }

    /// [`Server::start`] with extra `landfall serve` arguments.
    pub async fn start_with_args(extra: &[&str]) -> Server {
        Self::start_full(&[("LANDFALL_LOG", "info")], extra).await
    }

    /// Environment variables and extra `landfall serve` arguments.
    pub async fn start_full(env: &[(&str, &str)], extra: &[&str]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let token = random_token();
        let log = data.path().join("server.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = landfall()
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data.path().join("data"))
            .args(extra)
            .env("LANDFALL_ADMIN_TOKEN", &token)
            .envs(env.iter().copied())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("cannot start landfall serve");
        let mut server = Server {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}"),
            token,
            log,
            _data: data,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("landfall serve exited early ({status}):\n{}", self.log());
            }
            if let Ok(resp) = http.get(format!("{}/updates", self.url)).send().await {
                if resp.status().is_success() {
                    let body: serde_json::Value = resp.json().await.unwrap_or_default();
                    assert_eq!(body, serde_json::json!({"status": "ok"}), "GET /updates");
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("landfall serve not ready after 60 s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self._data.path().join("data")
    }

    /// The server's stdout+stderr so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Runs the CLI against this server with its admin token.
    pub fn cli(&self, args: &[&str]) -> Run {
        run_cli(&self.url, &self.token, args)
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server already stopped");
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("landfall serve ignored SIGTERM for 20 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                eprintln!("---- landfall serve log ----\n{}", self.log());
            }
        }
    }
}
