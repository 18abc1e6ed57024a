//! Upgrade: a data dir written by the previous release opens with this binary (migrations run)
//! and serves the same answers. The fixture and the released binary's answers were made by
//! `tests/fixtures/make-upgrade-fixture.sh` (see there how).

use std::path::Path;

use serde_json::{json, Value};

use crate::support::Server;

const FIXTURE: &str = "22e14ca";

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// A URL as a path: the released binary answered on another port.
fn path_of(url: &Value) -> Value {
    let s = url.as_str().unwrap_or_default();
    let path = s
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    json!(path)
}

/// An update answer with URLs reduced to paths. `link`/`comment` are dropped: since issue 8 they
/// reach devices only when the app turns `expose_metadata` on (Capgo's default, off).
fn comparable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("link");
        o.remove("comment");
        if let Some(u) = o.get("url").cloned() {
            o.insert("url".into(), path_of(&u));
        }
        if let Some(Value::Array(files)) = o.get_mut("manifest") {
            for f in files {
                let u = f["download_url"].clone();
                f["download_url"] = path_of(&u);
            }
        }
    }
    v
}

fn device(app: &str, i: u64, version: &str) -> Value {
    json!({"platform": "android", "device_id": format!("00000000-0000-4000-8000-{i:012x}"), "app_id": app,
        "custom_id": "", "version_build": "1.0.0", "version_code": "10", "version_os": "14",
        "version_name": version, "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true,
        "defaultChannel": ""})
}

#[tokio::test]
async fn a_data_dir_of_the_previous_release_serves_the_same_answers() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join(format!("upgrade-{FIXTURE}.json"))).unwrap(),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(fixtures().join(format!("upgrade-{FIXTURE}.tar.gz")))
        .arg("-C")
        .arg(root.path())
        .status()
        .unwrap();
    assert!(status.success(), "cannot unpack the fixture");
    let data = root.path().join("data");
    let token = expected["token"].as_str().unwrap().to_owned();
    let app = expected["app"].as_str().unwrap().to_owned();
    let server = Server::start_in(root, data, &token).await;
    let http = reqwest::Client::new();

    // Every update answer of the released binary, again.
    for (key, want) in expected["updates"].as_object().unwrap() {
        let body = match key.as_str() {
            "on-1.0.1" => device(&app, 3, "1.0.1"),
            hex => device(&app, u64::from_str_radix(hex, 16).unwrap(), "builtin"),
        };
        let got: Value = http
            .post(format!("{}/updates", server.url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            comparable(got),
            comparable(want.clone()),
            "update answer for device {key}"
        );
    }
    // The answers name blobs that are still served.
    let some_url = expected["updates"]
        .as_object()
        .unwrap()
        .values()
        .find_map(|v| v["url"].as_str().map(|u| path_of(&json!(u))))
        .unwrap();
    let r = http
        .get(format!("{}{}", server.url, some_url.as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{some_url}");

    // Channels (targets, rollouts, flags), bundles and the ICP record are unchanged.
    let api = |path: String| {
        let (http, token, url) = (http.clone(), token.clone(), server.url.clone());
        async move {
            let r = http
                .get(format!("{url}/api/v1{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    let channels = api(format!("/apps/{app}/channels")).await;
    let pick = |c: &Value| {
        json!([
            c["name"],
            c["bundle"],
            c["flags"],
            c["rollout"]["bundle"],
            c["rollout"]["percent"],
            c["rollout"]["paused"]
        ])
    };
    let got: Vec<Value> = channels.as_array().unwrap().iter().map(pick).collect();
    let want: Vec<Value> = expected["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(pick)
        .collect();
    assert_eq!(got, want);
    let bundles = api(format!("/apps/{app}/bundles")).await;
    let pick = |b: &Value| {
        json!([
            b["version"],
            b["sha256"],
            b["size"],
            b["comment"],
            b["manifest_files"]
        ])
    };
    let got: Vec<Value> = bundles.as_array().unwrap().iter().map(pick).collect();
    let want: Vec<Value> = expected["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(pick)
        .collect();
    assert_eq!(got, want);
    let filing = api(format!("/apps/{app}/icp/filing")).await;
    assert_eq!(filing["record"], expected["filing"]["record"]);
    assert_eq!(filing["state"], expected["filing"]["state"]);
    // New columns got their defaults.
    let info = api(format!("/apps/{app}")).await;
    assert_eq!(
        (
            info["expose_metadata"].clone(),
            info["allow_device_custom_id"].clone()
        ),
        (json!(false), json!(true))
    );
}
