//! Public display of the filing for an app's About/Settings page or a website footer: the numbers,
//! Chinese and English text, the links (MIIT filing system, MPS query page) and an HTML snippet in
//! which every piece of text and every attribute is escaped.

use serde::{Deserialize, Serialize};

use crate::numbers::{FilingNumbers, Province, ServiceKind};
use crate::Localized;

/// Link target for every ICP number (§1.6).
pub const MIIT_URL: &str = "https://beian.miit.gov.cn/";

/// One displayed row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayLine {
    pub label: Localized,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Everything needed to show the filing publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayInfo {
    /// The filing number as it must be displayed (see [`display_info`] for the Guangdong rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_security_number: Option<String>,
    pub miit_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_security_url: Option<String>,
    pub lines: Vec<DisplayLine>,
    /// One line per row, Chinese.
    pub text_zh: String,
    /// One line per row, English.
    pub text_en: String,
    /// HTML snippet (escaped), empty when there is nothing to show.
    pub html: String,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn filing_label(kind: ServiceKind) -> Localized {
    match kind {
        ServiceKind::App => Localized::new("App ICP filing number", "APP备案号"),
        ServiceKind::MiniProgram => {
            Localized::new("Mini-program ICP filing number", "小程序备案号")
        }
        ServiceKind::QuickApp => Localized::new("Quick-app ICP filing number", "快应用备案号"),
        ServiceKind::Website => Localized::new("ICP filing number", "ICP备案号"),
    }
}

/// Builds the display info. Apps, mini-programs and quick apps show their service number
/// (`…号-2A`); websites show the service number (`…号-1`) except in Guangdong, where the entity
/// number without suffix is displayed. `entity_name` adds a 主办单位 row when given.
pub fn display_info(
    numbers: &FilingNumbers,
    service_kind: ServiceKind,
    entity_name: Option<&str>,
) -> DisplayInfo {
    let filing_number = numbers.filing.as_ref().map(|n| {
        if service_kind == ServiceKind::Website && n.province() == Province::Guangdong {
            n.entity_number()
        } else {
            n.to_string()
        }
    });
    let licence_number = numbers.licence.as_ref().map(|l| l.to_string());
    let public_security_number = numbers.public_security.as_ref().map(|p| p.to_string());
    let public_security_url = numbers.public_security.as_ref().map(|p| p.query_url());

    let mut lines = Vec::new();
    if let Some(name) = entity_name.map(str::trim).filter(|n| !n.is_empty()) {
        lines.push(DisplayLine {
            label: Localized::new("Operator", "主办单位"),
            value: name.to_string(),
            url: None,
        });
    }
    if let Some(n) = &filing_number {
        lines.push(DisplayLine {
            label: filing_label(service_kind),
            value: n.clone(),
            url: Some(MIIT_URL.to_string()),
        });
    }
    if let Some(l) = &licence_number {
        lines.push(DisplayLine {
            label: Localized::new(
                "Value-added telecom business licence",
                "增值电信业务经营许可证",
            ),
            value: l.clone(),
            url: None,
        });
    }
    if let (Some(p), Some(url)) = (&public_security_number, &public_security_url) {
        lines.push(DisplayLine {
            label: Localized::new("Public security filing number", "公安备案号"),
            value: p.clone(),
            url: Some(url.clone()),
        });
    }

    let text_zh = lines
        .iter()
        .map(|l| format!("{}：{}", l.label.zh, l.value))
        .collect::<Vec<_>>()
        .join("\n");
    let text_en = lines
        .iter()
        .map(|l| match &l.url {
            Some(u) => format!("{}: {} (verify at {u})", l.label.en, l.value),
            None => format!("{}: {}", l.label.en, l.value),
        })
        .collect::<Vec<_>>()
        .join("\n");

    let html = if lines.is_empty() {
        String::new()
    } else {
        let mut h = String::from("<div class=\"landfall-icp\" lang=\"zh-CN\">\n");
        for l in &lines {
            h.push_str("  <p><span class=\"landfall-icp-label\" title=\"");
            h.push_str(&escape_html(&l.label.en));
            h.push_str("\">");
            h.push_str(&escape_html(&l.label.zh));
            h.push_str("：</span>");
            match &l.url {
                Some(u) => {
                    h.push_str("<a href=\"");
                    h.push_str(&escape_html(u));
                    h.push_str("\" target=\"_blank\" rel=\"noopener noreferrer\">");
                    h.push_str(&escape_html(&l.value));
                    h.push_str("</a>");
                }
                None => h.push_str(&escape_html(&l.value)),
            }
            h.push_str("</p>\n");
        }
        h.push_str("</div>");
        h
    };

    DisplayInfo {
        filing_number,
        licence_number,
        public_security_number,
        miit_url: MIIT_URL.to_string(),
        public_security_url,
        lines,
        text_zh,
        text_en,
        html,
    }
}
