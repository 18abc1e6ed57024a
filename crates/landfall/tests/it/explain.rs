//! `landfall device explain` against the real binary: the explanation agrees with the answer the
//! device really gets from `/updates` — inside and outside a rollout's share, after a flag blocks
//! it, and with an override — and names the rule that decided.

use landfall_core::decide::rollout_bucket;

use crate::support::{update_answer, web_dist, Server};

const APP: &str = "com.example.explain";

fn explain(server: &Server, device: &str) -> serde_json::Value {
    server
        .cli(&["--json", "device", "explain", APP, device])
        .ok()
        .json()
}

#[tokio::test]
async fn explain_agrees_with_the_update_check_and_names_the_rule() {
    let server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    for v in ["1.0.1", "1.0.2", "1.0.3"] {
        let dist = web_dist(work.path(), v, v);
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
    server
        .cli(&["channel", "create", APP, "beta", "--bundle", "1.0.3"])
        .ok();
    server
        .cli(&[
            "channel",
            "set",
            APP,
            "production",
            "--bundle",
            "1.0.1",
            "--rollout-bundle",
            "1.0.2",
            "--rollout-percent",
            "25",
        ])
        .ok();
    let channels = server.cli(&["--json", "channel", "list", APP]).ok().json();
    let production = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "production")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let ids: Vec<String> = (1..400)
        .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
        .collect();
    let inside = ids
        .iter()
        .find(|d| rollout_bucket(d, production, "1.0.2") < 2500)
        .unwrap();
    let outside = ids
        .iter()
        .find(|d| rollout_bucket(d, production, "1.0.2") >= 2500)
        .unwrap();

    for (device, expected) in [(inside, "1.0.2"), (outside, "1.0.1")] {
        let real = update_answer(&server, APP, device).await;
        assert_eq!(real["version"], expected, "{real}");
        let e = explain(&server, device);
        assert_eq!(e["channel"], "production", "{e}");
        assert_eq!(e["channel_rule"], "public", "{e}");
        assert_eq!(e["channel_bundle"], "1.0.1", "{e}");
        let r = &e["rollout"];
        assert_eq!(
            r["bucket"],
            rollout_bucket(device, production, "1.0.2"),
            "{e}"
        );
        assert_eq!(
            (r["threshold"].as_u64(), r["percent"].as_f64()),
            (Some(2500), Some(25.0))
        );
        assert_eq!(r["chosen"], expected == "1.0.2", "{e}");
        assert_eq!(
            (e["answer"].as_str(), e["bundle"].as_str()),
            (Some("update"), Some(expected))
        );
    }
    // The human form, in Chinese.
    let zh = crate::support::run(
        crate::support::landfall()
            .env("LANDFALL_URL", &server.url)
            .env("LANDFALL_TOKEN", &server.token)
            .env("LANDFALL_LANG", "zh")
            .args(["device", "explain", APP, inside]),
    )
    .ok();
    assert!(zh.stdout.contains("灰度  1.0.2 比例 25%"), "{zh:#?}");
    assert!(zh.stdout.contains("入选"), "{zh:#?}");
    assert!(zh.stdout.contains("应答  更新到 1.0.2"), "{zh:#?}");

    // A flag that blocks: the same refusal as the real answer.
    server
        .cli(&["channel", "set", APP, "production", "--allow-prod=false"])
        .ok();
    let real = update_answer(&server, APP, outside).await;
    let e = explain(&server, outside);
    assert_eq!(e["answer"], "no_update", "{e}");
    assert_eq!(e["error"], real["error"], "{e} vs {real}");
    assert_eq!(
        (e["error"].as_str(), e["kind"].as_str()),
        (Some("disable_prod_build"), Some("blocked"))
    );

    // An override wins over the public channel.
    server
        .cli(&["device", "override", APP, outside, "--channel", "beta"])
        .ok();
    let real = update_answer(&server, APP, outside).await;
    let e = explain(&server, outside);
    assert_eq!(
        (e["channel"].as_str(), e["channel_rule"].as_str()),
        (Some("beta"), Some("override"))
    );
    assert_eq!(e["bundle"], real["version"], "{e} vs {real}");
    assert_eq!(e["bundle"], "1.0.3");
    assert!(e["rollout"].is_null(), "{e}");

    // Unknown and malformed device ids.
    let r = server.cli(&[
        "device",
        "explain",
        APP,
        "00000000-0000-4000-8000-ffffffffffff",
    ]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(r.stderr.contains("has not checked in"), "{r:#?}");
    let r = server.cli(&["device", "explain", APP, "not-a-uuid"]);
    assert_ne!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("is not a UUID"), "{r:#?}");
}
