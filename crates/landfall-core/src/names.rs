//! Validation of the names users and devices choose: app ids, channel names, bundle versions.

use thiserror::Error;

/// A name was refused; the message says what a valid one looks like.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("invalid app id {0:?}: use a reverse-domain id like com.example.app (letters, digits, '-', '_', at least one dot)")]
    AppId(String),
    #[error("invalid channel name {0:?}: use 1-64 characters from letters, digits, '.', '-', '_'")]
    Channel(String),
    #[error("invalid bundle version {0:?}: use a semantic version such as 1.4.2 or 2.0.0-beta.1 (\"builtin\" is reserved)")]
    Version(String),
}

/// Capgo's app id rule: `/^[a-z0-9]+(\.[\w-]+)+$/i`, at most 128 characters.
pub fn is_valid_app_id(s: &str) -> bool {
    if s.is_empty() || s.len() > 128 {
        return false;
    }
    let mut parts = s.split('.');
    let first = parts.next().unwrap_or_default();
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let mut rest = 0;
    for p in parts {
        if p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return false;
        }
        rest += 1;
    }
    rest > 0
}

/// Check an app id.
pub fn app_id(s: &str) -> Result<&str, NameError> {
    if is_valid_app_id(s) {
        Ok(s)
    } else {
        Err(NameError::AppId(crate::clip(s).into_owned()))
    }
}

/// Check a channel name.
pub fn channel_name(s: &str) -> Result<&str, NameError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(s)
    } else {
        Err(NameError::Channel(crate::clip(s).into_owned()))
    }
}

/// Check a bundle version name: valid semver, not `builtin`, at most 64 characters.
pub fn bundle_version(s: &str) -> Result<semver::Version, NameError> {
    if s.len() > 64 {
        return Err(NameError::Version(crate::clip(s).into_owned()));
    }
    semver::Version::parse(s).map_err(|_| NameError::Version(crate::clip(s).into_owned()))
}

/// Whether a device id has the plugin's shape (a UUID, at most 36 chars, case-insensitive).
pub fn is_valid_device_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids() {
        for ok in [
            "com.example.app",
            "io.ionic.starter",
            "a.b",
            "com.my-co.app_2",
            "COM.Example.App",
        ] {
            assert!(is_valid_app_id(ok), "{ok}");
        }
        for bad in [
            "",
            "app",
            "com..app",
            ".com.app",
            "com.app.",
            "com/app",
            "c-o.app",
            "com.ex ample",
        ] {
            assert!(!is_valid_app_id(bad), "{bad}");
        }
    }

    #[test]
    fn channels_and_versions() {
        assert!(channel_name("production").is_ok());
        assert!(channel_name("beta-1.x_y").is_ok());
        assert!(channel_name("").is_err());
        assert!(channel_name("with space").is_err());
        assert!(channel_name(&"x".repeat(65)).is_err());
        assert!(bundle_version("1.0.1").is_ok());
        assert!(bundle_version("2.0.0-rc.1").is_ok());
        assert!(bundle_version("builtin").is_err());
        assert!(bundle_version("1.0").is_err());
    }

    #[test]
    fn device_ids() {
        assert!(is_valid_device_id("6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f"));
        assert!(is_valid_device_id("6F1C2A9E-3B1D-4C55-9D0E-0A1B2C3D4E5F"));
        assert!(!is_valid_device_id("6f1c2a9e3b1d4c559d0e0a1b2c3d4e5f"));
        assert!(!is_valid_device_id("zf1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f"));
    }
}
