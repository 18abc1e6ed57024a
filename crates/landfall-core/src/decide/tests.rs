//! Every decision branch of protocol §4.3, with its error code and `kind`.

use super::*;
use crate::channel::{BundleVariant, ChannelFlags, Rollout};
use crate::plugin::{InfoObject, ManifestEntry, Platform};
use semver::Version;

fn device() -> DeviceInfo {
    InfoObject {
        platform: Some("android".into()),
        device_id: Some("6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f".into()),
        app_id: Some("com.example.capgovector".into()),
        version_build: Some("1.0.0".into()),
        version_name: Some("builtin".into()),
        plugin_version: Some("8.51.14".into()),
        is_emulator: Some(false),
        is_prod: Some(true),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

fn plain(name: &str) -> Arc<BundleView> {
    Arc::new(BundleView {
        id: 1,
        name: name.into(),
        version: Version::parse(name).unwrap(),
        min_update_version: None,
        link: None,
        comment: None,
        variants: vec![BundleVariant {
            key_id: None,
            url: Some(format!("/blobs/{name}")),
            session_key: String::new(),
            checksum: "ab".repeat(32),
            manifest: vec![],
        }],
    })
}

fn channel(id: i64, name: &str, target: Target) -> ChannelView {
    ChannelView {
        id,
        name: name.into(),
        flags: ChannelFlags {
            public: true,
            ..Default::default()
        },
        target,
        rollout: None,
    }
}

fn public(target: Target) -> Vec<ChannelView> {
    vec![channel(1, "production", target)]
}

fn code(o: &Outcome<'_>) -> (&'static str, Kind) {
    match &o.decision {
        Decision::Refuse(e) => (e.error, e.kind),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn updated_to(o: &Outcome<'_>) -> String {
    match &o.decision {
        Decision::Update { bundle, .. } => bundle.name.clone(),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn serves_the_public_channel_to_a_builtin_device() {
    let chans = public(Target::Bundle(plain("1.0.1")));
    let o = decide(&device(), &chans, None);
    assert_eq!(updated_to(&o), "1.0.1");
    assert_eq!(o.channel.unwrap().1, Via::Public);
}

#[test]
fn up_to_date_when_running_the_target() {
    let chans = public(Target::Bundle(plain("1.0.1")));
    let mut d = device();
    d.version_name = "1.0.1".into();
    d.on_builtin = false;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_new_version_available", Kind::UpToDate)
    );
}

#[test]
fn builtin_substitution_makes_builtin_equal_to_the_native_version() {
    // The device runs builtin 1.0.0 and the channel serves bundle 1.0.0: nothing to do.
    let chans = public(Target::Bundle(plain("1.0.0")));
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_new_version_available", Kind::UpToDate)
    );
}

#[test]
fn unknown_version_build_and_old_plugins_fail() {
    let chans = public(Target::Bundle(plain("1.0.1")));
    let mut d = device();
    d.version_build = None;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("unknown_version_build", Kind::Failed)
    );
    let mut d = device();
    d.plugin_version = Version::new(4, 15, 0);
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("unsupported_plugin_version", Kind::Failed)
    );
}

#[test]
fn no_channel_without_a_public_one() {
    let mut chans = public(Target::Bundle(plain("1.0.1")));
    chans[0].flags.public = false;
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_channel", Kind::Failed)
    );
    // A public channel that is off for the platform is not a candidate either.
    chans[0].flags.public = true;
    chans[0].flags.android = false;
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_channel", Kind::Failed)
    );
}

#[test]
fn lowest_name_wins_among_public_channels() {
    let chans = vec![
        channel(2, "alpha", Target::Bundle(plain("1.0.2"))),
        channel(1, "production", Target::Bundle(plain("1.0.1"))),
    ];
    assert_eq!(updated_to(&decide(&device(), &chans, None)), "1.0.2");
}

#[test]
fn default_channel_must_be_self_settable_or_public_with_no_fallback() {
    let mut beta = channel(2, "beta", Target::Bundle(plain("1.1.0")));
    beta.flags.public = false;
    let mut chans = vec![
        beta,
        channel(1, "production", Target::Bundle(plain("1.0.1"))),
    ];
    let mut d = device();
    d.default_channel = Some("beta".into());
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_channel", Kind::Failed)
    );
    chans[0].flags.allow_device_self_set = true;
    let o = decide(&d, &chans, None);
    assert_eq!(updated_to(&o), "1.1.0");
    assert_eq!(o.channel.unwrap().1, Via::DefaultChannel);
    // Case-sensitive, and no fallback to production.
    d.default_channel = Some("Beta".into());
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_channel", Kind::Failed)
    );
    // Off for the platform: no fallback either.
    d.default_channel = Some("beta".into());
    chans[0].flags.android = false;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_channel", Kind::Failed)
    );
}

