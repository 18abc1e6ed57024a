//! [`Store`] cases about racing writers and listings, run by every metadata backend through
//! [`store_cases!`](crate::store_cases): each gets a fresh, empty store behind an `Arc`.

use std::sync::Arc;

use crate::*;

fn new_bundle(app: &str, version: &str, sha: &str) -> NewBundle {
    NewBundle {
        app_id: app.into(),
        version: version.into(),
        size: 10,
        sha256: sha.into(),
        min_update_version: None,
        link: None,
        comment: None,
        variants: Vec::new(),
    }
}

/// Twenty uploads of one version with the same bytes insert it once and create the channel once;
/// other bytes under that version are refused, however many try.
pub async fn concurrent_uploads_of_one_version_insert_it_once(store: Arc<dyn Store>) {
    let app = "com.example.app";
    store.create_app(app, "Example", "admin").await.unwrap();
    let sha = "aa".repeat(32);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let b = new_bundle(app, "1.0.0", &sha);
            tokio::spawn(async move {
                let point = PointChannel {
                    name: "production".into(),
                    end_rollout: false,
                };
                store.insert_bundle(b, Some(point), "ci").await
            })
        })
        .collect();
    let mut inserted = 0;
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        inserted += usize::from(!r.existed);
        created += usize::from(r.channel_created);
        assert_eq!(r.channel.unwrap().bundle_id, Some(r.bundle.id));
    }
    assert_eq!((inserted, created), (1, 1));
    assert_eq!(store.list_bundles(app).await.unwrap().len(), 1);
    assert_eq!(store.list_channels(app).await.unwrap().len(), 1);
    // Other bytes under the same name are refused, however many try.
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let store = store.clone();
            let b = new_bundle(app, "1.0.0", &"bb".repeat(32));
            tokio::spawn(async move { store.insert_bundle(b, None, "ci").await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(StoreError::Conflict(_))));
    }
}

/// Kill-switch batches that move the same channels in opposite orders never interleave: after
/// each, every channel agrees, and each batch wrote one history entry per channel.
pub async fn concurrent_channel_batches_never_interleave(store: Arc<dyn Store>) {
    let app = "com.example.app";
    store.create_app(app, "Example", "admin").await.unwrap();
    let mut bundles = Vec::new();
    for v in ["1.0.0", "1.0.1"] {
        let sha = format!("{v:0>64}");
        let r = store
            .insert_bundle(new_bundle(app, v, &sha), None, "ci")
            .await
            .unwrap();
        bundles.push(r.bundle.id);
    }
    let mut channels = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let c = store
            .create_channel(
                NewChannel {
                    app_id: app.into(),
                    name: name.into(),
                    flags: default_flags(false),
                    bundle_id: Some(bundles[0]),
                },
                "admin",
            )
            .await
            .unwrap();
        channels.push(c.id);
    }
    // Each batch points every channel at one target, listing them in its own order.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let target = [None, Some(bundles[0]), Some(bundles[1])][i % 3];
            let mut ids = channels.clone();
            if i % 2 == 1 {
                ids.reverse();
            }
            tokio::spawn(async move {
                let moves = ids
                    .into_iter()
                    .map(|channel_id| ChannelMove {
                        channel_id,
                        change: ChannelChange {
                            target: Some(target),
                            reason: "kill_switch".into(),
                            ..Default::default()
                        },
                    })
                    .collect();
                store.update_channels(moves, "admin").await.unwrap();
                let all = store.list_channels(app).await.unwrap();
                let first = all[0].bundle_id;
                assert!(
                    all.iter().all(|c| c.bundle_id == first),
                    "channels disagree after a batch: {all:?}"
                );
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // Every batch wrote one history entry per channel (plus the creation).
    for id in channels {
        assert_eq!(store.channel_history(id).await.unwrap().len(), 21);
    }
}

/// An operator's override and the device's own choice racing on one device leave one row.
pub async fn concurrent_device_assignments_keep_one_row(store: Arc<dyn Store>) {
    let app = "com.example.app";
    store.create_app(app, "Example", "admin").await.unwrap();
    let c = store
        .create_channel(
            NewChannel {
                app_id: app.into(),
                name: "beta".into(),
                flags: default_flags(true),
                bundle_id: None,
            },
            "admin",
        )
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store
                        .set_override(app, "dev-1", Some(c.id), "admin")
                        .await
                        .map(|_| ())
                } else {
                    store
                        .set_device_channel(app, "dev-1", Some(c.id))
                        .await
                        .map(|_| ())
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.list_overrides(app).await.unwrap().len(), 1);
}

