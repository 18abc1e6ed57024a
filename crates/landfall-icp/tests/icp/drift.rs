use std::collections::BTreeSet;

use landfall_icp::drift::*;

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn extracts_hosts_from_html_js_and_json() {
    let html = r#"<!doctype html>
<html><head>
<script src="https://CDN.Luming.cn:8443/app.js"></script>
<link href='http://static.luming.cn/a.css' rel=stylesheet>
<svg xmlns="http://www.w3.org/2000/svg"></svg>
</head></html>"#;
    let js = r#"
const api = "https://api.luming.cn/v1";
fetch(`https://${host}/x`); fetch("http://" + host + "/y");
const t = 'https://user:secret@tracker.ads-example.com/collect?id=1';
const dev = "http://localhost:3000/api"; const lan = "http://192.168.1.10/";
const doc = "https://example.com/docs"; const test = "https://foo.test/";
const ip = "https://8.8.8.8/dns-query"; const v6 = "https://[2400:3200::1]:443/";
const dot = "https://img.luming.cn./logo.png";
const tpl = "https://{{domain}}/x"; const bad = "https://-bad-.com/";
const notscheme = "xhttps://evil.example.org/";
"#;
    let json = r#"{"update_url":"https:\/\/ota.luming.cn\/bundle.zip","other":"HTTPS://Mixed.Case.CN/Path"}"#;
    let mut all = extract_hosts(html);
    all.extend(extract_hosts(js));
    all.extend(extract_hosts(json));
    assert_eq!(
        all,
        set(&[
            "192.168.1.10",
            "2400:3200::1",
            "8.8.8.8",
            "api.luming.cn",
            "cdn.luming.cn",
            "img.luming.cn",
            "mixed.case.cn",
            "ota.luming.cn",
            "static.luming.cn",
            "tracker.ads-example.com",
        ])
    );
    assert!(extract_hosts("no urls here, just http and https words").is_empty());
    assert!(extract_hosts("").is_empty());
    assert!(extract_hosts("https://").is_empty());
}

#[test]
fn undeclared_hosts_respect_subdomains() {
    let found = set(&[
        "api.luming.cn",
        "luming.cn",
        "badluming.cn",
        "img.cdn.partner.net",
        "tracker.other.com",
        "8.8.8.8",
    ]);
    let filed = ["Luming.CN", "*.cdn.partner.net", "https://www.unused.cn/"];
    assert_eq!(
        undeclared_hosts(&found, &filed),
        set(&["8.8.8.8", "badluming.cn", "tracker.other.com"])
    );
    let none: [&str; 0] = [];
    assert_eq!(undeclared_hosts(&found, &none), found);
    assert!(covered_by("a.b.luming.cn", "luming.cn"));
    assert!(!covered_by("luming.cn", "a.luming.cn"));
    assert_eq!(
        normalize_domain("https://User@API.Luming.cn:8080/path"),
        "api.luming.cn"
    );
}
