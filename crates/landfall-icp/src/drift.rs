//! Drift detection: hosts referenced by `http://`/`https://` URLs in an app bundle's HTML/JS/JSON,
//! compared with the domains declared in the filing (a filed domain covers its subdomains).
//!
//! This is text scanning, not a JS/HTML parser: it finds literal URLs (including JSON-escaped
//! `https:\/\/host`), lower-cases the host, strips user-info, port and a trailing dot, and ignores
//! things that are obviously not real hosts (template placeholders, `localhost`, RFC 2606/6761
//! example and reserved names, single-label names, XML-namespace hosts such as `www.w3.org`).

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Hosts that appear as XML/RDF namespace identifiers in markup and bundles and are not fetched.
const NAMESPACE_HOSTS: &[&str] = &[
    "www.w3.org",
    "w3.org",
    "ns.adobe.com",
    "purl.org",
    "schemas.android.com",
    "schemas.microsoft.com",
    "schemas.openxmlformats.org",
    "schemas.xmlsoap.org",
    "xmlns.com",
];

/// Reserved/special top-level names (RFC 2606, RFC 6761, mDNS) that are never public hosts.
const RESERVED_TLDS: &[&str] = &[
    "example",
    "test",
    "invalid",
    "localhost",
    "local",
    "internal",
    "lan",
    "home",
    "arpa",
];

/// Second-level names reserved for documentation (RFC 2606).
const EXAMPLE_DOMAINS: &[&str] = &["example.com", "example.net", "example.org", "example.cn"];

/// Finds the hosts of all `http://` and `https://` URLs in `text` (HTML, JS, JSON, …).
pub fn extract_hosts(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(off) = lower[i..].find("http") {
        let start = i + off;
        i = start + 4;
        let mut j = start + 4;
        if bytes.get(j) == Some(&b's') {
            j += 1;
        }
        if bytes.get(j) != Some(&b':') {
            continue;
        }
        j += 1;
        // Accept "//" and the JSON-escaped "\/\/".
        let rest = &lower[j..];
        let after = if let Some(r) = rest.strip_prefix("//") {
            r
        } else if let Some(r) = rest.strip_prefix("\\/\\/") {
            r
        } else {
            continue;
        };
        // Must not be glued to a preceding identifier character (e.g. "xhttp://").
        if start > 0 {
            let prev = bytes[start - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' {
                continue;
            }
        }
        let authority_end = after
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '\\'
                        | '?'
                        | '#'
                        | '"'
                        | '\''
                        | '`'
                        | '<'
                        | '>'
                        | '('
                        | ')'
                        | '{'
                        | '}'
                        | ','
                        | ';'
                        | '|'
                        | '^'
                        | '*'
                        | '$'
                        | '+'
                ) || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        // A template placeholder directly after the scheme (`https://${host}`, `http://{{api}}`)
        // leaves an empty authority here and is skipped below.
        let terminator = after[authority_end..].chars().next();
        if matches!(terminator, Some('$' | '{' | '+' | '*' | '`')) {
            i = j;
            continue;
        }
        if let Some(host) = normalize_host(authority) {
            out.insert(host);
        }
        i = j;
    }
    out
}

/// Normalises an authority (`user:pw@Host.Example.com.:8443`) to a host, or `None` if it is
/// obviously not a real public host name or IP literal.
fn normalize_host(authority: &str) -> Option<String> {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        // IPv6 literal
        let end = rest.find(']')?;
        let lit = &rest[..end];
        let ip: Ipv6Addr = lit.parse().ok()?;
        return Some(ip.to_string());
    } else {
        match host_port.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            Some(_) => return None,
            None => host_port,
        }
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(ip.to_string());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return None; // single-label names (localhost, intranet hosts, placeholders)
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-') {
            return None;
        }
        if !l.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
        }) {
            return None;
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) || tld.len() < 2 {
        return None; // "1.2.3" or "a.b" style fragments, not a host
    }
    if RESERVED_TLDS.contains(&tld) {
        return None;
    }
    if EXAMPLE_DOMAINS.iter().any(|d| covered_by(host, d)) {
        return None;
    }
    if NAMESPACE_HOSTS.contains(&host) {
        return None;
    }
    Some(host.to_string())
}

/// Normalises a filed domain for matching: lower-case, without scheme, path, port, wildcard
/// (`*.`), leading/trailing dots.
pub fn normalize_domain(domain: &str) -> String {
    let d = domain.trim().to_lowercase();
    let d = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(&d);
    let d = d.split(['/', '?', '#']).next().unwrap_or("");
    let d = d.rsplit('@').next().unwrap_or(d);
    let d = match d.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => d,
    };
    d.trim_start_matches("*.").trim_matches('.').to_string()
}

/// Whether `host` equals `domain` or is a subdomain of it (both already normalised).
pub fn covered_by(host: &str, domain: &str) -> bool {
    !domain.is_empty()
        && (host == domain
            || (host.len() > domain.len()
                && host.ends_with(domain)
                && host.as_bytes()[host.len() - domain.len() - 1] == b'.'))
}

/// Hosts in `found` not covered by any filed domain (a filed domain covers its subdomains:
/// `example.cn` covers `api.example.cn`, but not `badexample.cn`).
pub fn undeclared_hosts<S: AsRef<str>>(
    found: &BTreeSet<String>,
    filed_domains: &[S],
) -> BTreeSet<String> {
    let filed: Vec<String> = filed_domains
        .iter()
        .map(|d| normalize_domain(d.as_ref()))
        .filter(|d| !d.is_empty())
        .collect();
    found
        .iter()
        .filter(|h| {
            let h = h.to_lowercase();
            !filed.iter().any(|d| covered_by(&h, d))
        })
        .cloned()
        .collect()
}
