//! The `/updates` decision (protocol §4.3): which channel a device resolves to and what it gets.
//!
//! Pure function of the device's request, the app's channels and an optional admin override.
//! Steps run in Capgo's order; each either answers or continues.

use std::sync::Arc;

use crate::channel::{BundleVariant, BundleView, ChannelView, DisableAutoUpdate, Target};
use crate::plugin::{DeviceInfo, Kind, PluginError};
use crate::version::PluginCaps;

/// How the device reached its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An admin forced this device onto the channel.
    Override,
    /// The device asked for it (`defaultChannel` from config or `setChannel`).
    DefaultChannel,
    /// The app's public channel for the platform.
    Public,
}

/// The answer to an update check.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<'a> {
    /// Send `{"version","url","session_key","checksum"[,"manifest"]}`.
    Update {
        bundle: &'a Arc<BundleView>,
        variant: &'a BundleVariant,
        /// Whether the plugin understands `manifest`.
        send_manifest: bool,
        /// Whether the plugin shows `link`/`comment`.
        send_link: bool,
    },
    /// Send `{"version":"builtin"}`: the plugin resets to the binary's bundle.
    RevertToBuiltin,
    /// Send the error shape.
    Refuse(PluginError),
}

/// A decision plus the channel it was made on (for device records).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<'a> {
    pub channel: Option<(&'a ChannelView, Via)>,
    pub decision: Decision<'a>,
}

fn refuse(error: &'static str, message: impl Into<String>, kind: Kind) -> Decision<'static> {
    Decision::Refuse(PluginError::new(error, message, kind))
}

/// Resolve the channel for a device: override > `defaultChannel` > public channel (protocol §4.3 step 1).
///
/// `channels` must be sorted by `(name, id)` so "the lowest name" wins among several public channels.
pub fn resolve_channel<'a>(
    device: &DeviceInfo,
    channels: &'a [ChannelView],
    override_channel: Option<i64>,
) -> Result<(&'a ChannelView, Via), PluginError> {
    if let Some(id) = override_channel {
        if let Some(c) = channels.iter().find(|c| c.id == id) {
            return Ok((c, Via::Override));
        }
    }
    if let Some(wanted) = device.default_channel.as_deref() {
        return channels
            .iter()
            .find(|c| {
                c.name == wanted
                    && c.flags.platform_enabled(device.platform)
                    && (c.flags.public || c.flags.allow_device_self_set)
            })
            .map(|c| (c, Via::DefaultChannel))
            .ok_or_else(|| {
                PluginError::new(
                    "no_channel",
                    format!(
                        "Channel {wanted:?} does not exist, is off for {}, or does not allow devices to choose it",
                        device.platform.as_str()
                    ),
                    Kind::Failed,
                )
            });
    }
    public_channel(device, channels)
        .map(|c| (c, Via::Public))
        .ok_or_else(|| {
            PluginError::new(
                "no_channel",
                format!(
                    "No public channel for {} and no channel assigned to this device",
                    device.platform.as_str()
                ),
                Kind::Failed,
            )
        })
}

/// The app's public channel for the device's platform (the lowest name if several): what a device
/// without an override or a choice of its own gets.
pub fn public_channel<'a>(
    device: &DeviceInfo,
    channels: &'a [ChannelView],
) -> Option<&'a ChannelView> {
    channels
        .iter()
        .find(|c| c.flags.public && c.flags.platform_enabled(device.platform))
}

/// A stable bucket in 0..10000 for a device in a rollout (FNV-1a over channel, target and device).
pub fn rollout_bucket(device_id: &str, channel_id: i64, target: &str) -> u16 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in channel_id
        .to_le_bytes()
        .iter()
        .chain(target.as_bytes())
        .chain(&[0xff])
        .chain(device_id.as_bytes())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as u16
}

/// The target a device gets on a channel, honouring a rollout (protocol §4.3 step 2).
///
/// A rollout at 0 % is off: every device gets the channel's target, including devices already on
/// the rollout bundle (as in Capgo; pulling a bad rollout to 0 % takes it back from everyone).
/// Above 0 %, devices already on the rollout bundle keep it; a paused rollout takes no new device.
pub fn pick_target<'a>(device: &DeviceInfo, channel: &'a ChannelView) -> &'a Target {
    if let Some(r) = channel.rollout.as_ref().filter(|r| r.basis_points > 0) {
        let already_on = device.version_name == r.target.name() && !device.on_builtin
            || (device.on_builtin && matches!(r.target, Target::Builtin));
        let chosen = !r.paused
            && rollout_bucket(&device.device_id, channel.id, r.target.name()) < r.basis_points;
        if already_on || chosen {
            return &r.target;
        }
    }
    &channel.target
}

