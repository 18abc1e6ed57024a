//! Group-robot templates for DingTalk (钉钉), Feishu/Lark (飞书) and WeCom (企业微信), with each
//! platform's documented signing scheme, and the reading of their answers.
//!
//! | robot | signing | where | message |
//! |---|---|---|---|
//! | DingTalk custom robot, security setting "加签" | `sign` = URL-encoded base64(HMAC-SHA256(key = secret, message = `{timestamp}\n{secret}`)), `timestamp` in **milliseconds** | query string: `&timestamp=…&sign=…` | `msgtype: markdown` |
//! | Feishu/Lark custom bot, security setting "签名校验" | `sign` = base64(HMAC-SHA256(key = `{timestamp}\n{secret}`, message = empty)), `timestamp` in **seconds** | JSON body: `"timestamp": "…", "sign": "…"` | `msg_type: text` or `interactive` (a card) |
//! | WeCom group robot | none: the `key` in the webhook URL is the secret | — | `msgtype: markdown`, content at most 4096 bytes |
//!
//! DingTalk and Feishu refuse a timestamp more than an hour away from their clock, so build the
//! request anew for every attempt ([`Robot::request`] with the attempt's time).
//!
//! All three answer HTTP 200 with a JSON body whose `errcode` (DingTalk, WeCom) or `code` /
//! `StatusCode` (Feishu) is 0 on success; [`RobotKind::classify`] reads it.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::event::{Event, Severity};
use crate::message::{render, Message};
use crate::retry::{classify as classify_http, Outcome, Verdict};
use crate::Lang;

type HmacSha256 = Hmac<Sha256>;

/// The most bytes of a WeCom markdown `content`.
pub const WECOM_MARKDOWN_MAX_BYTES: usize = 4096;

/// A robot destination as configured by a user: its kind, webhook URL and secret.
///
/// Serde form: `{"kind": "dingtalk", "webhook_url": "...", "secret": "SEC..."}`. `Debug` hides the
/// secrets and the WeCom webhook key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Robot {
    /// A DingTalk custom robot (`https://oapi.dingtalk.com/robot/send?access_token=…`).
    #[serde(rename = "dingtalk")]
    DingTalk {
        /// The robot's webhook URL.
        webhook_url: String,
        /// The "加签" secret (`SEC…`); `None` when the robot uses another security setting
        /// (custom keyword: use `Landfall`; or an IP allow-list).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    /// A Feishu or Lark custom bot (`https://open.feishu.cn/open-apis/bot/v2/hook/…`).
    Feishu {
        /// The bot's webhook URL.
        webhook_url: String,
        /// The "签名校验" secret; `None` when the bot uses another security setting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        /// Send an interactive card (coloured header, fields) instead of plain text.
        #[serde(default)]
        card: bool,
    },
    /// A WeCom group robot (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`).
    #[serde(rename = "wecom")]
    WeCom {
        /// The robot's webhook URL, key included.
        webhook_url: String,
    },
}

impl fmt::Debug for Robot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<String>| if s.is_some() { "<hidden>" } else { "none" };
        match self {
            Robot::DingTalk {
                webhook_url,
                secret,
            } => f
                .debug_struct("DingTalk")
                .field("webhook_url", &without_query(webhook_url))
                .field("secret", &hidden(secret))
                .finish(),
            Robot::Feishu {
                webhook_url,
                secret,
                card,
            } => f
                .debug_struct("Feishu")
                .field("webhook_url", &without_query(webhook_url))
                .field("secret", &hidden(secret))
                .field("card", card)
                .finish(),
            Robot::WeCom { webhook_url } => f
                .debug_struct("WeCom")
                .field("webhook_url", &without_query(webhook_url))
                .finish(),
        }
    }
}

/// The URL up to its query (where DingTalk's and WeCom's tokens are), for logs.
fn without_query(url: &str) -> String {
    match url.find('?') {
        Some(i) => format!("{}?…", &url[..i]),
        None => url.to_string(),
    }
}

/// Which platform a robot is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RobotKind {
    /// DingTalk (钉钉).
    #[serde(rename = "dingtalk")]
    DingTalk,
    /// Feishu / Lark (飞书).
    #[serde(rename = "feishu")]
    Feishu,
    /// WeCom (企业微信).
    #[serde(rename = "wecom")]
    WeCom,
}

/// One request to send to a robot: POST `body` to `url` with
/// `Content-Type: application/json; charset=utf-8`.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotRequest {
    /// The URL, with the signature's query parameters where the scheme puts them there.
    pub url: String,
    /// The JSON body.
    pub body: Value,
}

impl RobotRequest {
    /// The body as bytes to send.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.to_string().into_bytes()
    }
}

impl Robot {
    /// The robot's platform.
    pub fn kind(&self) -> RobotKind {
        match self {
            Robot::DingTalk { .. } => RobotKind::DingTalk,
            Robot::Feishu { .. } => RobotKind::Feishu,
            Robot::WeCom { .. } => RobotKind::WeCom,
        }
    }

