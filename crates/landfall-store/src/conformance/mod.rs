//! The storage conformance stories, run by each backend: one realistic walk through every
//! [`Store`] call ([`story`]) and one through the ICP desk's [`crate::icp::IcpStore`] ([`icp_story`]).

use crate::*;
use landfall_core::channel::ChannelFlags;

fn variant(sha: &str) -> BundleVariantRow {
    BundleVariantRow {
        key_id: None,
        blob_sha256: Some(sha.into()),
        blob_size: Some(10),
        external_url: None,
        session_key: String::new(),
        checksum: sha.into(),
        manifest: vec![StoredManifestFile {
            file_name: "index.html".into(),
            file_hash: "11".repeat(32),
            blob_sha256: "22".repeat(32),
            size: 3,
            sha256: "33".repeat(32),
        }],
    }
}

fn bundle(app: &str, version: &str) -> NewBundle {
    NewBundle {
        app_id: app.into(),
        version: version.into(),
        size: 10,
        sha256: "aa".repeat(32),
        min_update_version: None,
        link: None,
        comment: Some("first".into()),
        variants: vec![variant(&"ab".repeat(32))],
    }
}

fn point(name: &str, end_rollout: bool) -> PointChannel {
    PointChannel {
        name: name.into(),
        end_rollout,
    }
}

