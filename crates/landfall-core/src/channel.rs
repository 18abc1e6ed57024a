//! Channels, their Capgo flags, and the bundles they serve, as the decision logic sees them.

use std::sync::Arc;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::plugin::{ManifestEntry, Platform};

/// Capgo's `disable_auto_update` enum: the largest jump a channel lets devices take automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableAutoUpdate {
    /// Any version may be served.
    None,
    /// Block a higher major than the native version (Capgo's default).
    #[default]
    Major,
    /// Block a different major or minor.
    Minor,
    /// Block a different major, minor or patch.
    Patch,
    /// Serve only when the native version is at least the bundle's `min_update_version`.
    VersionNumber,
}

impl DisableAutoUpdate {
    /// Parse the user-facing name (`none|major|minor|patch|version_number`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "major" => Self::Major,
            "minor" => Self::Minor,
            "patch" => Self::Patch,
            "version_number" | "metadata" => Self::VersionNumber,
            _ => return None,
        })
    }

    /// The user-facing name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Major => "major",
            Self::Minor => "minor",
            Self::Patch => "patch",
            Self::VersionNumber => "version_number",
        }
    }
}

/// Every Capgo channel flag (protocol §4.3), with Capgo's column defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelFlags {
    pub public: bool,
    pub allow_device_self_set: bool,
    pub ios: bool,
    pub android: bool,
    pub electron: bool,
    pub allow_emulator: bool,
    pub allow_device: bool,
    pub allow_dev: bool,
    pub allow_prod: bool,
    pub disable_auto_update: DisableAutoUpdate,
    pub disable_auto_update_under_native: bool,
}

impl Default for ChannelFlags {
    fn default() -> Self {
        Self {
            public: false,
            allow_device_self_set: false,
            ios: true,
            android: true,
            electron: true,
            allow_emulator: true,
            allow_device: true,
            allow_dev: true,
            allow_prod: true,
            disable_auto_update: DisableAutoUpdate::Major,
            disable_auto_update_under_native: true,
        }
    }
}

impl ChannelFlags {
    /// Whether the channel serves this platform.
    pub fn platform_enabled(&self, p: Platform) -> bool {
        match p {
            Platform::Ios => self.ios,
            Platform::Android => self.android,
            Platform::Electron => self.electron,
        }
    }
}

/// One servable form of a bundle: plain, or encrypted and signed with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleVariant {
    /// `None` for the plain variant; the key id (§5.6) of the signing key otherwise.
    pub key_id: Option<String>,
    /// Full zip URL, or a path under the server's public URL (starting with `/`); `None` if manifest-only.
    pub url: Option<String>,
    /// `""` for plain bundles.
    pub session_key: String,
    /// Plain sha256 hex, or the 512-hex signed checksum.
    pub checksum: String,
    /// Delta manifest; `download_url` may be a path under the public URL like `url`.
    pub manifest: Vec<ManifestEntry>,
}

/// A bundle as the decision logic sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleView {
    pub id: i64,
    pub name: String,
    pub version: Version,
    pub min_update_version: Option<Version>,
    pub link: Option<String>,
    pub comment: Option<String>,
    pub variants: Vec<BundleVariant>,
}

/// What a channel (or its rollout) serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bundle shipped inside the native binary.
    Builtin,
    Bundle(Arc<BundleView>),
}

impl Target {
    /// The version name devices report when running this target.
    pub fn name(&self) -> &str {
        match self {
            Target::Builtin => "builtin",
            Target::Bundle(b) => &b.name,
        }
    }
}

/// A progressive rollout of a second target on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub target: Target,
    /// Share of devices, in basis points (0–10000).
    pub basis_points: u16,
    /// A paused rollout keeps only the devices already on it.
    pub paused: bool,
}

/// A channel with everything the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelView {
    pub id: i64,
    pub name: String,
    pub flags: ChannelFlags,
    pub target: Target,
    pub rollout: Option<Rollout>,
}