#[test]
fn override_beats_default_channel_and_reaches_private_channels() {
    let mut qa = channel(3, "qa", Target::Bundle(plain("1.2.0")));
    qa.flags.public = false;
    let mut beta = channel(2, "beta", Target::Bundle(plain("1.1.0")));
    beta.flags.allow_device_self_set = true;
    beta.flags.public = false;
    let chans = vec![
        beta,
        channel(1, "production", Target::Bundle(plain("1.0.1"))),
        qa,
    ];
    let mut d = device();
    d.default_channel = Some("beta".into());
    let o = decide(&d, &chans, Some(3));
    assert_eq!(updated_to(&o), "1.2.0");
    assert_eq!(o.channel.unwrap().1, Via::Override);
    // An override to a deleted channel is ignored.
    assert_eq!(updated_to(&decide(&d, &chans, Some(99))), "1.1.0");
}

#[test]
fn platform_off_on_an_override_channel_is_blocked() {
    let mut qa = channel(3, "qa", Target::Bundle(plain("1.0.1")));
    qa.flags.android = false;
    let chans = vec![qa];
    for (platform, expected) in [
        (Platform::Android, "disabled_platform_android"),
        (Platform::Ios, "disabled_platform_ios"),
        (Platform::Electron, "disabled_platform_electron"),
    ] {
        let mut c = chans.clone();
        c[0].flags.ios = platform != Platform::Ios;
        c[0].flags.android = platform != Platform::Android;
        c[0].flags.electron = platform != Platform::Electron;
        let mut d = device();
        d.platform = platform;
        let o = decide(&d, &c, Some(3));
        assert_eq!(code(&o), (expected, Kind::Blocked));
        if let Decision::Refuse(e) = &o.decision {
            assert_eq!(e.version.as_deref(), Some("1.0.1"));
            assert_eq!(e.old.as_deref(), Some("1.0.0"));
        }
    }
}

#[test]
fn major_jump_blocked_by_default() {
    let chans = public(Target::Bundle(plain("2.0.0")));
    let o = decide(&device(), &chans, None);
    assert_eq!(code(&o), ("disable_auto_update_to_major", Kind::Blocked));
    if let Decision::Refuse(e) = &o.decision {
        assert_eq!(e.major, Some(true));
        assert_eq!(e.version.as_deref(), Some("2.0.0"));
        assert_eq!(e.old.as_deref(), Some("1.0.0"));
    }
    let mut chans = chans;
    chans[0].flags.disable_auto_update = DisableAutoUpdate::None;
    assert_eq!(updated_to(&decide(&device(), &chans, None)), "2.0.0");
}

/// A private channel (not public, no self-set) reaches only devices an admin forced onto it.
///
/// `decide`'s own guard for this (`cannot_update_via_private_channel`) cannot be reached through
/// `decide`: `resolve_channel` never resolves a private channel except through an override, so
/// every other device is refused one step earlier with `no_channel`. This test checks that
/// observable behaviour for every way a device can name a channel.
#[test]
fn private_channel_serves_only_devices_forced_onto_it() {
    let mut c = channel(1, "production", Target::Bundle(plain("1.0.1")));
    c.flags.public = false;
    c.flags.allow_device_self_set = false;
    let chans = vec![c];
    // Forced onto it by an admin override: updated.
    let o = decide(&device(), &chans, Some(1));
    assert_eq!(updated_to(&o), "1.0.1");
    // Not forced: no channel at all (the private one is never a fallback).
    let o = decide(&device(), &chans, None);
    assert_eq!(code(&o), ("no_channel", Kind::Failed));
    assert!(o.channel.is_none(), "{:?}", o.channel.map(|(c, _)| &c.name));
    // Asking for it by name (`defaultChannel`) does not open it.
    let mut asking = device();
    asking.default_channel = Some("production".into());
    assert_eq!(
        code(&decide(&asking, &chans, None)),
        ("no_channel", Kind::Failed)
    );
    // An override that points at a channel that no longer exists does not open it either.
    assert_eq!(
        code(&decide(&device(), &chans, Some(99))),
        ("no_channel", Kind::Failed)
    );
    // Allowing self-set opens it to devices that ask for it by name, and only to them.
    let mut chans = chans;
    chans[0].flags.allow_device_self_set = true;
    assert_eq!(updated_to(&decide(&asking, &chans, None)), "1.0.1");
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_channel", Kind::Failed)
    );
}