/// Device listings honour the limit and the filters, and count what they would list; the audit
/// log reads by time window.
pub async fn listings_limit_filter_and_count(store: Arc<dyn Store>) {
    let app = "com.example.app";
    store.create_app(app, "Example", "admin").await.unwrap();
    let seen: Vec<DeviceSeen> = (0..30)
        .map(|i| DeviceSeen {
            app_id: app.into(),
            device_id: format!("dev-{i:02}"),
            custom_id: if i % 3 == 0 {
                format!("user-{i}")
            } else {
                String::new()
            },
            version_name: if i < 20 {
                "1.0.0".into()
            } else {
                "1.0.1".into()
            },
            version_build: "1.0.0".into(),
            version_code: "1".into(),
            version_os: "14".into(),
            platform: if i % 2 == 0 {
                "ios".into()
            } else {
                "android".into()
            },
            plugin_version: "7.0.0".into(),
            is_emulator: false,
            is_prod: true,
            install_source: String::new(),
            channel: "production".into(),
            key_id: String::new(),
            seen_at: now_ms(),
        })
        .collect();
    store.upsert_devices(&seen).await.unwrap();
    let all = DeviceFilter {
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(store.list_devices(app, &all).await.unwrap().len(), 30);
    assert_eq!(store.count_devices(app, &all).await.unwrap(), 30);
    let page = DeviceFilter {
        limit: 7,
        ..Default::default()
    };
    assert_eq!(store.list_devices(app, &page).await.unwrap().len(), 7);
    assert_eq!(
        store.count_devices(app, &page).await.unwrap(),
        30,
        "count ignores the limit"
    );
    let ios_new = DeviceFilter {
        platform: Some("ios".into()),
        version_name: Some("1.0.1".into()),
        limit: 1000,
        ..Default::default()
    };
    let got = store.list_devices(app, &ios_new).await.unwrap();
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got
        .iter()
        .all(|d| d.last.platform == "ios" && d.last.version_name == "1.0.1"));
    let search = DeviceFilter {
        search: Some("user-1".into()),
        limit: 1000,
        ..Default::default()
    };
    // user-12, user-15, user-18 (custom ids containing "user-1").
    assert_eq!(store.count_devices(app, &search).await.unwrap(), 3);
    let before = now_ms();
    store
        .update_app_settings(app, AppSettingsPatch::default(), "alice")
        .await
        .unwrap();
    let window = store.list_audit(app, before, now_ms() + 1).await.unwrap();
    assert_eq!(window.len(), 1, "{window:?}");
    assert!(store
        .list_audit(app, 0, before)
        .await
        .unwrap()
        .iter()
        .all(|e| e.at < before));
}

/// Audited writes from many tasks at once (tokens, apps, app switches): every one is an entry of
/// one unbroken chain, numbered without gaps, none lost.
pub async fn concurrent_audited_writes_form_one_chain(store: Arc<dyn Store>) {
    const TASKS: usize = 8;
    const EACH: usize = 6;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let app = format!("com.example.chain{t}");
            store.create_app(&app, "Chain", "admin").await.unwrap();
            for i in 0..EACH {
                let hash = format!("{t:02x}{i:02x}").repeat(16);
                let token = store
                    .create_token(&format!("t{t}-{i}"), &hash, &[], &format!("task{t}"))
                    .await
                    .unwrap();
                if i % 2 == 0 {
                    store
                        .revoke_token(token.id, &format!("task{t}"))
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let head = crate::conformance::verify_release_log(store.as_ref()).await;
    let entries = store.release_log(0, i64::MAX, 10_000).await.unwrap();
    let tokens = entries
        .iter()
        .filter(|e| e.action.starts_with("token_"))
        .count();
    assert_eq!(tokens, TASKS * (EACH + EACH / 2));
    assert_eq!(entries.len() as i64, head.seq);
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=head.seq).collect::<Vec<_>>());
}