    /// The request announcing `event` in `lang`, signed (where the robot has a secret) for an
    /// attempt at `now`.
    pub fn request(&self, event: &Event, lang: Lang, now: DateTime<Utc>) -> RobotRequest {
        self.request_for_message(&render(event, lang), now)
    }

    /// [`Robot::request`] for an already rendered message.
    pub fn request_for_message(&self, message: &Message, now: DateTime<Utc>) -> RobotRequest {
        match self {
            Robot::DingTalk {
                webhook_url,
                secret,
            } => RobotRequest {
                url: match secret {
                    Some(secret) => {
                        dingtalk_signed_url(webhook_url, secret, now.timestamp_millis())
                    }
                    None => webhook_url.clone(),
                },
                body: dingtalk_body(message),
            },
            Robot::Feishu {
                webhook_url,
                secret,
                card,
            } => {
                let mut body = if *card {
                    feishu_card_body(message)
                } else {
                    feishu_text_body(message)
                };
                if let Some(secret) = secret {
                    let ts = now.timestamp();
                    body["timestamp"] = Value::String(ts.to_string());
                    body["sign"] = Value::String(feishu_sign(secret, ts));
                }
                RobotRequest {
                    url: webhook_url.clone(),
                    body,
                }
            }
            Robot::WeCom { webhook_url } => RobotRequest {
                url: webhook_url.clone(),
                body: wecom_body(message),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DingTalk
// ---------------------------------------------------------------------------------------------

/// DingTalk's "加签" signature, before URL encoding: base64(HMAC-SHA256(key = `secret`,
/// message = `"{timestamp_ms}\n{secret}"`)).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let string_to_sign = format!("{timestamp_ms}\n{secret}");
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook URL with `timestamp` (ms) and the URL-encoded `sign` appended to its query.
pub fn dingtalk_signed_url(webhook_url: &str, secret: &str, timestamp_ms: i64) -> String {
    let sign = percent_encode(&dingtalk_sign(secret, timestamp_ms));
    let (base, fragment) = match webhook_url.find('#') {
        Some(i) => webhook_url.split_at(i),
        None => (webhook_url, ""),
    };
    let sep = if base.ends_with('?') || base.ends_with('&') {
        ""
    } else if base.contains('?') {
        "&"
    } else {
        "?"
    };
    format!("{base}{sep}timestamp={timestamp_ms}&sign={sign}{fragment}")
}

/// Percent-encodes everything but RFC 3986's unreserved characters (so base64's `+`, `/` and `=`
/// become `%2B`, `%2F`, `%3D`, as Python's `urllib.parse.quote_plus` in DingTalk's example does).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// DingTalk's markdown message: `{"msgtype":"markdown","markdown":{"title","text"}}`. The title
/// is what the chat list and the phone notification show.
pub fn dingtalk_body(message: &Message) -> Value {
    let mut text = format!("### {}\n\n{}\n", message.title, message.summary);
    for fact in &message.facts {
        text.push_str(&format!(
            "\n- **{}**{}{}",
            fact.label,
            message.separator(),
            fact.value
        ));
    }
    json!({
        "msgtype": "markdown",
        "markdown": {
            "title": message.title,
            "text": text,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Feishu / Lark
// ---------------------------------------------------------------------------------------------

/// Feishu's "签名校验" signature: base64(HMAC-SHA256(key = `"{timestamp_s}\n{secret}"`,
/// message = empty)). Note the key is the string to sign, unlike DingTalk.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let string_to_sign = format!("{timestamp_s}\n{secret}");
    let mac =
        HmacSha256::new_from_slice(string_to_sign.as_bytes()).expect("HMAC takes any key length");
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Feishu's text message: `{"msg_type":"text","content":{"text"}}` (unsigned; [`Robot::request`]
/// adds `timestamp` and `sign`).
pub fn feishu_text_body(message: &Message) -> Value {
    let mut text = format!("{}\n{}\n", message.title, message.summary);
    for fact in &message.facts {
        text.push_str(&format!(
            "\n{}{}{}",
            fact.label,
            message.separator(),
            fact.value
        ));
    }
    json!({
        "msg_type": "text",
        "content": { "text": text },
    })
}

/// Feishu's interactive card: a header coloured by severity (red, orange, blue), the summary, and
/// the facts as two-column fields. Unsigned; [`Robot::request`] adds `timestamp` and `sign`.
pub fn feishu_card_body(message: &Message) -> Value {
    let template = match message.severity {
        Severity::Critical => "red",
        Severity::Warning => "orange",
        Severity::Info => "blue",
    };
    let fields: Vec<Value> = message
        .facts
        .iter()
        .map(|fact| {
            json!({
                "is_short": true,
                "text": { "tag": "lark_md", "content": format!("**{}**\n{}", fact.label, fact.value) },
            })
        })
        .collect();
    let mut elements = vec![json!({
        "tag": "div",
        "text": { "tag": "lark_md", "content": message.summary },
    })];
    if !fields.is_empty() {
        elements.push(json!({ "tag": "div", "fields": fields }));
    }
    json!({
        "msg_type": "interactive",
        "card": {
            "config": { "wide_screen_mode": true },
            "header": {
                "title": { "tag": "plain_text", "content": message.title },
                "template": template,
            },
            "elements": elements,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// WeCom
// ---------------------------------------------------------------------------------------------

/// WeCom's markdown message: `{"msgtype":"markdown","markdown":{"content"}}`, the title coloured
/// by severity (`warning` orange-red for critical and warning, `info` green otherwise), facts as
/// quoted lines, the whole cut to [`WECOM_MARKDOWN_MAX_BYTES`] bytes.
pub fn wecom_body(message: &Message) -> Value {
    let colour = match message.severity {
        Severity::Critical | Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut content = format!(
        "<font color=\"{colour}\">**{}**</font>\n{}\n",
        message.title, message.summary
    );
    for fact in &message.facts {
        content.push_str(&format!(
            "\n> {}{}<font color=\"comment\">{}</font>",
            fact.label,
            message.separator(),
            fact.value
        ));
    }
    json!({
        "msgtype": "markdown",
        "markdown": { "content": truncate_bytes(&content, WECOM_MARKDOWN_MAX_BYTES) },
    })
}

/// `s` if it fits in `max` bytes; otherwise its longest prefix ending on a character boundary
/// that leaves room for `…`, followed by `…`.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &s[..end])
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

impl RobotKind {
    /// Classifies an attempt at this kind of robot. A response's status is read as for any
    /// endpoint ([`crate::retry::classify`]), except that the JSON body decides when it carries
    /// the platform's result code (the robots answer their own errors with HTTP 200, Feishu
    /// sometimes with 400):
    ///
    /// - DingTalk `{"errcode":0,"errmsg":"ok"}`; WeCom `{"errcode":0,"errmsg":"ok"}`; Feishu
    ///   `{"code":0,"msg":"success"}` or the older `{"StatusCode":0,"StatusMessage":"success"}`.
    /// - A non-zero code is a failure, retried when it means rate limiting or a busy server
    ///   (DingTalk 130101 "send too fast", 90030 "webhook over limit", -1; WeCom 45009 "api freq
    ///   out of limit", -1; Feishu 11232 "frequency limited"), permanent otherwise (bad
    ///   signature, keyword missing, IP not allowed, invalid key, bad message …).
    /// - A 2xx answer without a readable code is a permanent failure: the URL does not lead to
    ///   such a robot.
    pub fn classify(self, outcome: &Outcome, body: &[u8]) -> Verdict {
        let Outcome::Response {
            status,
            retry_after,
        } = *outcome
        else {
            return classify_http(outcome);
        };
        if status >= 500 {
            return classify_http(outcome);
        }
        let code = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| self.result_code(&v));
        match code {
            Some((0, _)) if (200..300).contains(&status) => Verdict::Delivered,
            Some((0, _)) => classify_http(outcome),
            Some((code, msg)) => {
                let detail = if msg.is_empty() {
                    format!("HTTP {status}, code {code}")
                } else {
                    format!("HTTP {status}, code {code}: {msg}")
                };
                if self.is_transient(code) {
                    Verdict::retry(detail, retry_after)
                } else {
                    Verdict::permanent(detail)
                }
            }
            None if (200..300).contains(&status) => {
                Verdict::permanent(format!("HTTP {status}, not a {} answer", self.name()))
            }
            None => classify_http(outcome),
        }
    }

    fn name(self) -> &'static str {
        match self {
            RobotKind::DingTalk => "DingTalk",
            RobotKind::Feishu => "Feishu",
            RobotKind::WeCom => "WeCom",
        }
    }

    /// The result code and message of an answer, if it has one.
    fn result_code(self, v: &Value) -> Option<(i64, String)> {
        let pick = |code: &str, msg: &str| {
            let code = v.get(code)?.as_i64()?;
            let msg = v.get(msg).and_then(Value::as_str).unwrap_or_default();
            Some((code, msg.chars().take(200).collect()))
        };
        match self {
            RobotKind::DingTalk | RobotKind::WeCom => pick("errcode", "errmsg"),
            RobotKind::Feishu => {
                pick("code", "msg").or_else(|| pick("StatusCode", "StatusMessage"))
            }
        }
    }

    fn is_transient(self, code: i64) -> bool {
        match self {
            RobotKind::DingTalk => matches!(code, -1 | 130101 | 90030),
            RobotKind::WeCom => matches!(code, -1 | 45009),
            RobotKind::Feishu => matches!(code, 11232),
        }
    }
}
