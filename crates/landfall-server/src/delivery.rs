//! Download URLs handed to devices: where each bundle zip and manifest file is fetched from.
//!
//! The catalog stores blob links as `/blobs/<sha256>`; [`Delivery::link`] turns them into what the
//! `download` setting asks for:
//! - `proxy` (default): `<public URL or Host>/blobs/<sha256>`, streamed by Landfall with `Range`;
//! - `public`: `<download_base>/<sha256>`, a CDN or public-read URL over `<prefix>/blobs/`;
//! - `presign`: a presigned bucket URL, valid for `presign_expiry` (cached and reused for half of
//!   that, so a busy update check signs each blob about once per half-life, not per request).
//!
//! Geo-split: with `download_base_mainland`/`download_base_global` set (per app, or for the whole
//! server), a device whose client
//! address (the peer, or the first untrusted hop of `X-Forwarded-For` behind `trusted_proxies`) is
//! in mainland China — by the built-in table of [`landfall_icp::ip`] — gets the mainland base;
//! any other gets the global one. Addresses the table cannot place count as mainland (the
//! ICP-filed CDN is the app's home). The `X-Landfall-Download` answer header says what was chosen.
//! ICP documents are never linked from here: they are only served, authorised, by the admin API.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use landfall_icp::ip::{IpClass, IpTable};
use landfall_store::blob::BlobStore;
use landfall_store::AppSettings;
use parking_lot::Mutex;

use crate::settings::{DeliverySettings, DownloadMode};

/// The connecting peer's address, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Which side of the geo split a device is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Mainland,
    Global,
}

/// Where one answer's links point (see [`Delivery::plan`]); borrows the settings it was made
/// from, so planning allocates nothing on the update check's hot path.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    region: Region,
    how: How<'a>,
}

#[derive(Debug, Clone, Copy)]
enum How<'a> {
    /// `<request base>/blobs/<sha256>`.
    Proxy,
    /// `<base>/<sha256>`; which setting it came from.
    Base(&'a str, Via),
    Presign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Public,
    AppBase,
    ServerBase,
}

impl Plan<'_> {
    /// The `X-Landfall-Download` header value, e.g. `region=mainland; via=base-mainland`.
    pub fn header(&self) -> &'static str {
        use Region::{Global as G, Mainland as M};
        match (self.region, self.how) {
            (M, How::Proxy) => "region=mainland; via=proxy",
            (G, How::Proxy) => "region=global; via=proxy",
            (M, How::Presign) => "region=mainland; via=presign",
            (G, How::Presign) => "region=global; via=presign",
            (M, How::Base(_, Via::Public)) => "region=mainland; via=public",
            (G, How::Base(_, Via::Public)) => "region=global; via=public",
            (M, How::Base(_, Via::AppBase)) => "region=mainland; via=app-base-mainland",
            (G, How::Base(_, Via::AppBase)) => "region=global; via=app-base-global",
            (M, How::Base(_, Via::ServerBase)) => "region=mainland; via=base-mainland",
            (G, How::Base(_, Via::ServerBase)) => "region=global; via=base-global",
        }
    }
}