/// Run the story; panics (with context) on the first deviation.
pub async fn story(s: &dyn Store) {
    let app = "com.example.app";
    // Apps.
    s.create_app(app, "Example", "admin").await.unwrap();
    assert!(matches!(
        s.create_app(app, "Again", "admin").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.get_app("com.none.x").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.list_apps().await.unwrap().len(), 1);

    // App switches: Capgo's defaults, changed and audited.
    let defaults = s.get_app(app).await.unwrap().settings;
    assert!(!defaults.expose_metadata && defaults.allow_device_custom_id);
    let changed = s
        .update_app_settings(
            app,
            AppSettingsPatch {
                expose_metadata: Some(true),
                download_base_mainland: Some(Some("https://cdn.example.cn/blobs".into())),
                ..Default::default()
            },
            "admin",
        )
        .await
        .unwrap();
    assert!(changed.settings.expose_metadata && changed.settings.allow_device_custom_id);
    assert_eq!(
        changed.settings.download_base_mainland.as_deref(),
        Some("https://cdn.example.cn/blobs")
    );
    assert_eq!(changed.settings.download_base_global, None);
    assert_eq!(s.get_app(app).await.unwrap(), changed);
    // `Some(None)` clears a base; `None` leaves it.
    let cleared = s
        .update_app_settings(
            app,
            AppSettingsPatch {
                download_base_mainland: Some(None),
                ..Default::default()
            },
            "admin",
        )
        .await
        .unwrap();
    assert_eq!(cleared.settings.download_base_mainland, None);
    assert!(cleared.settings.expose_metadata);
    assert!(matches!(
        s.update_app_settings("com.none.x", AppSettingsPatch::default(), "admin")
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Bundles: immutable names; a retried upload of the same bytes is not a conflict.
    let b1 = s
        .insert_bundle(bundle(app, "1.0.0"), None, "ci")
        .await
        .unwrap();
    assert!(!b1.existed && b1.channel.is_none());
    let b1 = b1.bundle;
    let b2 = s
        .insert_bundle(bundle(app, "1.0.1"), None, "ci")
        .await
        .unwrap()
        .bundle;
    let other_bytes = NewBundle {
        sha256: "ee".repeat(32),
        ..bundle(app, "1.0.1")
    };
    assert!(matches!(
        s.insert_bundle(other_bytes, None, "ci").await,
        Err(StoreError::Conflict(_))
    ));
    let retried = s
        .insert_bundle(bundle(app, "1.0.1"), None, "ci")
        .await
        .unwrap();
    assert!(retried.existed);
    assert_eq!(retried.bundle, b2);
    assert_eq!(s.get_bundle(app, "1.0.1").await.unwrap(), b2);
    assert_eq!(s.get_bundle_by_id(b1.id).await.unwrap().version, "1.0.0");
    assert_eq!(
        s.list_bundles(app)
            .await
            .unwrap()
            .iter()
            .map(|b| b.version.as_str())
            .collect::<Vec<_>>(),
        ["1.0.1", "1.0.0"]
    );

    // Channels and history.
    let prod = s
        .create_channel(
            NewChannel {
                app_id: app.into(),
                name: "production".into(),
                flags: default_flags(true),
                bundle_id: Some(b1.id),
            },
            "admin",
        )
        .await
        .unwrap();
    assert!(prod.flags.public);
    let dup = NewChannel {
        app_id: app.into(),
        name: "production".into(),
        flags: ChannelFlags::default(),
        bundle_id: None,
    };
    assert!(matches!(
        s.create_channel(dup, "admin").await,
        Err(StoreError::Conflict(_))
    ));
    let moved = s
        .update_channel(
            prod.id,
            ChannelChange {
                target: Some(Some(b2.id)),
                reason: "set".into(),
                ..Default::default()
            },
            "ci",
        )
        .await
        .unwrap();
    assert_eq!(moved.bundle_id, Some(b2.id));
    let hist = s.channel_history(prod.id).await.unwrap();
    assert_eq!(
        hist.iter().map(|h| h.bundle_id).collect::<Vec<_>>(),
        [Some(b2.id), Some(b1.id)]
    );
    assert_eq!(hist[0].actor, "ci");
    let flags = ChannelFlags {
        allow_emulator: false,
        ..moved.flags
    };
    let updated = s
        .update_channel(
            prod.id,
            ChannelChange {
                flags: Some(flags),
                rollout: Some(Some(RolloutRow {
                    bundle_id: Some(b1.id),
                    basis_points: 500,
                    paused: false,
                })),
                reason: "update".into(),
                ..Default::default()
            },
            "admin",
        )
        .await
        .unwrap();
    assert_eq!(s.get_channel(app, "production").await.unwrap(), updated);
    assert_eq!(
        s.channel_history(prod.id).await.unwrap().len(),
        2,
        "flag changes are not target moves"
    );

    // A served bundle cannot be deleted; an unserved one can, and its name stays taken.
    assert!(matches!(
        s.delete_bundle(app, "1.0.1", "admin").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        matches!(
            s.delete_bundle(app, "1.0.0", "admin").await,
            Err(StoreError::Conflict(_))
        ),
        "rollout"
    );
    s.update_channel(
        prod.id,
        ChannelChange {
            rollout: Some(None),
            reason: "update".into(),
            ..Default::default()
        },
        "admin",
    )
    .await
    .unwrap();
    s.delete_bundle(app, "1.0.0", "admin").await.unwrap();
    assert!(matches!(
        s.get_bundle(app, "1.0.0").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            s.insert_bundle(bundle(app, "1.0.0"), None, "ci").await,
            Err(StoreError::Conflict(_))
        ),
        "a deleted version's name stays taken, even for the same bytes"
    );
    let refs = s.referenced_blobs().await.unwrap();
    assert!(refs.contains(&"ab".repeat(32)) && refs.contains(&"22".repeat(32)));

    // Upload + channel move in one call: creates a missing channel (not public: the app has
    // one), moves an existing one and ends its rollout when asked; a retry changes nothing.
    let b3 = s
        .insert_bundle(bundle(app, "1.0.2"), Some(point("beta", false)), "ci")
        .await
        .unwrap();
    let beta = b3.channel.clone().unwrap();
    assert!(b3.channel_created && !beta.flags.public);
    assert_eq!(beta.bundle_id, Some(b3.bundle.id));
    s.update_channel(
        beta.id,
        ChannelChange {
            rollout: Some(Some(RolloutRow {
                bundle_id: Some(b2.id),
                basis_points: 1000,
                paused: false,
            })),
            reason: "update".into(),
            ..Default::default()
        },
        "admin",
    )
    .await
    .unwrap();
    let b4 = s
        .insert_bundle(bundle(app, "1.0.3"), Some(point("beta", true)), "ci")
        .await
        .unwrap();
    let beta = b4.channel.clone().unwrap();
    assert!(!b4.channel_created);
    assert_eq!((beta.bundle_id, beta.rollout), (Some(b4.bundle.id), None));
    let again = s
        .insert_bundle(bundle(app, "1.0.3"), Some(point("beta", true)), "ci")
        .await
        .unwrap();
    assert!(again.existed && !again.channel_created);
    assert_eq!(again.channel.unwrap(), beta, "a retry moves nothing");
    assert_eq!(s.channel_history(beta.id).await.unwrap().len(), 2);

    // Several channel moves are one transaction: one bad move and none apply.
    let batch = |ids: &[i64]| -> Vec<ChannelMove> {
        ids.iter()
            .map(|&channel_id| ChannelMove {
                channel_id,
                change: ChannelChange {
                    target: Some(None),
                    rollout: Some(None),
                    reason: "kill_switch".into(),
                    ..Default::default()
                },
            })
            .collect()
    };
    assert!(matches!(
        s.update_channels(batch(&[prod.id, beta.id, i64::MAX]), "admin")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.get_channel(app, "production").await.unwrap().bundle_id,
        Some(b2.id)
    );
    assert_eq!(
        s.get_channel(app, "beta").await.unwrap().bundle_id,
        Some(b4.bundle.id)
    );
    let killed = s
        .update_channels(batch(&[prod.id, beta.id]), "admin")
        .await
        .unwrap();
    assert!(killed.iter().all(|c| c.bundle_id.is_none()));
    for c in &killed {
        let back = ChannelChange {
            target: Some(Some(b2.id)),
            reason: "set".into(),
            ..Default::default()
        };
        s.update_channel(c.id, back, "admin").await.unwrap();
    }

    // Device assignments: one per device, operator's or the device's own; the latest wins.
    let dev = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";
    s.set_override(app, dev, Some(prod.id), "admin")
        .await
        .unwrap();
    s.set_override(app, dev, Some(prod.id), "admin")
        .await
        .unwrap();
    let o = s.list_overrides(app).await.unwrap();
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].channel_id, o[0].set_by.as_str()), (prod.id, "admin"));
    assert!(s.set_device_channel(app, dev, Some(beta.id)).await.unwrap());
    let o = s.list_overrides(app).await.unwrap();
    assert_eq!(
        (o[0].channel_id, o[0].set_by.as_str()),
        (beta.id, SET_BY_DEVICE)
    );
    assert!(s.set_device_channel(app, dev, None).await.unwrap());
    assert!(!s.set_device_channel(app, dev, None).await.unwrap());
    s.set_override(app, dev, Some(prod.id), "admin")
        .await
        .unwrap();
    s.set_override(app, dev, None, "admin").await.unwrap();
    assert!(s.list_overrides(app).await.unwrap().is_empty());

    // Devices: upsert keeps first_seen, takes the newest values.
    let seen = |at: i64, version: &str| DeviceSeen {
        app_id: app.into(),
        device_id: dev.into(),
        platform: "android".into(),
        version_build: "1.0.0".into(),
        version_code: "10".into(),
        version_os: "14".into(),
        version_name: version.into(),
        plugin_version: "8.51.14".into(),
        custom_id: "user-42".into(),
        is_emulator: false,
        is_prod: true,
        install_source: String::new(),
        channel: "production".into(),
        key_id: String::new(),
        seen_at: at,
    };
    s.upsert_devices(&[seen(1000, "builtin")]).await.unwrap();
    s.upsert_devices(&[seen(2000, "1.0.1")]).await.unwrap();
    let devices = s.list_devices(app, &DeviceFilter::default()).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        (devices[0].first_seen, devices[0].last.seen_at),
        (1000, 2000)
    );
    assert_eq!(devices[0].last.version_name, "1.0.1");
    let f = DeviceFilter {
        search: Some("user-4".into()),
        ..Default::default()
    };
    assert_eq!(s.list_devices(app, &f).await.unwrap().len(), 1);
    let f = DeviceFilter {
        channel: Some("beta".into()),
        ..Default::default()
    };
    assert!(s.list_devices(app, &f).await.unwrap().is_empty());
    assert_eq!(s.count_devices(app, &f).await.unwrap(), 0);
    let f = DeviceFilter {
        channel: Some("production".into()),
        version_name: Some("1.0.1".into()),
        limit: 1,
        ..Default::default()
    };
    assert_eq!(s.count_devices(app, &f).await.unwrap(), 1);

    // Stats and the audit trail.
    let ev = StatEvent {
        app_id: app.into(),
        device_id: dev.into(),
        action: "set".into(),
        version_name: "1.0.1".into(),
        old_version_name: "builtin".into(),
        platform: "android".into(),
        plugin_version: "8.51.14".into(),
        at: 5,
        received_at: 6,
        metadata: None,
        version_os: "14".into(),
        custom_id: String::new(),
        is_emulator: false,
        is_prod: true,
        key_id: String::new(),
        channel: String::new(),
    };
    let later = StatEvent {
        at: 7,
        ..ev.clone()
    };
    assert_eq!(s.insert_stats(&[ev.clone(), later]).await.unwrap(), 2);
    // The plugin sends a batch again when the answer was lost: stored once.
    assert_eq!(s.insert_stats(&[ev]).await.unwrap(), 0);
    assert_eq!(s.count_stats(app).await.unwrap(), 2);
    let audit = s.list_audit(app, 0, i64::MAX).await.unwrap();
    let actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
    for expected in [
        "app_create",
        "bundle_upload",
        "channel_create",
        "channel_set",
        "bundle_delete",
        "device_override",
        "app_settings",
        "channel_upload",
        "channel_kill_switch",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let set = audit.iter().find(|a| a.action == "channel_set").unwrap();
    assert_eq!(
        (set.detail["from"].as_str(), set.detail["to"].as_str()),
        (Some("1.0.0"), Some("1.0.1"))
    );

    // Signing keys.
    let k = s
        .add_app_key(
            app,
            "MIIBCgKCAQEAz/N5YWbf",
            "-----BEGIN RSA PUBLIC KEY-----",
            "admin",
        )
        .await
        .unwrap();
    assert_eq!(k.key_id, "MIIBCgKCAQEAz/N5YWbf");
    assert!(matches!(
        s.add_app_key(app, &k.key_id, "pem", "admin").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.list_app_keys(app).await.unwrap().len(), 1);
    s.remove_app_key(app, &k.key_id, "admin").await.unwrap();
    assert!(matches!(
        s.remove_app_key(app, &k.key_id, "admin").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(s.list_app_keys(app).await.unwrap().is_empty());

    // Tokens.
    assert_eq!(s.count_tokens().await.unwrap(), 0);
    let scopes = vec![Scope::parse("com.example.app:upload").unwrap()];
    let t = s
        .create_token("ci", &"cd".repeat(32), &scopes, "test")
        .await
        .unwrap();
    assert!(s
        .create_token("dup", &"cd".repeat(32), &scopes, "test")
        .await
        .is_err());
    let found = s.find_token(&"cd".repeat(32)).await.unwrap().unwrap();
    assert!(found.allows(Some(app), Role::Upload));
    assert!(!found.allows(Some(app), Role::Admin));
    assert!(!found.allows(Some("com.other.app"), Role::Read));
    assert!(!found.allows(None, Role::Read));
    s.revoke_token(t.id, "test").await.unwrap();
    assert!(matches!(
        s.revoke_token(t.id, "test").await,
        Err(StoreError::NotFound(_))
    ));
    let revoked = s.find_token(&"cd".repeat(32)).await.unwrap().unwrap();
    assert!(!revoked.allows(Some(app), Role::Read));
    assert_eq!(s.list_tokens().await.unwrap().len(), 1);

    // Every audited write above is one entry of the release log, in order, chained.
    let head = verify_release_log(s).await;
    let entries = s.release_log(0, i64::MAX, 10_000).await.unwrap();
    assert_eq!(entries.len() as i64, head.seq);
    let last = entries.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.app_id.as_str(),
            last.actor.as_str()
        ),
        ("token_revoke", "*", "test")
    );
    assert!(entries.iter().any(|e| e.action == "token_create"));
    assert_eq!(
        entries.iter().filter(|e| e.app_id == app).count(),
        s.list_audit(app, 0, i64::MAX).await.unwrap().len()
    );
    assert_eq!(s.seal_release_log().await.unwrap(), 0, "nothing to seal");
    assert_eq!(verify_release_log(s).await, head);
}

/// Rows an older version wrote (no `seq`): the test inserts them with [`LEGACY_AUDIT_ROWS`] by
/// raw SQL between the two calls. Before sealing they are outside the chain; sealing chains them
/// after the existing entries in id order; writes after that continue the chain.
pub async fn release_log_seals_older_rows_before(s: &dyn Store) {
    s.create_app("com.example.sealed", "Sealed", "admin")
        .await
        .unwrap();
}

/// Inserts three audit rows the way a version without the chain did.
pub const LEGACY_AUDIT_ROWS: &str =
    "INSERT INTO audit_log (app_id, at, actor, action, detail) VALUES \
     ('com.example.sealed', 1, 'token:old', 'channel_update', '{\"bundle\":\"1.0.0\"}'), \
     ('com.example.sealed', 2, 'token:old', 'channel_update', '{\"bundle\":\"1.0.1\"}'), \
     ('*', 3, 'offline:root', 'token_create', '{}')";

/// The second half of [`release_log_seals_older_rows_before`].
pub async fn release_log_seals_older_rows_after(s: &dyn Store) {
    let state = s.release_log_state().await.unwrap();
    assert_eq!((state.head.seq, state.outside), (1, 3), "{state:?}");
    assert!(state.first_outside_id.is_some());
    assert_eq!(s.seal_release_log().await.unwrap(), 3);
    s.update_app_settings(
        "com.example.sealed",
        AppSettingsPatch {
            expose_metadata: Some(true),
            ..Default::default()
        },
        "admin",
    )
    .await
    .unwrap();
    let head = verify_release_log(s).await;
    let entries = s.release_log(0, i64::MAX, 100).await.unwrap();
    let order: Vec<(i64, &str)> = entries.iter().map(|e| (e.at, e.action.as_str())).collect();
    assert_eq!(
        &order[1..4],
        &[
            (1, "channel_update"),
            (2, "channel_update"),
            (3, "token_create")
        ]
    );
    assert_eq!(head.seq, 5);
}

/// Walk the whole release log through the chain rules; panics at a break. Returns the head.
pub async fn verify_release_log(s: &dyn Store) -> landfall_core::release_log::Checkpoint {
    let state = s.release_log_state().await.unwrap();
    assert_eq!(state.outside, 0, "rows outside the chain: {state:?}");
    let mut v = landfall_core::release_log::ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = s.release_log(after, state.head.seq, 100).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            v.push(e).unwrap_or_else(|b| panic!("{b}"));
        }
    }
    v.finish(Some(&state.head))
        .unwrap_or_else(|b| panic!("{b}"))
}

/// The ICP desk's story: filings with revisions and history, documents, completions, incidents,
/// settings and calendar years. Needs the app `com.example.app` to exist; run
/// [`icp_story_reopened`] on a new connection to the same database afterwards.
pub async fn icp_story(s: &dyn crate::icp::IcpStore) {
    use crate::icp::{NewIcpCompletion, NewIcpDocument, NewRecordChange};
    use serde_json::json;
    let app = "com.example.app";
    assert!(s.get_filing(app).await.unwrap().is_none());
    let change = NewRecordChange {
        reason: Some("first".into()),
        sections: json!(["company"]),
        record: json!({"x": 1}),
        change_filing: false,
    };
    let r1 = s
        .put_filing(app, &json!({"v": 1}), None, Some(&change), "alice")
        .await
        .unwrap();
    assert_eq!(r1.revision, 1);
    // A second create, or an update from a stale revision, is refused.
    assert!(matches!(
        s.put_filing(app, &json!({"v": 9}), None, None, "bob").await,
        Err(StoreError::Conflict(_))
    ));
    let r2 = s
        .put_filing(app, &json!({"v": 2}), Some(1), None, "bob")
        .await
        .unwrap();
    assert_eq!((r2.revision, r2.updated_by.as_str()), (2, "bob"));
    assert!(matches!(
        s.put_filing(app, &json!({"v": 3}), Some(1), Some(&change), "carol")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.get_filing(app).await.unwrap().unwrap().data["v"], 2);
    // The refused write appended nothing.
    let changes = s.list_record_changes(app).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].actor, "alice");
    // Unknown apps are NotFound, not a database error.
    assert!(matches!(
        s.put_filing("com.none", &json!({}), None, None, "x").await,
        Err(StoreError::NotFound(_))
    ));
    let sha = "a".repeat(64);
    let d = s
        .insert_document(
            NewIcpDocument {
                app_id: app.into(),
                kind: "entity_certificate".into(),
                file_name: "licence.pdf".into(),
                sha256: sha.clone(),
                size: 10,
                content_type: "application/pdf".into(),
                meta: json!({"status": "uploaded"}),
            },
            "alice",
        )
        .await
        .unwrap();
    let d2 = s
        .update_document(app, d.id, &json!({"status": "verified"}), "bob")
        .await
        .unwrap();
    assert_eq!(d2.meta["status"], "verified");
    assert!(s.get_document("com.other", d.id).await.is_err());
    s.delete_document(app, d.id, "bob").await.unwrap();
    assert!(s.list_documents(app, false).await.unwrap().is_empty());
    assert_eq!(s.list_documents(app, true).await.unwrap().len(), 1);
    assert!(matches!(
        s.delete_document(app, d.id, "bob").await,
        Err(StoreError::NotFound(_))
    ));

    let c = s
        .insert_completion(
            NewIcpCompletion {
                app_id: app.into(),
                check: "content_audit".into(),
                done_on: "2026-03-01".into(),
                notes: "ok".into(),
                data: json!({"evidence": []}),
            },
            "alice",
        )
        .await
        .unwrap();
    let ev = "b".repeat(64);
    s.update_completion(app, c.id, &json!({"evidence": [{"sha256": ev}]}))
        .await
        .unwrap();
    let blobs = s.referenced_icp_blobs().await.unwrap();
    assert_eq!(blobs, vec![sha.clone(), ev.clone()]);

    let i = s
        .insert_incident(app, &json!({"title": "x"}), "alice")
        .await
        .unwrap();
    let i2 = s
        .update_incident(app, i.id, &json!({"title": "y"}), 1, "bob")
        .await
        .unwrap();
    assert_eq!(i2.revision, 2);
    assert!(matches!(
        s.update_incident(app, i.id, &json!({}), 1, "bob").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.update_incident(app, 999, &json!({}), 1, "bob").await,
        Err(StoreError::NotFound(_))
    ));

    s.put_setting(app, "settings", &json!({"a": 1}), "alice")
        .await
        .unwrap();
    s.put_setting(app, "settings", &json!({"a": 2}), "bob")
        .await
        .unwrap();
    let got = s.get_setting(app, "settings").await.unwrap().unwrap();
    assert_eq!(
        (got.value["a"].as_i64(), got.updated_by.as_str()),
        (Some(2), "bob")
    );

    s.put_calendar_year(2027, "{\"year\":2027}", "alice")
        .await
        .unwrap();
    s.put_calendar_year(2027, "{\"year\":2027,\"v\":2}", "bob")
        .await
        .unwrap();
}

