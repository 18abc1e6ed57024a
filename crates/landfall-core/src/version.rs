//! Version rules of the plugin protocol: `fixSemver` coercion and plugin feature gates.

use semver::Version;

/// Coerce a native app version the way Capgo's `fixSemver` does: `"1"` → `1.0.0`, `"1.2"` → `1.2.0`;
/// anything else must already be valid semver.
pub fn coerce_semver(raw: &str) -> Option<Version> {
    let raw = raw.trim();
    let dots = raw.bytes().filter(|b| *b == b'.').count();
    let all_numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if dots < 2 && all_numeric(raw) && !raw.starts_with('.') && !raw.ends_with('.') {
        let padded = if dots == 0 {
            format!("{raw}.0.0")
        } else {
            format!("{raw}.0")
        };
        return Version::parse(&padded).ok();
    }
    Version::parse(raw).ok()
}

/// Features that depend on the plugin version sending the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginCaps {
    /// Understands `manifest` (delta updates): ≥ 5.10.0 / 6.25.0 / 7.0.35, every 8.x and later.
    pub manifest: bool,
    /// Reverts to builtin on `{"version":"builtin"}`: ≥ 6.2.0.
    pub revert_to_builtin: bool,
    /// Shows `link` / `comment`: ≥ x.35.0 (5.35, 6.35, 7.35) or 8.x and later.
    pub link_comment: bool,
    /// Keeps its channel choice on the device (`defaultChannel`): ≥ 5.34.0 / 6.34.0 / 7.34.0, every
    /// 8.x. Older plugins rely on the server to store the choice (`POST`/`DELETE /channel_self`).
    pub local_channel: bool,
}

impl PluginCaps {
    /// Capabilities of a given plugin version.
    pub fn of(v: &Version) -> Self {
        let ge = |maj: u64, min: u64, pat: u64| (v.major, v.minor, v.patch) >= (maj, min, pat);
        let manifest = match v.major {
            0..=4 => false,
            5 => ge(5, 10, 0),
            6 => ge(6, 25, 0),
            7 => ge(7, 0, 35),
            _ => true,
        };
        let link_comment = match v.major {
            0..=4 => false,
            5..=7 => v.minor >= 35,
            _ => true,
        };
        let local_channel = match v.major {
            0..=4 => false,
            5..=7 => v.minor >= 34,
            _ => true,
        };
        Self {
            manifest,
            revert_to_builtin: ge(6, 2, 0),
            link_comment,
            local_channel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coerces_like_fix_semver() {
        assert_eq!(coerce_semver("1").unwrap(), Version::new(1, 0, 0));
        assert_eq!(coerce_semver("1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(coerce_semver("1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(
            coerce_semver("2.0.0-beta.1").unwrap().pre.as_str(),
            "beta.1"
        );
        assert!(coerce_semver("1.2.3.4").is_none());
        assert!(coerce_semver("unknown").is_none());
        assert!(coerce_semver("").is_none());
        assert!(coerce_semver("1.").is_none());
    }

    #[test]
    fn plugin_caps() {
        let caps = |s: &str| PluginCaps::of(&Version::parse(s).unwrap());
        assert!(caps("8.51.14").manifest && caps("8.0.0").link_comment);
        assert!(!caps("7.0.34").manifest && caps("7.0.35").manifest);
        for legacy in ["5.33.9", "6.33.0", "7.33.99", "5.0.0"] {
            assert!(!caps(legacy).local_channel, "{legacy}");
        }
        for local in ["5.34.0", "6.34.0", "7.34.0", "7.40.1", "8.0.0", "8.51.14"] {
            assert!(caps(local).local_channel, "{local}");
        }
        assert!(!caps("6.24.9").manifest && caps("6.25.0").manifest);
        assert!(!caps("6.1.9").revert_to_builtin && caps("6.2.0").revert_to_builtin);
        assert!(!caps("7.34.0").link_comment && caps("7.35.0").link_comment);
        assert!(!caps("4.9.0").manifest);
    }
}
