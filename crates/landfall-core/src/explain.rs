//! Why a device gets what it gets (`landfall device explain`): the decision of [`crate::decide`]
//! replayed rule by rule — which channel and why (override, the device's own choice, the public
//! channel), the rollout bucket against its threshold, the target, and the rule that answered.
//!
//! Built from the same functions the update check runs ([`resolve_channel`], [`rollout_bucket`],
//! [`pick_target`], [`decide`]), so the explanation cannot drift from the answer.

use serde::Serialize;

use crate::channel::ChannelView;
use crate::decide::{decide, pick_target, resolve_channel, rollout_bucket, Decision, Via};
use crate::plugin::{DeviceInfo, Kind};

/// How the channel was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelRule {
    /// An operator forced this device onto the channel.
    Override,
    /// The device asked for it (`defaultChannel` or `setChannel`).
    DeviceChoice,
    /// The app's public channel for the device's platform.
    Public,
}

/// The channel step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelStep {
    pub name: String,
    pub rule: ChannelRule,
    /// The channel's own bundle (`builtin` for the binary's).
    pub bundle: String,
}

/// The rollout step, when the channel has a rollout above 0 %.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutStep {
    /// The rollout's bundle.
    pub bundle: String,
    /// Share of devices, in basis points (2500 = 25 %).
    pub basis_points: u16,
    pub paused: bool,
    /// This device's sticky bucket in 0..10000 (FNV-1a over channel, bundle and device).
    pub bucket: u16,
    /// Whether the device already runs the rollout's bundle (it keeps it).
    pub already_on: bool,
    /// Whether the rollout chose the device: already on it, or bucket below the share and not paused.
    pub chosen: bool,
}

/// What the device is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// An update to this bundle.
    Update { bundle: String },
    /// Back to the binary's builtin bundle.
    RevertToBuiltin,
    /// No update: Capgo's error code, kind (`up_to_date`, `blocked`, `failed`) and message.
    NoUpdate {
        error: String,
        kind: String,
        message: String,
    },
}

/// The whole explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// `None` when no channel could be resolved (the answer says why).
    pub channel: Option<ChannelStep>,
    pub rollout: Option<RolloutStep>,
    /// The bundle the channel step and the rollout step chose (`builtin` for the binary's).
    pub target: Option<String>,
    pub answer: Answer,
}

