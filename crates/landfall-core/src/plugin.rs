//! Wire shapes of the plugin protocol (`/updates`, `/stats`, `/channel_self`) and their validation.
//!
//! The request side is parsed leniently (unknown keys ignored, missing booleans defaulted like Capgo)
//! and then validated into a [`DeviceInfo`], which is what the decision logic sees.

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::names::{is_valid_app_id, is_valid_device_id};
use crate::version::coerce_semver;

/// The info object every plugin request carries (protocol §2.2), as received.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct InfoObject {
    pub platform: Option<String>,
    pub device_id: Option<String>,
    pub app_id: Option<String>,
    pub custom_id: Option<String>,
    pub version_build: Option<String>,
    pub version_code: Option<String>,
    pub version_os: Option<String>,
    pub version_name: Option<String>,
    pub plugin_version: Option<String>,
    pub is_emulator: Option<bool>,
    pub is_prod: Option<bool>,
    pub install_source: Option<String>,
    #[serde(rename = "defaultChannel")]
    pub default_channel: Option<String>,
    pub key_id: Option<String>,
    /// Only on `POST /channel_self`.
    pub channel: Option<String>,
}

/// Device platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Ios,
    Android,
    Electron,
}

impl Platform {
    /// Parse the plugin's platform string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ios" => Some(Self::Ios),
            "android" => Some(Self::Android),
            "electron" => Some(Self::Electron),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::Android => "android",
            Self::Electron => "electron",
        }
    }
}

/// A validated, normalised device request.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    pub platform: Platform,
    /// Lower-cased UUID.
    pub device_id: String,
    pub app_id: String,
    pub custom_id: String,
    /// The raw native version as sent.
    pub version_build_raw: String,
    /// The native version coerced to semver (`None` only for the literal `unknown`).
    pub version_build: Option<Version>,
    pub version_code: String,
    pub version_os: String,
    /// Running bundle name with `builtin` replaced by `version_build` (protocol §2.2).
    pub version_name: String,
    /// Whether the device said it runs the builtin bundle.
    pub on_builtin: bool,
    pub plugin_version: Version,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub install_source: String,
    /// `defaultChannel`, `None` when empty.
    pub default_channel: Option<String>,
    /// `key_id`, `None` when absent or empty.
    pub key_id: Option<String>,
}

/// Why a request body was refused (HTTP 400 in the plugin's error shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest {
    pub error: &'static str,
    pub message: String,
}

impl InvalidRequest {
    fn new(error: &'static str, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
        }
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl InfoObject {
    /// Validate and normalise (protocol §2.2 and §4.3 step 0).
    pub fn validate(self) -> Result<DeviceInfo, InvalidRequest> {
        let app_id = non_empty(&self.app_id)
            .ok_or_else(|| InvalidRequest::new("missing_app_id", "app_id is required"))?;
        if !is_valid_app_id(app_id) {
            return Err(InvalidRequest::new(
                "invalid_app_id",
                format!(
                    "app_id {:?} is not a reverse-domain id like com.example.app",
                    crate::clip(app_id)
                ),
            ));
        }
        let device_id = non_empty(&self.device_id)
            .ok_or_else(|| InvalidRequest::new("missing_device_id", "device_id is required"))?;
        if !is_valid_device_id(device_id) {
            return Err(InvalidRequest::new(
                "invalid_device_id",
                format!("device_id {:?} is not a UUID", crate::clip(device_id)),
            ));
        }
        let platform_raw = non_empty(&self.platform)
            .ok_or_else(|| InvalidRequest::new("missing_info", "platform is required"))?;
        let platform = Platform::parse(platform_raw).ok_or_else(|| {
            InvalidRequest::new(
                "invalid_platform",
                format!(
                    "platform {:?} must be ios, android or electron",
                    crate::clip(platform_raw)
                ),
            )
        })?;
        let version_build_raw = non_empty(&self.version_build)
            .ok_or_else(|| InvalidRequest::new("missing_info", "version_build is required"))?
            .to_owned();
        let version_name_raw = non_empty(&self.version_name)
            .ok_or_else(|| InvalidRequest::new("missing_info", "version_name is required"))?;
        let version_build = if version_build_raw == "unknown" {
            None
        } else {
            Some(coerce_semver(&version_build_raw).ok_or_else(|| {
                InvalidRequest::new(
                    "semver_error",
                    format!(
                        "version_build {:?} is not a semantic version",
                        crate::clip(&version_build_raw)
                    ),
                )
            })?)
        };
        let plugin_raw = non_empty(&self.plugin_version).unwrap_or("0.0.0");
        let plugin_version = Version::parse(plugin_raw).map_err(|_| {
            InvalidRequest::new(
                "semver_error",
                format!(
                    "plugin_version {:?} is not a semantic version",
                    crate::clip(plugin_raw)
                ),
            )
        })?;
        if let Some(k) = non_empty(&self.key_id) {
            if k.len() > 20 {
                return Err(InvalidRequest::new(
                    "invalid_key_id",
                    "key_id is longer than 20 characters",
                ));
            }
        }
        let on_builtin = version_name_raw == "builtin";
        let version_name = match (&version_build, on_builtin) {
            (Some(v), true) => v.to_string(),
            (None, true) => version_build_raw.clone(),
            (_, false) => version_name_raw.to_owned(),
        };
        let clip = |v: Option<String>, max: usize| {
            let mut s = v.unwrap_or_default();
            if s.len() > max {
                let mut cut = max;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            s
        };
        Ok(DeviceInfo {
            platform,
            device_id: device_id.to_ascii_lowercase(),
            app_id: app_id.to_owned(),
            version_build_raw,
            version_build,
            version_name,
            on_builtin,
            plugin_version,
            is_emulator: self.is_emulator.unwrap_or(false),
            is_prod: self.is_prod.unwrap_or(true),
            default_channel: self.default_channel.filter(|s| !s.is_empty()),
            key_id: self.key_id.filter(|s| !s.is_empty()),
            custom_id: clip(self.custom_id, 256),
            version_code: clip(self.version_code, 64),
            version_os: clip(self.version_os, 64),
            install_source: clip(self.install_source, 64),
        })
    }
}

/// One file of a delta update (protocol §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub file_name: String,
    pub file_hash: String,
    pub download_url: String,
}

/// The success answer of `/updates` (protocol §2.3a).
#[derive(Debug, Clone, Serialize)]
pub struct UpdateAvailable<'a> {
    pub version: &'a str,
    pub url: &'a str,
    pub session_key: &'a str,
    pub checksum: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<&'a [ManifestEntry]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'a str>,
}