/// Active devices and the version distribution (kept per hour of last check-in in
/// `device_hours`) and filtered device counts answer what a pass over every device answers, for
/// times inside hours, on hour boundaries and on a device's own check-in time, per channel, after
/// devices moved to another hour, bundle or channel.
pub async fn device_counts_equal_a_pass_over_the_devices(store: Arc<dyn Store>) {
    use landfall_core::analytics::DAY_MS;
    const HOUR: i64 = 3_600_000;
    let app = "com.example.app";
    store.create_app(app, "Example", "admin").await.unwrap();
    let t0 = 1_767_225_600_000; // an hour boundary
    let seen = |i: i64, version: &str, channel: &str, at: i64| DeviceSeen {
        app_id: app.into(),
        device_id: format!("dev-{i:02}"),
        custom_id: format!("user-{}", i % 7),
        version_name: version.into(),
        version_build: "1.0.0".into(),
        version_code: "1".into(),
        version_os: "14".into(),
        platform: if i % 3 == 0 { "ios" } else { "android" }.into(),
        plugin_version: "7.0.0".into(),
        is_emulator: false,
        is_prod: true,
        install_source: String::new(),
        channel: channel.into(),
        key_id: String::new(),
        seen_at: at,
    };
    let channels = ["production", "beta"];
    let first: Vec<_> = (0..60)
        .map(|i| {
            let v = format!("1.0.{}", i % 3);
            seen(i, &v, channels[(i % 2) as usize], t0 + i * 1_234_567)
        })
        .collect();
    store.upsert_devices(&first).await.unwrap();
    // Moves: later hour + other bundle + other channel; same hour; an older check-in (ignored).
    let mut moves: Vec<_> = (0..10)
        .map(|i| seen(i, "1.0.9", "beta", t0 + 30 * HOUR + i * 1_000))
        .collect();
    moves.push(seen(11, "1.0.2", "beta", t0 + 11 * 1_234_567 + 1));
    moves.push(seen(12, "1.0.0", "production", t0));
    moves.push(seen(
        13,
        "1.0.1",
        "production",
        t0 + 13 * 1_234_567 + 10 * HOUR,
    ));
    store.upsert_devices(&moves).await.unwrap();

    let all = store
        .list_devices(
            app,
            &DeviceFilter {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 60);
    let mut times: Vec<i64> = vec![t0 - 1, t0, t0 + 1, t0 + 5 * HOUR, t0 + 5 * HOUR - 1];
    times.extend(all.iter().map(|d| d.last.seen_at));
    times.extend(all.iter().map(|d| d.last.seen_at + 1));
    times.push(t0 + 40 * HOUR);
    for since in times {
        for channel in [None, Some("production"), Some("beta")] {
            let of = |d: &&Device| channel.is_none_or(|c| d.last.channel == c);
            let active = |from: i64| {
                all.iter()
                    .filter(of)
                    .filter(|d| d.last.seen_at >= from)
                    .count() as u64
            };
            let mut versions: std::collections::BTreeMap<String, u64> = Default::default();
            for d in all.iter().filter(of).filter(|d| d.last.seen_at >= since) {
                *versions.entry(d.last.version_name.clone()).or_default() += 1;
            }
            let mut versions: Vec<(String, u64)> = versions.into_iter().collect();
            versions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let q = StatsQuery {
                since_ms: since,
                now_ms: since + DAY_MS,
                bundle: None,
                channel: channel.map(str::to_owned),
                releases: 1,
            };
            let d = store.stats_data(app, &q).await.unwrap();
            let at = format!("since {} ms after t0, channel {channel:?}", since - t0);
            assert_eq!(d.active_day, active(since), "{at}");
            assert_eq!(d.active_month, active(since + DAY_MS - 30 * DAY_MS), "{at}");
            assert_eq!(d.versions, versions, "{at}");
        }
    }
    let filters = [
        (Some("beta"), None, None, None),
        (Some("production"), Some("1.0.1"), None, None),
        (Some("beta"), Some("1.0.9"), Some("android"), None),
        (None, Some("1.0.2"), None, None),
        (None, None, Some("ios"), None),
        (Some("beta"), None, None, Some("USER-3")),
        (None, None, None, Some("dev-1")),
    ];
    for (channel, version, platform, search) in filters {
        let f = DeviceFilter {
            channel: channel.map(str::to_owned),
            version_name: version.map(str::to_owned),
            platform: platform.map(str::to_owned),
            search: search.map(str::to_owned),
            limit: 10_000,
        };
        let want: Vec<&Device> = all
            .iter()
            .filter(|d| {
                channel.is_none_or(|c| d.last.channel == c)
                    && version.is_none_or(|v| d.last.version_name == v)
                    && platform.is_none_or(|p| d.last.platform == p)
                    && search.is_none_or(|s| {
                        let s = s.to_ascii_lowercase();
                        d.last.device_id.to_ascii_lowercase().contains(&s)
                            || d.last.custom_id.to_ascii_lowercase().contains(&s)
                    })
            })
            .collect();
        assert!(!want.is_empty(), "{f:?} matches something");
        assert_eq!(
            store.count_devices(app, &f).await.unwrap(),
            want.len() as u64,
            "{f:?}"
        );
        let listed = store.list_devices(app, &f).await.unwrap();
        let mut ids: Vec<_> = listed.iter().map(|d| d.last.device_id.clone()).collect();
        let mut want_ids: Vec<_> = want.iter().map(|d| d.last.device_id.clone()).collect();
        ids.sort();
        want_ids.sort();
        assert_eq!(ids, want_ids, "{f:?}");
        assert!(
            listed
                .windows(2)
                .all(|w| w[0].last.seen_at >= w[1].last.seen_at),
            "{f:?}: most recently seen first"
        );
    }
}

/// One `#[tokio::test]` per case. `$make` is an async expression yielding a fresh, empty store
/// and a guard that keeps its database alive for the case, as `Option<(Arc<dyn Store>, guard)>`
/// (`None`: skip, e.g. no database server outside CI).
#[macro_export]
macro_rules! store_cases {
    ($make:expr) => {
        $crate::store_cases!(@case $make, concurrent_uploads_of_one_version_insert_it_once);
        $crate::store_cases!(@case $make, concurrent_channel_batches_never_interleave);
        $crate::store_cases!(@case $make, concurrent_device_assignments_keep_one_row);
        $crate::store_cases!(@case $make, listings_limit_filter_and_count);
        $crate::store_cases!(@case $make, device_counts_equal_a_pass_over_the_devices);
        $crate::store_cases!(@case $make, concurrent_audited_writes_form_one_chain);
    };
    (@case $make:expr, $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            if let Some((store, _guard)) = $make {
                $crate::conformance::races::$name(store).await;
            }
        }
    };
}