/// Explain the decision for `device` among `channels` (sorted as for [`decide`]) with the
/// device's override, if any.
pub fn explain(
    device: &DeviceInfo,
    channels: &[ChannelView],
    override_channel: Option<i64>,
) -> Explanation {
    let resolved = resolve_channel(device, channels, override_channel).ok();
    let channel = resolved.map(|(c, via)| ChannelStep {
        name: c.name.clone(),
        rule: match via {
            Via::Override => ChannelRule::Override,
            Via::DefaultChannel => ChannelRule::DeviceChoice,
            Via::Public => ChannelRule::Public,
        },
        bundle: c.target.name().to_owned(),
    });
    let rollout = resolved.and_then(|(c, _)| {
        let r = c.rollout.as_ref().filter(|r| r.basis_points > 0)?;
        let bucket = rollout_bucket(&device.device_id, c.id, r.target.name());
        let already_on = device.version_name == r.target.name() && !device.on_builtin
            || (device.on_builtin && matches!(r.target, crate::channel::Target::Builtin));
        Some(RolloutStep {
            bundle: r.target.name().to_owned(),
            basis_points: r.basis_points,
            paused: r.paused,
            bucket,
            already_on,
            chosen: already_on || (!r.paused && bucket < r.basis_points),
        })
    });
    let target = resolved.map(|(c, _)| pick_target(device, c).name().to_owned());
    let answer = match decide(device, channels, override_channel).decision {
        Decision::Update { bundle, .. } => Answer::Update {
            bundle: bundle.name.clone(),
        },
        Decision::RevertToBuiltin => Answer::RevertToBuiltin,
        Decision::Refuse(e) => Answer::NoUpdate {
            error: e.error.to_owned(),
            kind: match e.kind {
                Kind::UpToDate => "up_to_date",
                Kind::Blocked => "blocked",
                Kind::Failed => "failed",
            }
            .to_owned(),
            message: e.message,
        },
    };
    Explanation {
        channel,
        rollout,
        target,
        answer,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use semver::Version;

    use super::*;
    use crate::channel::{BundleVariant, BundleView, ChannelFlags, Rollout, Target};
    use crate::plugin::InfoObject;

    const A: &str = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";

    fn device(id: &str) -> DeviceInfo {
        InfoObject {
            platform: Some("android".into()),
            device_id: Some(id.into()),
            app_id: Some("com.example.app".into()),
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

    fn bundle(name: &str) -> Target {
        Target::Bundle(Arc::new(BundleView {
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
        }))
    }

    fn channels(rollout: Option<Rollout>) -> Vec<ChannelView> {
        vec![
            ChannelView {
                id: 7,
                name: "beta".into(),
                flags: ChannelFlags {
                    public: false,
                    ..Default::default()
                },
                target: bundle("1.0.3"),
                rollout: None,
            },
            ChannelView {
                id: 9,
                name: "production".into(),
                flags: ChannelFlags {
                    public: true,
                    ..Default::default()
                },
                target: bundle("1.0.1"),
                rollout,
            },
        ]
    }

    /// Two device ids whose buckets on channel 9 for bundle 1.0.2 lie below and above 25 %.
    fn inside_and_outside() -> (String, String) {
        let ids: Vec<String> = (0..200)
            .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
            .collect();
        let inside = ids
            .iter()
            .find(|d| rollout_bucket(d, 9, "1.0.2") < 2500)
            .unwrap();
        let outside = ids
            .iter()
            .find(|d| rollout_bucket(d, 9, "1.0.2") >= 2500)
            .unwrap();
        (inside.clone(), outside.clone())
    }

    #[test]
    fn the_rollout_bucket_against_its_threshold_names_the_bundle() {
        let rollout = Rollout {
            target: bundle("1.0.2"),
            basis_points: 2500,
            paused: false,
        };
        let chans = channels(Some(rollout.clone()));
        let (inside, outside) = inside_and_outside();

        let e = explain(&device(&inside), &chans, None);
        let r = e.rollout.clone().unwrap();
        assert_eq!(r.bucket, rollout_bucket(&inside, 9, "1.0.2"));
        assert!(r.chosen && !r.already_on && r.bucket < 2500);
        assert_eq!(e.target.as_deref(), Some("1.0.2"));
        assert_eq!(
            e.answer,
            Answer::Update {
                bundle: "1.0.2".into()
            }
        );
        let ch = e.channel.unwrap();
        assert_eq!(
            (ch.name.as_str(), ch.rule),
            ("production", ChannelRule::Public)
        );

        let e = explain(&device(&outside), &chans, None);
        assert!(!e.rollout.as_ref().unwrap().chosen);
        assert_eq!(
            e.answer,
            Answer::Update {
                bundle: "1.0.1".into()
            }
        );

        // Paused: only devices already on the bundle keep it.
        let paused = channels(Some(Rollout {
            paused: true,
            ..rollout
        }));
        let e = explain(&device(&inside), &paused, None);
        assert!(!e.rollout.as_ref().unwrap().chosen);
        let mut on_it = device(&outside);
        on_it.version_name = "1.0.2".into();
        on_it.on_builtin = false;
        let e = explain(&on_it, &paused, None);
        let r = e.rollout.unwrap();
        assert!(r.already_on && r.chosen);
        assert!(
            matches!(e.answer, Answer::NoUpdate { ref error, .. } if error == "no_new_version_available")
        );
    }

    #[test]
    fn overrides_device_choices_and_refusals_are_named() {
        let chans = channels(None);
        let e = explain(&device(A), &chans, Some(7));
        assert_eq!(e.channel.as_ref().unwrap().rule, ChannelRule::Override);
        assert_eq!(
            e.answer,
            Answer::Update {
                bundle: "1.0.3".into()
            }
        );
        assert!(e.rollout.is_none());

        // The device asks for the private channel, which does not let devices choose it.
        let mut d = device(A);
        d.default_channel = Some("beta".into());
        let e = explain(&d, &chans, None);
        assert!(e.channel.is_none() && e.target.is_none());
        assert!(
            matches!(e.answer, Answer::NoUpdate { ref error, ref kind, .. }
            if error == "no_channel" && kind == "failed")
        );

        // A flag that blocks: production builds refused on the channel.
        let mut blocked = channels(None);
        blocked[1].flags.allow_prod = false;
        let e = explain(&device(A), &blocked, None);
        assert!(
            matches!(e.answer, Answer::NoUpdate { ref error, ref kind, .. }
            if error == "disable_prod_build" && kind == "blocked")
        );
        assert_eq!(e.target.as_deref(), Some("1.0.1"));
    }
}