/// Builds download links (see the module docs).
pub struct Delivery {
    settings: DeliverySettings,
    blobs: Arc<dyn BlobStore>,
    /// sha256 → (presigned URL, when it was signed).
    presigned: Mutex<HashMap<String, (Arc<str>, Instant)>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub fn new(settings: DeliverySettings, blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            settings,
            blobs,
            presigned: Mutex::new(HashMap::new()),
        }
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the right-most
    /// `X-Forwarded-For` hop that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.settings.trusted_proxies.iter().any(|n| n.contains(ip));
        let mut ip = peer?;
        if !trusted(&ip) {
            return Some(ip);
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(h) => {
                    ip = h;
                    if !trusted(&h) {
                        break;
                    }
                }
                // A garbled hop: stop at the last address we could trust.
                Err(_) => break,
            }
        }
        Some(ip)
    }

    /// Mainland (or unplaceable) → [`Region::Mainland`]; elsewhere, private and unknown peers →
    /// [`Region::Global`].
    pub fn region(ip: Option<IpAddr>) -> Region {
        match ip.map(|ip| IpTable::builtin().classify(ip)) {
            Some(IpClass::Mainland) | Some(IpClass::Unknown) => Region::Mainland,
            Some(IpClass::NotMainland) | None => Region::Global,
        }
    }

    /// Decide where this request's links point: the app's base for the device's region, else the
    /// server's, else the download mode.
    pub fn plan<'a>(
        &'a self,
        app: &'a AppSettings,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Plan<'a> {
        let region = Self::region(self.client_ip(peer, headers));
        let (app_base, server_base) = match region {
            Region::Mainland => (&app.download_base_mainland, &self.settings.base_mainland),
            Region::Global => (&app.download_base_global, &self.settings.base_global),
        };
        let how = match (app_base, server_base) {
            (Some(b), _) => How::Base(b, Via::AppBase),
            (None, Some(b)) => How::Base(b, Via::ServerBase),
            (None, None) => match self.settings.mode {
                DownloadMode::Proxy => How::Proxy,
                DownloadMode::Public => How::Base(
                    self.settings.base.as_deref().unwrap_or_default(),
                    Via::Public,
                ),
                DownloadMode::Presign => How::Presign,
            },
        };
        Plan { region, how }
    }

    /// Turn a stored link into a device link: `/blobs/<sha256>` follows the plan; absolute URLs
    /// (external bundles) pass through. `request_base` is the server's own base URL (the public
    /// URL, or from the Host header).
    pub async fn link(&self, plan: &Plan<'_>, request_base: &str, stored: &str) -> String {
        let Some(sha) = stored.strip_prefix("/blobs/") else {
            return if stored.starts_with('/') {
                format!("{request_base}{stored}")
            } else {
                stored.to_owned()
            };
        };
        match plan.how {
            How::Proxy => format!("{request_base}{stored}"),
            How::Base(base, _) => format!("{base}/{sha}"),
            How::Presign => match self.presign(sha).await {
                Some(url) => url.to_string(),
                // The bucket cannot sign right now: Landfall streams it instead.
                None => format!("{request_base}{stored}"),
            },
        }
    }

    async fn presign(&self, sha: &str) -> Option<Arc<str>> {
        let ttl = self.settings.presign_expiry;
        if let Some((url, at)) = self.presigned.lock().get(sha) {
            if at.elapsed() < ttl / 2 {
                return Some(url.clone());
            }
        }
        match self.blobs.presign_get(sha, ttl).await {
            Ok(Some(url)) => {
                let url: Arc<str> = url.into();
                let mut cache = self.presigned.lock();
                // Forget expired entries now and then (deleted bundles' blobs).
                if cache.len() > 4096 {
                    cache.retain(|_, (_, at)| at.elapsed() < ttl / 2);
                }
                cache.insert(sha.to_owned(), (url.clone(), Instant::now()));
                Some(url)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot presign a download URL; serving it through Landfall");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn delivery(mode: DownloadMode, trusted: &[&str], geo: bool) -> Delivery {
        let dir = tempfile::tempdir().unwrap().keep();
        Delivery::new(
            DeliverySettings {
                mode,
                base: Some("https://cdn.example.com/lf/blobs".into()),
                base_mainland: geo.then(|| "https://cdn.example.cn/blobs".into()),
                base_global: geo.then(|| "https://global.example.com/blobs".into()),
                presign_expiry: Duration::from_secs(3600),
                trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            },
            Arc::new(landfall_store::blob::LocalBlobStore::open(dir).unwrap()),
        )
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    static NO_APP_BASES: AppSettings = AppSettings {
        expose_metadata: false,
        allow_device_custom_id: true,
        download_base_mainland: None,
        download_base_global: None,
    };

    const SHA: &str = "4815fdee19163c8c7dedc438c32bcd1a3d8d9218835ba099371efadaeb00cac4";

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let d = delivery(DownloadMode::Proxy, &["10.0.0.0/8"], true);
        let peer = Some("10.1.2.3".parse().unwrap());
        // Behind the trusted balancer: the right-most untrusted hop is the client.
        assert_eq!(
            d.client_ip(peer, &xff("8.8.8.8, 114.114.114.114, 10.9.9.9")),
            Some("114.114.114.114".parse().unwrap())
        );
        // A device talking directly cannot claim another address.
        let direct = Some("8.8.8.8".parse().unwrap());
        assert_eq!(d.client_ip(direct, &xff("114.114.114.114")), direct);
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(d.client_ip(peer, &xff("nonsense")), peer);
        assert_eq!(d.client_ip(None, &xff("1.2.3.4")), None);
    }

    #[tokio::test]
    async fn links_follow_the_mode_and_the_region() {
        let d = delivery(DownloadMode::Proxy, &[], false);
        let plan = d.plan(&NO_APP_BASES, None, &HeaderMap::new());
        let stored = format!("/blobs/{SHA}");
        assert_eq!(
            d.link(&plan, "https://u.example.cn", &stored).await,
            format!("https://u.example.cn/blobs/{SHA}")
        );
        assert_eq!(
            d.link(&plan, "https://u.example.cn", "https://x.example/b.zip")
                .await,
            "https://x.example/b.zip"
        );
        assert_eq!(
            plan.header(),
            "region=global; via=proxy",
            "no address: global"
        );

        let d = delivery(DownloadMode::Public, &[], false);
        let plan = d.plan(&NO_APP_BASES, None, &HeaderMap::new());
        assert_eq!(
            d.link(&plan, "https://u", &stored).await,
            format!("https://cdn.example.com/lf/blobs/{SHA}")
        );

        let d = delivery(DownloadMode::Proxy, &[], true);
        let cn = d.plan(
            &NO_APP_BASES,
            Some("114.114.114.114".parse().unwrap()),
            &HeaderMap::new(),
        );
        assert_eq!(cn.header(), "region=mainland; via=base-mainland");
        assert_eq!(
            d.link(&cn, "b", &stored).await,
            format!("https://cdn.example.cn/blobs/{SHA}")
        );
        let abroad = d.plan(
            &NO_APP_BASES,
            Some("8.8.8.8".parse().unwrap()),
            &HeaderMap::new(),
        );
        assert_eq!(abroad.header(), "region=global; via=base-global");
        assert_eq!(
            d.link(&abroad, "b", &stored).await,
            format!("https://global.example.com/blobs/{SHA}")
        );
    }

    #[tokio::test]
    async fn an_apps_own_bases_win_over_the_servers() {
        let d = delivery(DownloadMode::Proxy, &[], true);
        let app = AppSettings {
            download_base_mainland: Some("https://app-cdn.example.cn/b".into()),
            ..Default::default()
        };
        let stored = format!("/blobs/{SHA}");
        let cn = d.plan(
            &app,
            Some("114.114.114.114".parse().unwrap()),
            &HeaderMap::new(),
        );
        assert_eq!(cn.header(), "region=mainland; via=app-base-mainland");
        assert_eq!(
            d.link(&cn, "b", &stored).await,
            format!("https://app-cdn.example.cn/b/{SHA}")
        );
        // The app sets no global base: the server's applies.
        let abroad = d.plan(&app, Some("8.8.8.8".parse().unwrap()), &HeaderMap::new());
        assert_eq!(abroad.header(), "region=global; via=base-global");
    }

    #[tokio::test]
    async fn presign_falls_back_to_the_proxy_where_the_store_cannot_sign() {
        let d = delivery(DownloadMode::Presign, &[], false);
        let plan = d.plan(&NO_APP_BASES, None, &HeaderMap::new());
        assert_eq!(plan.header(), "region=global; via=presign");
        assert_eq!(
            d.link(&plan, "https://u", &format!("/blobs/{SHA}")).await,
            format!("https://u/blobs/{SHA}")
        );
    }
}
