//! People, not just tokens: `landfall user …` against the real binary, signing in over HTTP, and
//! a signed-in operator's writes while devices talk to the server.

use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use landfall_client::{Client, UpdateChannel};
use serde_json::{json, Value};

use crate::support::{device_info, landfall, web_dist, Run, Server};

const APP: &str = "com.example.people";
const PW: &str = "a long enough password";

/// `landfall args…` with `stdin` written to its standard input.
fn run_with_stdin(cmd: &mut std::process::Command, stdin: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the landfall binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn cli(server: &Server) -> std::process::Command {
    let mut c = landfall();
    c.env("LANDFALL_URL", &server.url)
        .env("LANDFALL_TOKEN", &server.token);
    c
}

#[tokio::test]
async fn the_first_user_is_created_offline_then_signs_in_over_http() {
    let mut server = Server::start_on_sqlite().await;
    let data = server.data_dir().to_owned();
    let create = |password: &str| {
        let mut c = landfall();
        c.args([
            "user",
            "create",
            "root",
            "--role",
            "*:admin",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&data);
        run_with_stdin(&mut c, &format!("{password}\n"))
    };
    // Refused while the server holds the data dir.
    let r = create(PW);
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(
        r.stderr.contains("in use by another landfall process"),
        "{r:#?}"
    );
    assert!(server.terminate().success());
    // A short password is refused before anything is written.
    let r = create("too short");
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("at least 10 characters"), "{r:#?}");
    let r = create(PW).ok();
    assert!(
        r.stdout.contains("Created user root with roles *:admin"),
        "{r:#?}"
    );
    assert!(!r.stdout.contains(PW) && !r.stderr.contains(PW));
    server.restart().await;

    // Signing in over HTTP: the cookie, then an admin action with the CSRF token.
    let anonymous = Client::new(&server.url, None).unwrap();
    let wrong = anonymous
        .sign_in("root", "not the password")
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("bad_credentials"), "{wrong}");
    let signed_in = anonymous.sign_in("root", PW).await.unwrap();
    assert_eq!(signed_in.info.user.username, "root");
    let root = Client::new(&server.url, None)
        .unwrap()
        .with_session(&signed_in);
    assert_eq!(root.session().await.unwrap(), signed_in.info);
    root.create_app(&landfall_client::CreateApp {
        app_id: APP.into(),
        name: None,
    })
    .await
    .unwrap();
    let audit = root.audit(APP, None, None).await.unwrap();
    assert_eq!(audit[0].actor, "user:root");

    // The CLI manages users through the API: a viewer, listed, disabled, new password.
    let r = run_with_stdin(
        cli(&server).args([
            "user",
            "create",
            "vera",
            "--role",
            &format!("{APP}:viewer"),
            "--password-stdin",
        ]),
        &format!("{PW}\n"),
    )
    .ok();
    assert!(r.stdout.contains("Created user vera"), "{r:#?}");
    let vera = Client::new(&server.url, None)
        .unwrap()
        .with_session(&anonymous.sign_in("vera", PW).await.unwrap());
    assert_eq!(vera.list_apps().await.unwrap().len(), 1);
    let r = crate::support::run(cli(&server).args(["user", "list"])).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("USERNAME"), "{}", r.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("root ") && l.contains("*:admin")),
        "{}",
        r.stdout
    );
    let r = crate::support::run(
        cli(&server)
            .args(["user", "list"])
            .env("LANDFALL_LANG", "zh_CN.UTF-8"),
    )
    .ok();
    assert!(r.stdout.starts_with("用户名"), "{}", r.stdout);
    let r = crate::support::run(cli(&server).args(["--json", "user", "list"])).ok();
    assert_eq!(
        r.json()[1]["roles"],
        json!([{ "app": APP, "role": "viewer" }])
    );

    let r = crate::support::run(cli(&server).args(["user", "disable", "vera"])).ok();
    assert!(r.stdout.contains("Disabled user vera"), "{r:#?}");
    let refused = vera.list_apps().await.unwrap_err();
    assert!(refused.to_string().contains("unauthenticated"), "{refused}");
    let r = run_with_stdin(
        cli(&server).args(["user", "passwd", "root", "--password-stdin"]),
        "another long password\n",
    )
    .ok();
    assert!(r.stdout.contains("Changed the password of root"), "{r:#?}");
    // The password change ended root's session too.
    assert!(root.session().await.is_err());
    anonymous
        .sign_in("root", "another long password")
        .await
        .unwrap();
    // Without --password-stdin and without a terminal, the CLI says how to pass it.
    let r = crate::support::run(
        cli(&server)
            .args(["user", "passwd", "root"])
            .env("LANDFALL_LANG", "en"),
    );
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("--password-stdin"), "{r:#?}");
}

