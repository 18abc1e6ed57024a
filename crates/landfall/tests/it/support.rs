//! Helpers: run the `landfall` binary, start and stop a real server.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_landfall");

/// Variables of the outer environment that must not leak into the binary under test.
pub const LANDFALL_VARS: [&str; 11] = [
    "LANDFALL_URL",
    "LANDFALL_TOKEN",
    "LANDFALL_LISTEN",
    "LANDFALL_DATA_DIR",
    "LANDFALL_DATABASE",
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

/// A loopback address nobody listens on, and the socket that keeps it so: bound, never listening,
/// so a connection is refused for as long as the socket lives (no pick-then-bind race).
pub fn refused_addr() -> (socket2::Socket, std::net::SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
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
///
/// The server listens on `127.0.0.1:0`; the harness reads the bound address from the
/// `listening on ADDR` line the server prints once bound (no port is picked before the bind).
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub token: String,
    env: Vec<(String, String)>,
    args: Vec<String>,
    data_dir: PathBuf,
    logs: Vec<PathBuf>,
    root: tempfile::TempDir,
    /// The server's database on the PostgreSQL pass (see [`on_postgres`]).
    _pg: Option<FreshPg>,
}

impl Server {
    /// Starts `landfall serve` with a fresh data dir and admin token, and waits until
    /// `GET /updates` answers `{"status":"ok"}`.
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

    /// [`Server::start`] on the embedded SQLite database whatever the pass (tests of the SQLite
    /// file itself: its permissions, its lock, copying it elsewhere).
    pub async fn start_on_sqlite() -> Server {
        Self::start_impl(&[("LANDFALL_LOG", "info")], &[], false).await
    }

    /// Environment variables and extra `landfall serve` arguments, on a fresh data dir (and on
    /// the PostgreSQL pass a fresh database, unless `extra` names one).
    pub async fn start_full(env: &[(&str, &str)], extra: &[&str]) -> Server {
        Self::start_impl(env, extra, true).await
    }

    async fn start_impl(env: &[(&str, &str)], extra: &[&str], allow_pg: bool) -> Server {
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("data");
        let mut server = Self::unstarted(root, data_dir, &random_token(), env);
        server.args = extra.iter().map(|a| (*a).to_owned()).collect();
        if allow_pg && on_postgres() && !extra.contains(&"--database") {
            let pg = FreshPg::create("landfall serve on PostgreSQL")
                .await
                .expect("LANDFALL_TEST_BACKEND=postgres needs PostgreSQL");
            server
                .args
                .extend(["--database".to_owned(), pg.url().to_owned()]);
            server._pg = Some(pg);
        }
        server.spawn().await;
        server
    }

    /// Starts `landfall serve` on an existing data dir (e.g. one written by an older release),
    /// authenticating with `token`; logs go under `root`, which lives as long as the server.
    pub async fn start_in(root: tempfile::TempDir, data_dir: PathBuf, token: &str) -> Server {
        let mut server = Self::unstarted(root, data_dir, token, &[("LANDFALL_LOG", "info")]);
        server.spawn().await;
        server
    }

    fn unstarted(
        root: tempfile::TempDir,
        data_dir: PathBuf,
        token: &str,
        env: &[(&str, &str)],
    ) -> Server {
        Server {
            child: None,
            url: String::new(),
            token: token.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            args: Vec::new(),
            data_dir,
            logs: Vec::new(),
            root,
            _pg: None,
        }
    }

    /// Run raw SQL on the server's own database, around the server (as someone with database
    /// access would): the SQLite file in the data dir, or the pass's PostgreSQL database.
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        use sqlx::{ConnectOptions, Connection, Executor};
        let affected = match &self._pg {
            Some(pg) => {
                let mut c = sqlx::PgConnection::connect(pg.url()).await.unwrap();
                let r = c.execute(sql).await.unwrap().rows_affected();
                c.close().await.unwrap();
                r
            }
            None => {
                let mut c = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.data_dir.join("landfall.db"))
                    .connect()
                    .await
                    .unwrap();
                let r = c.execute(sql).await.unwrap().rows_affected();
                c.close().await.unwrap();
                r
            }
        };
        affected
    }

    /// Replace the extra `landfall serve` arguments used by the next [`Server::restart`] (the
    /// PostgreSQL pass keeps the server's database).
    pub fn set_args(&mut self, extra: &[&str]) {
        self.args = extra.iter().map(|a| (*a).to_owned()).collect();
        if let Some(pg) = self._pg.as_ref().filter(|_| !extra.contains(&"--database")) {
            self.args
                .extend(["--database".to_owned(), pg.url().to_owned()]);
        }
    }

    /// The `--data-dir` of this server.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts the server again on the same data dir, token and environment (after
    /// [`Server::terminate`]); it gets a new port, so [`Server::url`] changes.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server before restarting it");
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let log = self
            .root
            .path()
            .join(format!("server-{}.log", self.logs.len() + 1));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = landfall()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .args(&self.args)
            .env("LANDFALL_ADMIN_TOKEN", &self.token)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("cannot start landfall serve");
        self.child = Some(child);
        self.logs.push(log);
        self.wait_ready().await;
    }

    /// The address from the current process's `listening on ADDR` line, once printed.
    fn bound_addr(&self) -> Option<String> {
        let log = std::fs::read_to_string(self.logs.last()?).ok()?;
        log.lines()
            .find_map(|l| l.strip_prefix("listening on "))
            .map(|a| a.trim().to_owned())
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("landfall serve exited early ({status}):\n{}", self.log());
            }
            if let Some(addr) = self.bound_addr() {
                self.url = format!("http://{addr}");
                let resp = http
                    .get(format!("{}/updates", self.url))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GET /updates on {addr}: {e}\n{}", self.log()));
                assert!(resp.status().is_success(), "GET /updates: {resp:?}");
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                assert_eq!(body, serde_json::json!({"status": "ok"}), "GET /updates");
                return;
            }
            if Instant::now() > deadline {
                panic!("landfall serve not ready after 60 s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's stdout+stderr so far (every start, oldest first).
    pub fn log(&self) -> String {
        let mut s = String::new();
        for (i, path) in self.logs.iter().enumerate() {
            if self.logs.len() > 1 {
                s.push_str(&format!("---- start {} ----\n", i + 1));
            }
            if let Ok(mut f) = std::fs::File::open(path) {
                let _ = f.read_to_string(&mut s);
            }
        }
        s
    }

    /// The current process's stdout+stderr so far.
    pub fn last_log(&self) -> String {
        self.logs
            .last()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
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

/// A tiny web bundle in `dir/<name>`: `index.html` and an `app.js` that calls `notifyAppReady()`,
/// both mentioning `label` (so each label zips to different bytes). Returns the directory.
pub fn web_dist(dir: &Path, name: &str, label: &str) -> String {
    let dist = dir.join(name);
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        format!("<!doctype html><title>{label}</title><script src=app.js></script>"),
    )
    .unwrap();
    std::fs::write(
        dist.join("app.js"),
        format!("window.label = {label:?}; notifyAppReady();"),
    )
    .unwrap();
    dist.to_str().unwrap().to_owned()
}

/// A complete, consistent ICP filing record (a Guangdong company with mainland servers), as
/// `landfall icp filing record` reads it.
pub fn icp_record() -> serde_json::Value {
    let person = |name: &str, id: &str, mobile: &str, email: &str| {
        serde_json::json!({
            "name": name, "id_type": "resident_id_card", "id_number": id,
            "id_valid_until": "2035-01-01", "mobile": mobile, "email": email
        })
    };
    serde_json::json!({
        "entity": {
            "nature": "enterprise", "ownership": "domestic", "name": "深圳鹿鸣科技有限公司",
            "certificate_type": "business_licence", "certificate_number": "91440300MA5FXXXX0U",
            "province": "guangdong", "city": "深圳市", "address": "广东省深圳市南山区科技园1号",
            "responsible": person("张三", "44030519900101123X", "13800138000", "zhang@luming.cn"),
            "responsible_is_legal_representative": true
        },
        "app": {
            "name": "鹿鸣记账",
            "platforms": [{"platform": "android", "package_name": "cn.luming.ledger",
                "cert_fingerprint": "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90"}],
            "domains": [{"name": "luming.cn", "expires_on": "2030-01-01", "holder": "深圳鹿鸣科技有限公司"}],
            "sdks": [],
            "responsible": person("李四", "44030519850615432X", "13900139000", "li@luming.cn"),
            "language": "zh-CN"
        },
        "access": [{
            "name": "阿里云", "access_method": "cloud", "server_province": "guangdong",
            "server_location": "cn-shenzhen", "ip_addresses": ["223.5.5.5"]
        }],
        "numbers": {}
    })
}

/// A plugin info object for `device_id` of `app_id` on `version_name` (builtin 1.0.0).
pub fn device_info(app_id: &str, device_id: &str, version_name: &str) -> serde_json::Value {
    serde_json::json!({
        "app_id": app_id, "device_id": device_id, "version_name": version_name,
        "version_build": "1.0.0", "version_code": "1", "version_os": "14",
        "platform": "android", "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true,
        "custom_id": "", "defaultChannel": ""
    })
}

/// A fresh PostgreSQL database for one test (dropped with the handle).
pub use landfall_store_postgres::testing::FreshDatabase as FreshPg;

/// Whether the suite runs on PostgreSQL (`LANDFALL_TEST_BACKEND=postgres`, set by the second pass
/// of `scripts/test`): servers the harness starts then get a fresh database each.
pub fn on_postgres() -> bool {
    std::env::var("LANDFALL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh prefix in the test bucket (`LANDFALL_TEST_S3`, set by `scripts/test`, which starts
/// Garage), as a `--blobs` URL. `None` (with a message) without one, except under CI.
pub fn test_bucket(test: &str) -> Option<String> {
    bucket_prefix("LANDFALL_TEST_S3", test)
}

/// Like [`test_bucket`], in the private bucket `LANDFALL_TEST_S3_PRIVATE`.
pub fn private_bucket(test: &str) -> Option<String> {
    bucket_prefix("LANDFALL_TEST_S3_PRIVATE", test)
}

fn bucket_prefix(var: &str, test: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{var} is not set: scripts/test starts Garage and sets it; CI must run {test}"
        );
        eprintln!("SKIPPED {test}: {var} is not set (scripts/test starts Garage)");
        return None;
    };
    let (bucket, query) = url.split_once('?').unwrap_or((&url, ""));
    let prefix = format!("{test}-{}", random_token());
    Some(format!("{}/{prefix}?{query}", bucket.trim_end_matches('/')))
}

/// `device`'s update answer from `server`, with the server's base URL replaced by `<base>` (the
/// port changes on restart, and another server on the same data must answer the same).
pub async fn update_answer(server: &Server, app_id: &str, device: &str) -> serde_json::Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/updates", server.url))
        .json(&device_info(app_id, device, "builtin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    serde_json::from_str(&body.to_string().replace(&server.url, "<base>")).unwrap()
}