/// ICP read-modify-write races: twenty writers holding the same revision of a filing (or an
/// incident) — exactly one wins, the others get `Conflict`, and the record-change log has one entry
/// per winning write.
pub async fn icp_revisions_race(store: Arc<dyn Store>, icp: Arc<dyn crate::icp::IcpStore>) {
    use crate::icp::NewRecordChange;
    use serde_json::json;
    let app = "com.example.icp";
    store.create_app(app, "ICP", "admin").await.unwrap();
    let first = icp
        .put_filing(app, &json!({"v": 0}), None, None, "alice")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let icp = icp.clone();
            tokio::spawn(async move {
                let change = NewRecordChange {
                    reason: Some(format!("writer {i}")),
                    sections: json!(["company"]),
                    record: json!({ "v": i }),
                    change_filing: false,
                };
                icp.put_filing(
                    app,
                    &json!({ "v": i }),
                    Some(first.revision),
                    Some(&change),
                    &format!("w{i}"),
                )
                .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(row) => won.push(row),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("a racing filing write failed otherwise: {e}"),
        }
    }
    assert_eq!(
        won.len(),
        1,
        "exactly one writer of revision {}",
        first.revision
    );
    let now = icp.get_filing(app).await.unwrap().unwrap();
    assert_eq!((now.revision, &now.data), (won[0].revision, &won[0].data));
    assert_eq!(icp.list_record_changes(app).await.unwrap().len(), 1);

    let incident = icp
        .insert_incident(app, &json!({"title": "t"}), "alice")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let icp = icp.clone();
            tokio::spawn(async move {
                icp.update_incident(app, incident.id, &json!({ "title": i }), 1, "bob")
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(row) => {
                wins += 1;
                assert_eq!(row.revision, 2);
            }
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("a racing incident write failed otherwise: {e}"),
        }
    }
    assert_eq!(wins, 1);
}