fn device(i: u64) -> Value {
    device_info(
        APP,
        &format!("{:08x}-0000-4000-8000-{:012x}", i as u32, i),
        "builtin",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_in_releaser_moves_channels_under_device_traffic() {
    let server = Server::start().await;
    let admin = Client::new(&server.url, Some(server.token.clone())).unwrap();
    admin
        .create_app(&landfall_client::CreateApp {
            app_id: APP.into(),
            name: None,
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for v in ["1.0.0", "1.0.1"] {
        let dist = web_dist(dir.path(), v, v);
        server
            .cli(&[
                "bundle",
                "upload",
                APP,
                &dist,
                "--version",
                v,
                "--channel",
                "production",
            ])
            .ok();
    }
    admin
        .create_user(&landfall_client::CreateUser {
            username: "rel".into(),
            password: PW.into(),
            roles: vec![landfall_client::RoleGrant {
                app: APP.into(),
                role: "releaser".into(),
            }],
        })
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let device_calls = Arc::new(AtomicU64::new(0));
    let device_failures = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for worker in 0..8u64 {
        let (stop, calls, fails) = (stop.clone(), device_calls.clone(), device_failures.clone());
        let url = server.url.clone();
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = worker * 1_000_000;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (path, body) = if worker % 4 == 0 {
                    ("updates", device(i % 5_000))
                } else {
                    let mut ev = device(i % 5_000);
                    ev["action"] = json!("set");
                    ev["version_name"] = json!("1.0.1");
                    ("stats", Value::Array(vec![ev]))
                };
                match http.post(format!("{url}/{path}")).json(&body).send().await {
                    Ok(r) if r.status() == reqwest::StatusCode::OK => {
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/{path} answered {}", r.status());
                    }
                    Err(e) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/{path} failed: {e}");
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The releaser signs in again and again (each a write) and moves the channel back and forth.
    let anonymous = Client::new(&server.url, None).unwrap();
    let mut failures = Vec::new();
    let mut moves = 0;
    for step in 0..40 {
        let rel = match anonymous.sign_in("rel", PW).await {
            Ok(s) => Client::new(&server.url, None).unwrap().with_session(&s),
            Err(e) => {
                failures.push(format!("sign-in {step}: {e}"));
                continue;
            }
        };
        for _ in 0..3 {
            let bundle = if moves % 2 == 0 { "1.0.0" } else { "1.0.1" };
            moves += 1;
            let change = UpdateChannel {
                bundle: Some(bundle.into()),
                ..Default::default()
            };
            match rel.update_channel(APP, "production", &change).await {
                Ok(c) if c.bundle == bundle => {}
                Ok(c) => failures.push(format!("move {moves}: channel on {:?}", c.bundle)),
                Err(e) => failures.push(format!("move {moves}: {e}")),
            }
        }
        if let Err(e) = rel.session().await {
            failures.push(format!("session {step}: {e}"));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", server.log());
    assert_eq!(
        device_failures.load(Ordering::Relaxed),
        0,
        "{}",
        server.log()
    );
    assert!(device_calls.load(Ordering::Relaxed) > 100);
    let history = admin.channel_history(APP, "production").await.unwrap();
    assert!(history.iter().filter(|h| h.actor == "user:rel").count() >= 100);
}