/// What the plugin does with a non-update answer (`kind`, protocol §2.3b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    UpToDate,
    Blocked,
    Failed,
}

/// A non-update answer in Capgo's shape: `{"error","message","kind", …extras}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginError {
    pub error: &'static str,
    pub message: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub major: Option<bool>,
    #[serde(rename = "deviceKeyId", skip_serializing_if = "Option::is_none")]
    pub device_key_id: Option<String>,
    #[serde(rename = "bundleKeyId", skip_serializing_if = "Option::is_none")]
    pub bundle_key_id: Option<String>,
}

impl PluginError {
    /// An answer with just `error`, `message` and `kind`.
    pub fn new(error: &'static str, message: impl Into<String>, kind: Kind) -> Self {
        Self {
            error,
            message: message.into(),
            kind,
            version: None,
            old: None,
            major: None,
            device_key_id: None,
            bundle_key_id: None,
        }
    }
}

impl From<InvalidRequest> for PluginError {
    fn from(e: InvalidRequest) -> Self {
        Self::new(e.error, e.message, Kind::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> InfoObject {
        serde_json::from_str(
            r#"{"platform":"android","device_id":"6F1C2A9E-3B1D-4C55-9D0E-0A1B2C3D4E5F","app_id":"com.example.capgovector",
            "custom_id":"","version_build":"1.2","version_code":"10","version_os":"14","version_name":"builtin",
            "plugin_version":"8.51.14","is_emulator":false,"is_prod":true,"install_source":"google_play","defaultChannel":"","key_id":""}"#,
        )
        .unwrap()
    }

    #[test]
    fn normalises() {
        let d = base().validate().unwrap();
        assert_eq!(d.device_id, "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f");
        assert_eq!(d.version_build, Some(Version::new(1, 2, 0)));
        assert_eq!(d.version_name, "1.2.0");
        assert!(d.on_builtin);
        assert_eq!(d.default_channel, None);
        assert_eq!(d.key_id, None);
    }

    #[test]
    fn defaults_booleans_like_capgo() {
        let mut i = base();
        i.is_emulator = None;
        i.is_prod = None;
        let d = i.validate().unwrap();
        assert!(!d.is_emulator && d.is_prod);
    }

    #[test]
    fn refuses_bad_fields() {
        let cases: Vec<(fn(&mut InfoObject), &str)> = vec![
            (|i| i.app_id = None, "missing_app_id"),
            (|i| i.app_id = Some("noperiod".into()), "invalid_app_id"),
            (|i| i.device_id = Some(String::new()), "missing_device_id"),
            (|i| i.device_id = Some("abc".into()), "invalid_device_id"),
            (|i| i.platform = Some("windows".into()), "invalid_platform"),
            (|i| i.platform = None, "missing_info"),
            (|i| i.version_name = None, "missing_info"),
            (|i| i.version_build = Some(String::new()), "missing_info"),
            (|i| i.version_build = Some("1.2.3.4".into()), "semver_error"),
            (|i| i.plugin_version = Some("eight".into()), "semver_error"),
            (|i| i.key_id = Some("x".repeat(21)), "invalid_key_id"),
        ];
        for (mutate, code) in cases {
            let mut i = base();
            mutate(&mut i);
            assert_eq!(i.validate().unwrap_err().error, code);
        }
    }

    #[test]
    fn unknown_version_build_is_kept_for_the_decision() {
        let mut i = base();
        i.version_build = Some("unknown".into());
        let d = i.validate().unwrap();
        assert_eq!(d.version_build, None);
    }

    #[test]
    fn replays_the_vector_request() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/capgo-vectors/example_updates_request_android.json"
        );
        let raw =
            std::fs::read_to_string(path).expect("shared/reference/capgo-vectors next to the repo");
        let info: InfoObject = serde_json::from_str(&raw).unwrap();
        let d = info.validate().unwrap();
        assert_eq!(d.key_id.as_deref(), Some("MIIBCgKCAQEAz/N5YWbf"));
        assert_eq!(d.version_name, "1.0.0");
        assert_eq!(d.platform, Platform::Android);
    }

    #[test]
    fn error_shape_always_has_kind() {
        let e = PluginError::new(
            "no_new_version_available",
            "No new version available",
            Kind::UpToDate,
        );
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/reference/capgo-vectors/example_updates_response_up_to_date.json"
            ))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&e).unwrap(), expected);
    }
}
