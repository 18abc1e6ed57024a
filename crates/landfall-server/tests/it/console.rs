//! The web console as the server serves it: the page and its files with their content types,
//! caching and security headers; unknown files; and the console's sources themselves (the
//! embedded list matches the folder, no HTML parsing of data, no inline script or style, and
//! both dictionaries complete — every key the JS asks for exists, every server error code has
//! a translation, and no Chinese value is left in English).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use landfall_server::console::{ASSETS, CONTENT_SECURITY_POLICY};
use regex::Regex;

use crate::support::{Reply, TestApp};

fn console_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("console")
}

async fn get(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.send(b.body(Body::empty()).unwrap()).await
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {:?}", r.headers))
        .to_str()
        .unwrap()
}

#[track_caller]
fn assert_security_headers(r: &Reply) {
    assert_eq!(
        header(r, "content-security-policy"),
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(header(r, "x-content-type-options"), "nosniff");
    assert_eq!(header(r, "referrer-policy"), "no-referrer");
    assert_eq!(header(r, "x-frame-options"), "DENY");
    assert_eq!(header(r, "cross-origin-opener-policy"), "same-origin");
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_csp_and_security_headers() {
    let app = TestApp::new().await;
    let r = get(&app, "/", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    assert_security_headers(&r);
    assert_eq!(
        CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    let html = String::from_utf8(r.bytes.clone()).unwrap();
    assert!(
        html.contains(r#"<script type="module" src="/console/js/main.js"></script>"#),
        "{html}"
    );
    // Revalidated on every load, answered 304 while unchanged.
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let etag = header(&r, "etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    let again = get(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
    assert_eq!(header(&again, "etag"), etag);
    let other = get(&app, "/", &[("if-none-match", "\"0123\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    for uri in [
        "/healthz",
        "/updates",
        "/api/v1/apps",
        "/api/v1/nope",
        "/console/js/main.js",
        "/icp/com.example.none",
    ] {
        let r = get(&app, uri, &[]).await;
        assert_security_headers(&r);
    }
}

#[tokio::test]
async fn files_are_served_with_their_content_types() {
    let app = TestApp::new().await;
    for (path, content_type) in [
        ("app.css", "text/css; charset=utf-8"),
        ("js/main.js", "text/javascript; charset=utf-8"),
        ("js/pages/overview.js", "text/javascript; charset=utf-8"),
        ("i18n/zh-CN.json", "application/json"),
        ("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ("vendor/uPlot.min.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let r = get(&app, &format!("/console/{path}"), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), content_type, "{path}");
        assert_eq!(
            r.bytes,
            std::fs::read(console_dir().join(path)).unwrap(),
            "{path} is served byte for byte"
        );
        assert!(r.headers.contains_key("etag"), "{path}");
        assert_security_headers(&r);
    }
    // Every embedded file has its own ETag.
    let mut etags = BTreeSet::new();
    for a in ASSETS {
        let r = get(&app, &format!("/console/{}", a.path), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", a.path);
        etags.insert(header(&r, "etag").to_owned());
    }
    assert_eq!(etags.len(), ASSETS.len());
}

#[tokio::test]
async fn unknown_files_are_a_json_404() {
    let app = TestApp::new().await;
    for uri in [
        "/console/nope.js",
        "/console/js/../../Cargo.toml",
        "/console/vendor/README.md",
    ] {
        let r = get(&app, uri, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.json()["error"], "console_file_not_found", "{uri}");
        assert_security_headers(&r);
    }
}

/// Every file under `console/` (relative paths, `/`-separated).
fn files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let rel = format!("{prefix}{name}");
        if e.file_type().unwrap().is_dir() {
            files(&e.path(), &format!("{rel}/"), out);
        } else {
            out.push(rel);
        }
    }
}

#[test]
fn the_embedded_list_is_the_console_folder() {
    let mut on_disk = Vec::new();
    files(&console_dir(), "", &mut on_disk);
    // Documentation of the vendored files is kept beside them, not served.
    let on_disk: BTreeSet<String> = on_disk
        .into_iter()
        .filter(|f| !f.ends_with("README.md") && !f.ends_with(".LICENSE"))
        .collect();
    let embedded: BTreeSet<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
    assert_eq!(on_disk, embedded);
    assert!(console_dir().join("vendor/uPlot.LICENSE").is_file());
}

fn js_sources() -> Vec<(String, String)> {
    ASSETS
        .iter()
        .filter(|a| a.path.starts_with("js/"))
        .map(|a| {
            (
                a.path.to_owned(),
                String::from_utf8(a.bytes.to_vec()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_console_never_turns_data_into_html_or_inline_code() {
    let html = std::fs::read_to_string(console_dir().join("index.html")).unwrap();
    let script = Regex::new(r"<script\b[^>]*>").unwrap();
    for tag in script.find_iter(&html) {
        assert!(
            tag.as_str().contains(" src="),
            "inline script: {}",
            tag.as_str()
        );
    }
    let handler = Regex::new(r"(?i)\son[a-z]+\s*=").unwrap();
    assert!(
        !handler.is_match(&html),
        "an inline event handler in index.html"
    );
    assert!(!html.contains("style="), "a style attribute in index.html");
    assert!(!html.contains("<style"), "a style element in index.html");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is loaded from another origin"
    );
    for (path, src) in js_sources() {
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "setAttribute('style'",
        ] {
            assert!(!src.contains(banned), "{path} uses {banned}");
        }
        assert!(
            !src.contains("http://") && !src.contains("https://"),
            "{path} loads something from another origin"
        );
    }
    // The DOM helper refuses inline handlers and styles given as attributes.
    let dom = std::fs::read_to_string(console_dir().join("js/dom.js")).unwrap();
    assert!(dom.contains("throw new Error(`h(): ${key} is not allowed`)"));
}

fn dictionary(lang: &str) -> BTreeMap<String, String> {
    let path = console_dir().join(format!("i18n/{lang}.json"));
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("a JSON dictionary");
    value
        .as_object()
        .expect("a flat object")
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .unwrap_or_else(|| panic!("{lang}: {k} is not a string"));
            assert!(!v.trim().is_empty(), "{lang}: {k} is empty");
            (k.clone(), v.to_owned())
        })
        .collect()
}

fn placeholders(s: &str) -> BTreeSet<String> {
    Regex::new(r"\{(\w+)\}")
        .unwrap()
        .captures_iter(s)
        .map(|c| c[1].to_owned())
        .collect()
}

/// zh-CN values that may be the same as the English one or have no Chinese character: proper
/// nouns, the language names (each written in its own language), and punctuation.
const ZH_SAME_AS_EN: &[&str] = &[
    "app.name",
    "language.en",
    "language.zh",
    "common.none",
    "overview.milestones",
    "icp.transition",
];
const ZH_WITHOUT_CJK: &[&str] = &["common.list_separator", "icp.label_colon", "role.grant"];

#[test]
fn both_dictionaries_have_the_same_keys_and_placeholders() {
    let en = dictionary("en");
    let zh = dictionary("zh-CN");
    let en_keys: BTreeSet<_> = en.keys().collect();
    let zh_keys: BTreeSet<_> = zh.keys().collect();
    assert_eq!(
        en_keys.symmetric_difference(&zh_keys).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "keys in only one dictionary"
    );
    for (k, v) in &en {
        assert_eq!(
            placeholders(v),
            placeholders(&zh[k]),
            "{k}: the same placeholders in both languages"
        );
    }
}

#[test]
fn no_chinese_text_is_left_in_english() {
    let en = dictionary("en");
    let zh = dictionary("zh-CN");
    let cjk = Regex::new(r"[\p{Han}]").unwrap();
    let mut untranslated = Vec::new();
    for (k, v) in &zh {
        if ZH_SAME_AS_EN.contains(&k.as_str()) || ZH_WITHOUT_CJK.contains(&k.as_str()) {
            continue;
        }
        if v == &en[k] || !cjk.is_match(v) {
            untranslated.push(format!("{k} = {v:?}"));
        }
    }
    assert!(untranslated.is_empty(), "untranslated: {untranslated:#?}");
    // The check catches what it looks for.
    assert!(!cjk.is_match("Roll back now") && cjk.is_match("立即回滚"));
    // And no English value is Chinese by mistake (the language names aside).
    for (k, v) in &en {
        if k != "language.zh" {
            assert!(!cjk.is_match(v), "en {k} = {v:?} is Chinese");
        }
    }
}

/// Keys the JS asks for: `t('key')`, `tn('base')` (`base.one`/`base.other`), and the fallbacks
/// of `tCode('prefix', code, 'fallback')`; plus the prefixes whose keys are built from codes.
struct Usage {
    keys: BTreeSet<String>,
    counted: BTreeSet<String>,
    prefixes: BTreeSet<String>,
    literals: BTreeSet<String>,
}

fn usage() -> Usage {
    let src: String = js_sources().into_iter().map(|(_, s)| s).collect();
    let t = Regex::new(r"\bt\(\s*'([^']+)'").unwrap();
    let tn = Regex::new(r"\btn\(\s*'([^']+)'").unwrap();
    let tcode = Regex::new(r"\btCode\(\s*'([^']+)'\s*,[^,]+,\s*'([^']+)'").unwrap();
    let literal = Regex::new(r"'([a-z][a-zA-Z0-9_-]*(?:\.[a-zA-Z0-9_-]+)+)'").unwrap();
    let mut u = Usage {
        keys: t.captures_iter(&src).map(|c| c[1].to_owned()).collect(),
        counted: tn.captures_iter(&src).map(|c| c[1].to_owned()).collect(),
        prefixes: BTreeSet::from(["error".to_owned()]),
        literals: literal
            .captures_iter(&src)
            .map(|c| c[1].to_owned())
            .collect(),
    };
    for c in tcode.captures_iter(&src) {
        u.prefixes.insert(c[1].to_owned());
        u.keys.insert(c[2].to_owned());
    }
    u
}

#[test]
fn every_key_the_console_uses_exists_and_every_key_is_used() {
    let en = dictionary("en");
    let u = usage();
    assert!(u.keys.len() > 200, "the scan finds the t() calls");
    assert!(u.keys.contains("channels.rollback") && u.counted.contains("channels.affects"));
    let mut missing: Vec<String> = u
        .keys
        .iter()
        .filter(|k| !en.contains_key(*k))
        .cloned()
        .collect();
    for base in &u.counted {
        for form in ["one", "other"] {
            let k = format!("{base}.{form}");
            if !en.contains_key(&k) {
                missing.push(k);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys the console uses but no dictionary has: {missing:?}"
    );
    let unused: Vec<&String> = en
        .keys()
        .filter(|k| {
            !u.keys.contains(*k)
                && !u.literals.contains(*k)
                && !u.counted.iter().any(|b| {
                    k.strip_prefix(b.as_str())
                        .is_some_and(|r| r == ".one" || r == ".other")
                })
                && !u.prefixes.iter().any(|p| k.starts_with(&format!("{p}.")))
        })
        .collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
}

/// Stable error codes the server answers with (the first string literal of every error
/// constructor in `src/`).
fn server_error_codes() -> BTreeSet<String> {
    let ctor = Regex::new(
        r#"(?s)(?:HttpError::(?:new|bad_request|not_found|conflict)|\bbilingual|\bbad|Self::(?:new|bad_request|not_found|conflict))\(\s*(?:(?:axum::http::)?StatusCode::\w+\s*,\s*)?"([a-z][a-z0-9_]+)""#,
    )
    .unwrap();
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut codes = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        codes.extend(ctor.captures_iter(&src).map(|c| c[1].to_owned()));
    }
    codes
}

#[test]
fn every_server_error_code_has_its_own_translated_message() {
    let codes = server_error_codes();
    // The scan finds codes from every kind of constructor.
    for known in [
        "forbidden",
        "internal",
        "session_expired",
        "no_previous_bundle",
        "database_unavailable",
        "filing_not_found",
        "console_file_not_found",
        "year_not_loaded",
    ] {
        assert!(codes.contains(known), "{known} not found by the scan");
    }
    for lang in ["en", "zh-CN"] {
        let d = dictionary(lang);
        let missing: Vec<&String> = codes
            .iter()
            .filter(|c| !d.contains_key(&format!("error.{c}")))
            .collect();
        assert!(
            missing.is_empty(),
            "{lang}: no error.<code> message for {missing:?}"
        );
    }
    // The generic fallbacks carry the code.
    for lang in ["en", "zh-CN"] {
        let d = dictionary(lang);
        assert!(d["error.generic"].contains("{code}") && d["error.server"].contains("{code}"));
    }
}