#[test]
fn minor_and_patch_locks() {
    let mut chans = public(Target::Bundle(plain("1.1.0")));
    chans[0].flags.disable_auto_update = DisableAutoUpdate::Minor;
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("disable_auto_update_to_minor", Kind::Blocked)
    );
    chans[0].target = Target::Bundle(plain("1.0.5"));
    assert_eq!(updated_to(&decide(&device(), &chans, None)), "1.0.5");
    chans[0].flags.disable_auto_update = DisableAutoUpdate::Patch;
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("disable_auto_update_to_patch", Kind::Blocked)
    );
    chans[0].target = Target::Bundle(plain("1.0.0-hotfix.1"));
    chans[0].flags.disable_auto_update_under_native = false;
    assert_eq!(
        updated_to(&decide(&device(), &chans, None)),
        "1.0.0-hotfix.1"
    );
}

#[test]
fn version_number_lock_needs_min_update_version() {
    let mut chans = public(Target::Bundle(plain("1.3.0")));
    chans[0].flags.disable_auto_update = DisableAutoUpdate::VersionNumber;
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("misconfigured_channel", Kind::Failed)
    );
    let mut b = (*plain("1.3.0")).clone();
    b.min_update_version = Some(Version::new(1, 2, 0));
    chans[0].target = Target::Bundle(Arc::new(b.clone()));
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("disable_auto_update_to_metadata", Kind::Blocked)
    );
    b.min_update_version = Some(Version::new(1, 0, 0));
    chans[0].target = Target::Bundle(Arc::new(b));
    assert_eq!(updated_to(&decide(&device(), &chans, None)), "1.3.0");
}

#[test]
fn under_native_is_blocked() {
    let chans = public(Target::Bundle(plain("0.9.0")));
    let mut d = device();
    d.version_name = "1.0.1".into();
    d.on_builtin = false;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("disable_auto_update_under_native", Kind::Blocked)
    );
    let mut chans = chans;
    chans[0].flags.disable_auto_update_under_native = false;
    assert_eq!(updated_to(&decide(&d, &chans, None)), "0.9.0");
}

#[test]
fn prod_dev_device_emulator_flags() {
    let base = public(Target::Bundle(plain("1.0.1")));
    let cases: Vec<(fn(&mut ChannelFlags), fn(&mut DeviceInfo), &str)> = vec![
        (|f| f.allow_prod = false, |_| {}, "disable_prod_build"),
        (
            |f| f.allow_dev = false,
            |d| d.is_prod = false,
            "disable_dev_build",
        ),
        (|f| f.allow_device = false, |_| {}, "disable_device"),
        (
            |f| f.allow_emulator = false,
            |d| d.is_emulator = true,
            "disable_emulator",
        ),
    ];
    for (flag, dev, expected) in cases {
        let mut chans = base.clone();
        flag(&mut chans[0].flags);
        let mut d = device();
        dev(&mut d);
        assert_eq!(
            code(&decide(&d, &chans, None)),
            (expected, Kind::Blocked),
            "{expected}"
        );
        // The opposite kind of device is still served.
        let served = decide(&device_flipped(&d), &chans, None);
        assert!(
            matches!(served.decision, Decision::Update { .. }),
            "{expected}: {served:?}"
        );
    }
}

fn device_flipped(d: &DeviceInfo) -> DeviceInfo {
    let mut f = d.clone();
    f.is_prod = !d.is_prod;
    f.is_emulator = !d.is_emulator;
    f
}

#[test]
fn builtin_target_reverts_or_reports_already_on_builtin() {
    let chans = public(Target::Builtin);
    let mut d = device();
    d.version_name = "1.0.1".into();
    d.on_builtin = false;
    assert_eq!(decide(&d, &chans, None).decision, Decision::RevertToBuiltin);
    let o = decide(&device(), &chans, None);
    assert_eq!(code(&o), ("already_on_builtin", Kind::UpToDate));
    if let Decision::Refuse(e) = o.decision {
        assert_eq!(e.version.as_deref(), Some("builtin"));
    }
    d.plugin_version = Version::new(6, 1, 0);
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("revert_to_builtin_plugin_version_too_old", Kind::Failed)
    );
}

