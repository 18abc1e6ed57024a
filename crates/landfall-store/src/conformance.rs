//! The storage conformance story: one realistic walk through every [`Store`] call, run by each backend.

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

    // Bundles: immutable names.
    let b1 = s.insert_bundle(bundle(app, "1.0.0"), "ci").await.unwrap();
    let b2 = s.insert_bundle(bundle(app, "1.0.1"), "ci").await.unwrap();
    assert!(matches!(
        s.insert_bundle(bundle(app, "1.0.1"), "ci").await,
        Err(StoreError::Conflict(_))
    ));
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
    assert!(matches!(
        s.insert_bundle(bundle(app, "1.0.0"), "ci").await,
        Err(StoreError::Conflict(_))
    ));
    let refs = s.referenced_blobs().await.unwrap();
    assert!(refs.contains(&"ab".repeat(32)) && refs.contains(&"22".repeat(32)));

    // Overrides.
    let dev = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";
    s.set_override(app, dev, Some(prod.id), "admin")
        .await
        .unwrap();
    s.set_override(app, dev, Some(prod.id), "admin")
        .await
        .unwrap();
    assert_eq!(s.list_overrides(app).await.unwrap().len(), 1);
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
    };
    s.insert_stats(&[ev.clone(), ev]).await.unwrap();
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
        .create_token("ci", &"cd".repeat(32), &scopes)
        .await
        .unwrap();
    assert!(s
        .create_token("dup", &"cd".repeat(32), &scopes)
        .await
        .is_err());
    let found = s.find_token(&"cd".repeat(32)).await.unwrap().unwrap();
    assert!(found.allows(Some(app), Role::Upload));
    assert!(!found.allows(Some(app), Role::Admin));
    assert!(!found.allows(Some("com.other.app"), Role::Read));
    assert!(!found.allows(None, Role::Read));
    s.revoke_token(t.id).await.unwrap();
    assert!(matches!(
        s.revoke_token(t.id).await,
        Err(StoreError::NotFound(_))
    ));
    let revoked = s.find_token(&"cd".repeat(32)).await.unwrap().unwrap();
    assert!(!revoked.allows(Some(app), Role::Read));
    assert_eq!(s.list_tokens().await.unwrap().len(), 1);
}