/// After [`icp_story`] and a reopen: calendar years and incidents are durable.
pub async fn icp_story_reopened(s: &dyn crate::icp::IcpStore) {
    let app = "com.example.app";
    let years = s.list_calendar_years().await.unwrap();
    assert_eq!(years.len(), 1);
    assert_eq!((years[0].year, years[0].loaded_by.as_str()), (2027, "bob"));
    assert_eq!(s.list_incidents(app).await.unwrap().len(), 1);
}

/// A database with rows in every table of [`crate::copy::TABLES`] (for `landfall migrate db`
/// tests): the [`story`] and [`icp_story`], then what they leave empty or untouched — a second app
/// with non-ASCII text, a signing key, an operator's and a device's channel assignment, an
/// emulator, stats with and without metadata, a live and a revoked token.
pub async fn copy_fixture(s: &dyn Store, icp: &dyn crate::icp::IcpStore) {
    story(s).await;
    icp_story(icp).await;
    let app = "com.example.zwei";
    s.create_app(app, "Zwei – 二 \"quoted\" ✓", "émilie")
        .await
        .unwrap();
    s.add_app_key(
        app,
        "MIIBCgKCAQEAxyz12345",
        "-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----\n",
        "admin",
    )
    .await
    .unwrap();
    let inserted = s
        .insert_bundle(
            bundle(app, "2.0.0-β.1"),
            Some(point("production", false)),
            "ci",
        )
        .await
        .unwrap();
    let prod = inserted.channel.unwrap();
    let beta = s
        .create_channel(
            NewChannel {
                app_id: app.into(),
                name: "beta".into(),
                flags: default_flags(false),
                bundle_id: None,
            },
            "admin",
        )
        .await
        .unwrap();
    s.set_override(app, "device-Z", Some(prod.id), "admin")
        .await
        .unwrap();
    s.set_device_channel(app, "device-a", Some(beta.id))
        .await
        .unwrap();
    let seen = |device: &str, emulator: bool| DeviceSeen {
        app_id: app.into(),
        device_id: device.into(),
        platform: "ios".into(),
        version_build: "2.0.0".into(),
        version_code: "20".into(),
        version_os: "17.4".into(),
        version_name: "builtin".into(),
        plugin_version: "7.0.0".into(),
        custom_id: "客户-7".into(),
        is_emulator: emulator,
        is_prod: !emulator,
        install_source: "app_store".into(),
        channel: "production".into(),
        key_id: String::new(),
        seen_at: 1_700_000_000_123,
    };
    s.upsert_devices(&[seen("device-Z", true), seen("device-a", false)])
        .await
        .unwrap();
    let ev = |metadata: Option<&str>, at: i64| StatEvent {
        app_id: app.into(),
        device_id: "device-a".into(),
        action: "download_fail".into(),
        version_name: "2.0.0-β.1".into(),
        old_version_name: "builtin".into(),
        platform: "ios".into(),
        plugin_version: "7.0.0".into(),
        at,
        received_at: i64::MAX,
        metadata: metadata.map(str::to_owned),
        version_os: "17.5".into(),
        custom_id: "客户-42".into(),
        is_emulator: true,
        is_prod: false,
        key_id: "MIIBCgKCAQEAz".into(),
        channel: "beta ✓".into(),
    };
    // A failure, then a download and the bundle running: every analytics counter gets a row.
    let step = |action: &str, at: i64| StatEvent {
        action: action.into(),
        ..ev(None, at)
    };
    s.insert_stats(&[
        ev(Some(r#"{"reason":"tab\there ✓"}"#), -1),
        ev(None, 0),
        step("download_zip_start", 1_700_000_000_000),
        step("set", 1_700_000_065_000),
    ])
    .await
    .unwrap();
    s.add_downloads(&[DownloadCount {
        app_id: app.into(),
        day: 20_454,
        kind: "delta".into(),
        requests: 3,
        bytes: 12_345,
    }])
    .await
    .unwrap();
    let admin = [Scope::parse("*:admin").unwrap()];
    s.create_token("ci-2", &"12".repeat(32), &admin, "test")
        .await
        .unwrap();
    let old = s
        .create_token("old", &"ef".repeat(32), &admin, "test")
        .await
        .unwrap();
    s.revoke_token(old.id, "test").await.unwrap();
    s.audit_server("offline", "token_create", serde_json::json!({"name": "ci"}))
        .await
        .unwrap();
    // A user with grants and a session, and a disabled one (non-ASCII name).
    s.create_user(
        crate::users::NewUser {
            username: "zoë".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            roles: vec![
                Scope::parse("*:read").unwrap(),
                Scope::parse("com.example.zwei:admin").unwrap(),
            ],
        },
        "offline",
    )
    .await
    .unwrap();
    s.create_user(
        crate::users::NewUser {
            username: "gone".into(),
            password_hash: "x".into(),
            roles: vec![],
        },
        "user:zoë",
    )
    .await
    .unwrap();
    s.update_user(
        "gone",
        crate::users::UserPatch {
            roles: None,
            disabled: Some(true),
        },
        "user:zoë",
    )
    .await
    .unwrap();
    s.create_session(crate::users::NewSession {
        id_hash: "5e".repeat(32),
        username: "zoë".into(),
        csrf_token: "csrf ✓".into(),
        created_at: 1_700_000_000_000,
        expires_at: i64::MAX,
    })
    .await
    .unwrap();
}

/// A table as a backend's catalogue describes it, for [`check_schema`].
#[derive(Debug, Clone)]
pub struct ActualTable {
    pub name: String,
    /// Columns in order: name, declared type (lower case), nullable.
    pub columns: Vec<(String, String, bool)>,
    /// Primary-key columns in key order.
    pub key: Vec<String>,
    /// Columns whose value the engine generates (serial / autoincrement).
    pub generated: Vec<String>,
}

/// Panics unless the backend's tables are exactly [`crate::copy::TABLES`] (besides
/// [`crate::copy::ENGINE_TABLES`]): same tables, columns in order, types, nullability, keys and
/// generated ids. `type_fits(declared, ty)` says whether a declared type holds values of `ty`.
pub fn check_schema(
    actual: &[ActualTable],
    type_fits: impl Fn(&str, crate::copy::ColumnType) -> bool,
) {
    use crate::copy::{ENGINE_TABLES, TABLES};
    let mut seen: Vec<&str> = actual
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !ENGINE_TABLES.contains(n))
        .collect();
    seen.sort_unstable();
    let mut listed: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    listed.sort_unstable();
    assert_eq!(
        seen, listed,
        "the schema's tables differ from landfall_store::copy::TABLES: add the new table there \
         (in dependency order) so `landfall migrate db` copies it"
    );
    for want in TABLES {
        let got = actual.iter().find(|t| t.name == want.name).unwrap();
        let names: Vec<&str> = got.columns.iter().map(|c| c.0.as_str()).collect();
        let listed: Vec<&str> = want.columns.iter().map(|c| c.name).collect();
        assert_eq!(names, listed, "columns of {}", want.name);
        for ((name, declared, nullable), c) in got.columns.iter().zip(want.columns) {
            assert!(
                type_fits(declared, c.ty),
                "{}.{name}: declared {declared}, listed {:?}",
                want.name,
                c.ty
            );
            assert_eq!(*nullable, c.nullable, "nullability of {}.{name}", want.name);
        }
        assert_eq!(got.key, want.key, "primary key of {}", want.name);
        let generated: Vec<&str> = got.generated.iter().map(String::as_str).collect();
        assert_eq!(
            generated,
            want.generated_id.into_iter().collect::<Vec<_>>(),
            "generated id of {}",
            want.name
        );
    }
}
pub mod blobs;
pub mod races;
pub mod users;

pub use users::users_story;

/// The catalog change feed: every catalog-changing write adds exactly one entry, gapless and in
/// commit order — also when many writers race (the property several instances rely on to follow
/// each other) — device entries carry the device and its channel, and pruning forgets old ones.
pub async fn catalog_feed(s: &(dyn Store + 'static)) {
    let app = "com.feed.app";
    let start = s.catalog_seq().await.unwrap();
    assert!(s.catalog_changes(start, 100).await.unwrap().is_empty());
    s.create_app(app, "Feed", "alice").await.unwrap();
    let prod = s
        .create_channel(
            NewChannel {
                app_id: app.into(),
                name: "production".into(),
                flags: default_flags(true),
                bundle_id: None,
            },
            "alice",
        )
        .await
        .unwrap();
    s.set_override(app, "dev-1", Some(prod.id), "alice")
        .await
        .unwrap();
    s.set_device_channel(app, "dev-2", None).await.unwrap();
    // Reads and device check-ins are not changes.
    s.list_channels(app).await.unwrap();
    s.upsert_devices(&[]).await.unwrap();
    let changes = s.catalog_changes(start, 100).await.unwrap();
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (start + 1..=start + 4).collect::<Vec<_>>());
    assert_eq!(s.catalog_seq().await.unwrap(), start + 4);
    assert!(changes[..2]
        .iter()
        .all(|c| c.app_id == app && c.device_id.is_none()));
    assert_eq!(
        (changes[2].device_id.as_deref(), changes[2].channel_id),
        (Some("dev-1"), Some(prod.id))
    );
    assert_eq!(
        (changes[3].device_id.as_deref(), changes[3].channel_id),
        (Some("dev-2"), None)
    );
    assert_eq!(
        s.catalog_changes(start + 2, 1).await.unwrap()[0].seq,
        start + 3
    );

    // Racing writers: channel moves and device choices at once; the feed stays gapless.
    let before = s.catalog_seq().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..24i64 {
        tasks.push(async move {
            if i % 2 == 0 {
                s.set_device_channel(app, &format!("racer-{i}"), Some(prod.id))
                    .await
                    .unwrap();
            } else {
                s.update_channels(
                    vec![ChannelMove {
                        channel_id: prod.id,
                        change: ChannelChange {
                            target: Some(None),
                            reason: "set".into(),
                            ..Default::default()
                        },
                    }],
                    "bob",
                )
                .await
                .unwrap();
            }
        });
    }
    futures::future::join_all(tasks).await;
    let raced = s.catalog_changes(before, 1000).await.unwrap();
    assert_eq!(
        raced.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (before + 1..=before + 24).collect::<Vec<_>>()
    );
    assert_eq!(raced.iter().filter(|c| c.device_id.is_some()).count(), 12);

    assert_eq!(s.prune_catalog_changes(0).await.unwrap(), 0);
    let all = (s.catalog_seq().await.unwrap() - start) as u64;
    assert_eq!(s.prune_catalog_changes(now_ms() + 1).await.unwrap(), all);
    assert!(s.catalog_changes(start, 1000).await.unwrap().is_empty());
    // The counter does not go back: a follower that was behind sees the gap.
    s.update_app_settings(app, AppSettingsPatch::default(), "alice")
        .await
        .unwrap();
    let next = s.catalog_changes(start, 10).await.unwrap();
    assert_eq!(next[0].seq, start + all as i64 + 1);
}

/// The analytics rollups: events counted once per day and dimension (a retried batch changes
/// nothing), install transitions from stats and from check-ins, download tallies summed, and raw
/// events pruned while every rollup stays.
pub async fn analytics(s: &dyn Store) {
    use landfall_core::analytics::{cst_day, ADOPTION_BUCKET_MS, DAY_MS};
    let app = "com.example.stats";
    s.create_app(app, "Stats", "admin").await.unwrap();
    let t0 = 1_767_225_600_000; // 2026-01-01 00:00 UTC = 08:00 in China
    let ev = |device: &str, action: &str, version: &str, at: i64| StatEvent {
        app_id: app.into(),
        device_id: device.into(),
        action: action.into(),
        version_name: version.into(),
        old_version_name: "builtin".into(),
        platform: "android".into(),
        plugin_version: "7.1.0".into(),
        at,
        received_at: t0 + 3_600_000,
        metadata: None,
        version_os: "14".into(),
        custom_id: String::new(),
        is_emulator: false,
        is_prod: true,
        key_id: String::new(),
        channel: String::new(),
    };
    // Device a: downloads 1.1.0 (90 s), fails once, runs it. Device b: fails twice, never runs it.
    let batch = vec![
        ev("a", "set", "1.1.0", t0 + 90_000),
        ev("a", "download_zip_start", "1.1.0", t0),
        ev("a", "checksum_fail", "1.1.0", t0 + 1_000),
        ev("b", "download_zip_start", "1.1.0", t0),
        ev("b", "download_fail", "1.1.0", t0 + 1_000),
        ev("b", "download_fail", "1.1.0", t0 + 2_000),
        ev("b", "app_crash", "builtin", t0 + 3_000),
    ];
    assert_eq!(s.insert_stats(&batch).await.unwrap(), 7);
    assert_eq!(s.insert_stats(&batch).await.unwrap(), 0, "a retried batch");
    // Device c never sends stats: its check-in running 1.1.0 counts as an install at first sight.
    let seen = DeviceSeen {
        app_id: app.into(),
        device_id: "c".into(),
        platform: "ios".into(),
        version_build: "1.0".into(),
        version_code: "1".into(),
        version_os: "17.4".into(),
        version_name: "1.1.0".into(),
        plugin_version: "7.1.0".into(),
        custom_id: String::new(),
        is_emulator: false,
        is_prod: true,
        install_source: String::new(),
        channel: "beta".into(),
        key_id: String::new(),
        seen_at: t0 + 2 * ADOPTION_BUCKET_MS,
    };
    s.upsert_devices(std::slice::from_ref(&seen)).await.unwrap();
    // Seen again, and device a's check-in after its `set`: nothing is counted twice.
    let again = DeviceSeen {
        seen_at: t0 + DAY_MS,
        ..seen.clone()
    };
    let a = DeviceSeen {
        device_id: "a".into(),
        seen_at: t0 + DAY_MS,
        ..seen.clone()
    };
    s.upsert_devices(&[again, a]).await.unwrap();
    // An event after the check-in carries the device's channel.
    assert_eq!(
        s.insert_stats(&[ev("c", "app_anr", "1.1.0", t0 + DAY_MS)])
            .await
            .unwrap(),
        1
    );
    s.add_downloads(&[
        DownloadCount {
            app_id: app.into(),
            day: cst_day(t0),
            kind: "full".into(),
            requests: 2,
            bytes: 2_000,
        },
        DownloadCount {
            app_id: app.into(),
            day: cst_day(t0),
            kind: "delta".into(),
            requests: 5,
            bytes: 300,
        },
    ])
    .await
    .unwrap();
    s.add_downloads(&[DownloadCount {
        app_id: app.into(),
        day: cst_day(t0) + 1,
        kind: "full".into(),
        requests: 1,
        bytes: 1_000,
    }])
    .await
    .unwrap();

    let query = StatsQuery {
        since_ms: t0 - DAY_MS,
        now_ms: t0 + DAY_MS + 1,
        bundle: Some("1.1.0".into()),
        channel: None,
        releases: 5,
    };
    let check = |d: &StatsData| {
        assert_eq!((d.active_day, d.active_month), (2, 2), "devices a and c");
        assert_eq!(d.versions, vec![("1.1.0".to_owned(), 2)]);
        let r = &d.releases[0];
        assert_eq!(r.version_name, "1.1.0");
        assert_eq!(r.released_at, Some(t0), "not uploaded: its first adoption");
        assert_eq!((r.attempted, r.installed, r.first_try), (3, 2, 1));
        assert_eq!(r.adoption, vec![(t0, 1), (t0 + 2 * ADOPTION_BUCKET_MS, 1)]);
        assert_eq!(
            r.durations,
            vec![(61, 1)],
            "90 s is in the 1–2 minute bucket"
        );
        let count = |action: &str| -> u64 {
            d.events
                .iter()
                .filter(|e| e.action == action)
                .map(|e| e.events)
                .sum()
        };
        assert_eq!(
            (count("download_fail"), count("checksum_fail"), count("set")),
            (2, 1, 1)
        );
        assert_eq!((count("app_crash"), count("app_anr")), (1, 1));
        let downloads: Vec<_> = d
            .downloads
            .iter()
            .map(|c| (c.kind.as_str(), c.requests, c.bytes))
            .collect();
        assert_eq!(downloads, [("delta", 5, 300), ("full", 3, 3_000)]);
    };
    check(&s.stats_data(app, &query).await.unwrap());
    // One channel: only the event recorded after device c checked in on `beta`.
    let beta = s
        .stats_data(
            app,
            &StatsQuery {
                channel: Some("beta".into()),
                ..query.clone()
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = beta.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["app_anr"]);
    assert_eq!(beta.active_month, 2, "devices a and c run on beta");
    // Raw events expire; what reports read stays.
    assert_eq!(s.count_stats(app).await.unwrap(), 8);
    assert_eq!(s.prune_stats(t0 + 3_600_001).await.unwrap(), 8);
    assert_eq!(s.count_stats(app).await.unwrap(), 0);
    check(&s.stats_data(app, &query).await.unwrap());
    // Pools are reported.
    let pools = s.pool_status();
    assert!(!pools.is_empty());
    assert!(pools.iter().all(|p| p.size <= p.max && p.idle <= p.size));
}