#[test]
fn builtin_target_still_honours_non_version_flags() {
    let mut chans = public(Target::Builtin);
    chans[0].flags.allow_prod = false;
    let mut d = device();
    d.version_name = "1.0.1".into();
    d.on_builtin = false;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("disable_prod_build", Kind::Blocked)
    );
    // Version locks never apply to builtin.
    chans[0].flags.allow_prod = true;
    chans[0].flags.disable_auto_update = DisableAutoUpdate::Patch;
    assert_eq!(decide(&d, &chans, None).decision, Decision::RevertToBuiltin);
}

fn encrypted(name: &str, key: &str) -> Arc<BundleView> {
    let mut b = (*plain(name)).clone();
    b.variants = vec![BundleVariant {
        key_id: Some(key.into()),
        url: Some("/blobs/enc".into()),
        session_key: "iv:key".into(),
        checksum: "c".repeat(512),
        manifest: vec![],
    }];
    Arc::new(b)
}

#[test]
fn key_ids_select_the_variant_or_block() {
    let chans = public(Target::Bundle(encrypted("1.0.1", "MIIBCgKCAQEAz/N5YWbf")));
    let mut d = device();
    d.key_id = Some("MIIBCgKCAQEAz/N5YWbf".into());
    assert_eq!(updated_to(&decide(&d, &chans, None)), "1.0.1");
    d.key_id = Some("MIIBCgKCAQEAotherKK".into());
    let o = decide(&d, &chans, None);
    assert_eq!(code(&o), ("key_id_mismatch", Kind::Blocked));
    if let Decision::Refuse(e) = &o.decision {
        assert_eq!(e.device_key_id.as_deref(), Some("MIIBCgKCAQEAotherKK"));
        assert_eq!(e.bundle_key_id.as_deref(), Some("MIIBCgKCAQEAz/N5YWbf"));
    }
    // No key on the device: never an encrypted bundle.
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("key_id_mismatch", Kind::Blocked)
    );
    // A device with a key never gets a plain bundle.
    let chans = public(Target::Bundle(plain("1.0.1")));
    d.key_id = Some("MIIBCgKCAQEAz/N5YWbf".into());
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("key_id_mismatch", Kind::Blocked)
    );
}

#[test]
fn no_bundle_and_no_url() {
    let mut b = (*plain("1.0.1")).clone();
    b.variants.clear();
    let chans = public(Target::Bundle(Arc::new(b.clone())));
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_bundle", Kind::Failed)
    );
    b.variants = vec![BundleVariant {
        key_id: None,
        url: None,
        session_key: String::new(),
        checksum: String::new(),
        manifest: vec![],
    }];
    let chans = public(Target::Bundle(Arc::new(b)));
    assert_eq!(
        code(&decide(&device(), &chans, None)),
        ("no_bundle_url", Kind::Failed)
    );
}

#[test]
fn manifest_only_for_plugins_that_support_it() {
    let mut b = (*plain("1.0.1")).clone();
    b.variants[0].manifest = vec![ManifestEntry {
        file_name: "index.html".into(),
        file_hash: "00".repeat(32),
        download_url: "/files/x".into(),
    }];
    let chans = public(Target::Bundle(Arc::new(b.clone())));
    match decide(&device(), &chans, None).decision {
        Decision::Update { send_manifest, .. } => assert!(send_manifest),
        other => panic!("{other:?}"),
    }
    let mut d = device();
    d.plugin_version = Version::new(7, 0, 34);
    match decide(&d, &chans, None).decision {
        Decision::Update { send_manifest, .. } => assert!(!send_manifest),
        other => panic!("{other:?}"),
    }
    // Manifest-only bundle and an old plugin: nothing to send.
    b.variants[0].url = None;
    let chans = public(Target::Bundle(Arc::new(b)));
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_bundle_url", Kind::Failed)
    );
}