/// Decide what a device gets (protocol §4.3).
pub fn decide<'a>(
    device: &DeviceInfo,
    channels: &'a [ChannelView],
    override_channel: Option<i64>,
) -> Outcome<'a> {
    let caps = PluginCaps::of(&device.plugin_version);
    // Step 0.
    let Some(build) = device.version_build.as_ref() else {
        return Outcome {
            channel: None,
            decision: refuse(
                "unknown_version_build",
                "version_build is \"unknown\"",
                Kind::Failed,
            ),
        };
    };
    if device.plugin_version.major == 4 {
        return Outcome {
            channel: None,
            decision: refuse(
                "unsupported_plugin_version",
                "Plugin 4.x is not supported: upgrade @capgo/capacitor-updater",
                Kind::Failed,
            ),
        };
    }
    // Step 1.
    let (channel, via) = match resolve_channel(device, channels, override_channel) {
        Ok(found) => found,
        Err(e) => {
            return Outcome {
                channel: None,
                decision: Decision::Refuse(e),
            }
        }
    };
    let outcome = |decision| Outcome {
        channel: Some((channel, via)),
        decision,
    };
    // Step 2.
    let target = pick_target(device, channel);
    let flags = &channel.flags;
    let blocked = |error: &'static str, message: String, target_name: &str, major: bool| {
        let mut e = PluginError::new(error, message, Kind::Blocked);
        e.version = Some(target_name.to_owned());
        e.old = Some(build.to_string());
        e.major = major.then_some(true);
        Decision::Refuse(e)
    };

    let bundle = match target {
        Target::Builtin => None,
        Target::Bundle(b) => Some(b),
    };
    // Steps 3-5 for real bundles.
    let mut chosen_variant = None;
    if let Some(b) = bundle {
        if b.variants.is_empty() {
            return outcome(refuse(
                "no_bundle",
                format!("Bundle {} has no stored file", b.name),
                Kind::Failed,
            ));
        }
        let variant = b.variants.iter().find(|v| v.key_id == device.key_id);
        let Some(variant) = variant else {
            let bundle_key = b.variants.iter().find_map(|v| v.key_id.clone());
            let mut e = PluginError::new(
                "key_id_mismatch",
                match (&device.key_id, &bundle_key) {
                    (Some(d), Some(k)) => format!(
                        "Bundle {} is signed with key {k}, the app has key {d}: upload it signed with the app's key",
                        b.name
                    ),
                    (Some(d), None) => format!(
                        "The app has a publicKey (key {d}) but bundle {} is not encrypted: upload it with --key",
                        b.name
                    ),
                    (None, _) => format!(
                        "Bundle {} is encrypted but the app sends no key_id: add the publicKey to capacitor.config",
                        b.name
                    ),
                },
                Kind::Blocked,
            );
            e.device_key_id = Some(device.key_id.clone().unwrap_or_default());
            e.bundle_key_id = Some(bundle_key.unwrap_or_default());
            return outcome(Decision::Refuse(e));
        };
        if variant.url.is_none() && variant.manifest.is_empty() {
            return outcome(refuse(
                "no_bundle_url",
                format!("Bundle {} has no URL", b.name),
                Kind::Failed,
            ));
        }
        if device.version_name == b.name {
            return outcome(refuse(
                "no_new_version_available",
                "No new version available",
                Kind::UpToDate,
            ));
        }
        chosen_variant = Some(variant);
    }

    // Step 6: channel flags.
    if !flags.platform_enabled(device.platform) {
        let code = match device.platform {
            crate::plugin::Platform::Ios => "disabled_platform_ios",
            crate::plugin::Platform::Android => "disabled_platform_android",
            crate::plugin::Platform::Electron => "disabled_platform_electron",
        };
        return outcome(blocked(
            code,
            format!(
                "Channel {} is off for {}",
                channel.name,
                device.platform.as_str()
            ),
            target.name(),
            false,
        ));
    }
    if let Some(b) = bundle {
        let t = &b.version;
        if flags.disable_auto_update == DisableAutoUpdate::Major && t.major > build.major {
            return outcome(blocked(
                "disable_auto_update_to_major",
                format!(
                    "Channel {} does not auto-update from native {build} to a new major ({t})",
                    channel.name
                ),
                &b.name,
                true,
            ));
        }
    }
    if !flags.public && !flags.allow_device_self_set && via != Via::Override {
        return outcome(blocked(
            "cannot_update_via_private_channel",
            format!(
                "Channel {} is private: only devices forced onto it by an admin get updates",
                channel.name
            ),
            target.name(),
            false,
        ));
    }
    if let Some(b) = bundle {
        let t = &b.version;
        let (name, cname) = (&b.name, &channel.name);
        match flags.disable_auto_update {
            DisableAutoUpdate::Minor if t.major != build.major || t.minor != build.minor => {
                return outcome(blocked(
                    "disable_auto_update_to_minor",
                    format!("Channel {cname} only serves the native minor version {build}; bundle is {t}"),
                    name,
                    true,
                ));
            }
            DisableAutoUpdate::Patch if (t.major, t.minor, t.patch) != (build.major, build.minor, build.patch) => {
                return outcome(blocked(
                    "disable_auto_update_to_patch",
                    format!("Channel {cname} only serves the native patch version {build}; bundle is {t}"),
                    name,
                    true,
                ));
            }
            DisableAutoUpdate::VersionNumber => match &b.min_update_version {
                None => {
                    return outcome(refuse(
                        "misconfigured_channel",
                        format!("Channel {cname} blocks by version number but bundle {name} has no min_update_version"),
                        Kind::Failed,
                    ))
                }
                Some(min) if min > build => {
                    return outcome(blocked(
                        "disable_auto_update_to_metadata",
                        format!("Bundle {name} needs native version {min} or later; the device has {build}"),
                        name,
                        true,
                    ))
                }
                Some(_) => {}
            },
            _ => {}
        }
        if flags.disable_auto_update_under_native && t < build {
            return outcome(blocked(
                "disable_auto_update_under_native",
                format!("Bundle {t} is older than the native version {build}"),
                name,
                false,
            ));
        }
    }
    if !flags.allow_prod && device.is_prod {
        return outcome(blocked(
            "disable_prod_build",
            format!("Channel {} does not serve production builds", channel.name),
            target.name(),
            false,
        ));
    }
    if !flags.allow_dev && !device.is_prod {
        return outcome(blocked(
            "disable_dev_build",
            format!("Channel {} does not serve development builds", channel.name),
            target.name(),
            false,
        ));
    }
    if !flags.allow_device && !device.is_emulator {
        return outcome(blocked(
            "disable_device",
            format!("Channel {} does not serve physical devices", channel.name),
            target.name(),
            false,
        ));
    }
    if !flags.allow_emulator && device.is_emulator {
        return outcome(blocked(
            "disable_emulator",
            format!("Channel {} does not serve emulators", channel.name),
            target.name(),
            false,
        ));
    }

    // Step 7: builtin.
    let (Some(bundle), Some(variant)) = (bundle, chosen_variant) else {
        if device.on_builtin {
            let mut e = PluginError::new(
                "already_on_builtin",
                "Already on the builtin bundle",
                Kind::UpToDate,
            );
            e.version = Some("builtin".into());
            return outcome(Decision::Refuse(e));
        }
        if !caps.revert_to_builtin {
            return outcome(refuse(
                "revert_to_builtin_plugin_version_too_old",
                "Reverting to builtin needs @capgo/capacitor-updater 6.2.0 or later",
                Kind::Failed,
            ));
        }
        return outcome(Decision::RevertToBuiltin);
    };
    // Step 8.
    let send_manifest = caps.manifest && !variant.manifest.is_empty();
    if variant.url.is_none() && !send_manifest {
        return outcome(refuse(
            "no_bundle_url",
            format!(
                "Bundle {} is manifest-only and this plugin version cannot use a manifest",
                bundle.name
            ),
            Kind::Failed,
        ));
    }
    outcome(Decision::Update {
        bundle,
        variant,
        send_manifest,
        send_link: caps.link_comment,
    })
}

#[cfg(test)]
mod tests;