#[test]
fn rollout_splits_devices_deterministically_and_keeps_devices_on_it() {
    let mut chans = public(Target::Bundle(plain("1.0.1")));
    chans[0].rollout = Some(Rollout {
        target: Target::Bundle(plain("1.0.2")),
        basis_points: 2_500,
        paused: false,
    });
    let mut on_rollout = 0;
    for i in 0..4000u32 {
        let mut d = device();
        d.device_id = format!("{i:08x}-0000-4000-8000-000000000000");
        if updated_to(&decide(&d, &chans, None)) == "1.0.2" {
            on_rollout += 1;
        }
    }
    assert!(
        (800..1200).contains(&on_rollout),
        "{on_rollout} of 4000 at 25%"
    );
    // Paused: only devices already on the rollout version stay.
    if let Some(r) = &mut chans[0].rollout {
        r.paused = true;
    }
    let mut d = device();
    d.version_name = "1.0.2".into();
    d.on_builtin = false;
    assert_eq!(
        code(&decide(&d, &chans, None)),
        ("no_new_version_available", Kind::UpToDate)
    );
    assert_eq!(updated_to(&decide(&device(), &chans, None)), "1.0.1");
}

#[test]
fn rollout_buckets_are_pinned_across_releases() {
    // Golden values: a change of the hash would silently re-bucket every device on upgrade
    // (devices would jump in and out of running rollouts). Computed independently (FNV-1a 64 over
    // channel id LE bytes, target, 0xff, device id; mod 10000).
    assert_eq!(
        rollout_bucket("6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f", 1, "1.0.2"),
        8884
    );
    assert_eq!(
        rollout_bucket("00000000-0000-4000-8000-000000000000", 7, "2.0.0"),
        3533
    );
    assert_eq!(
        rollout_bucket(
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
            123_456_789,
            "builtin"
        ),
        9399
    );
    // The channel takes part: one device lands in different buckets on different channels.
    let per_channel: std::collections::HashSet<u16> =
        (0..50).map(|c| rollout_bucket("d", c, "1")).collect();
    assert!(per_channel.len() > 40, "{per_channel:?}");
}

#[test]
fn rollout_lowered_from_50_to_10_to_0_percent_over_10000_devices() {
    let stable = Target::Bundle(plain("1.0.1"));
    let mut chans = public(stable);
    let set = |chans: &mut Vec<ChannelView>, basis_points: u16| {
        chans[0].rollout = Some(Rollout {
            target: Target::Bundle(plain("1.0.2")),
            basis_points,
            paused: false,
        });
    };
    let ids: Vec<String> = (0..10_000u64)
        .map(|i| {
            format!(
                "{:08x}-{:04x}-4000-8000-{:012x}",
                i * 2_654_435_761 % (1 << 32),
                i % 65_536,
                i
            )
        })
        .collect();
    let on = |id: &str, version: Option<&str>| {
        let mut d = device();
        d.device_id = id.to_owned();
        if let Some(v) = version {
            d.version_name = v.into();
            d.on_builtin = false;
        }
        d
    };
    // 50 %: about half the fleet takes 1.0.2.
    set(&mut chans, 5_000);
    let took: std::collections::HashSet<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| updated_to(&decide(&on(id, None), &chans, None)) == "1.0.2")
        .map(|(i, _)| i)
        .collect();
    assert!(
        (4_700..5_300).contains(&took.len()),
        "{} of 10000 at 50 %",
        took.len()
    );
    // 10 %: nobody already on 1.0.2 moves, and no device outside the bucket joins.
    set(&mut chans, 1_000);
    let mut new_joiners = 0;
    for (i, id) in ids.iter().enumerate() {
        if took.contains(&i) {
            assert_eq!(
                code(&decide(&on(id, Some("1.0.2")), &chans, None)),
                ("no_new_version_available", Kind::UpToDate),
                "device {id} on the rollout bundle must stay at 10 %"
            );
        } else if updated_to(&decide(&on(id, None), &chans, None)) == "1.0.2" {
            new_joiners += 1;
        }
    }
    assert_eq!(new_joiners, 0, "the 10 % bucket is inside the 50 % one");
    // 0 %: the rollout is off; every device is offered the stable bundle, those on 1.0.2 too.
    set(&mut chans, 0);
    for (i, id) in ids.iter().enumerate() {
        let version = took.contains(&i).then_some("1.0.2");
        assert_eq!(
            updated_to(&decide(&on(id, version), &chans, None)),
            "1.0.1",
            "device {id} at 0 %"
        );
    }
}
