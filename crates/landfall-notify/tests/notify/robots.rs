//! Robot templates: each signature against an independent computation of the platform's documented
//! algorithm, the request shapes (snapshots), WeCom's size limit, and the reading of answers.

use chrono::{DateTime, TimeZone, Utc};
use landfall_notify::event::{ChannelMove, KillSwitch};
use landfall_notify::robot::{
    dingtalk_sign, dingtalk_signed_url, feishu_sign, truncate_bytes, WECOM_MARKDOWN_MAX_BYTES,
};
use landfall_notify::{Lang, Outcome, Robot, RobotKind, Verdict};
use std::time::Duration;

use crate::fixtures;

// DingTalk "加签": HMAC-SHA256 keyed with the secret over "{timestamp_ms}\n{secret}", base64, then
// URL-encoded. Expected values from DingTalk's documented Python recipe:
//   python3 -c 'import hmac,hashlib,base64,urllib.parse; ts="1733150000002"; s="SECb6f0d1e2a3c4b5a697887766554433221100ffeeddccbbaa99887766554433"; b=base64.b64encode(hmac.new(s.encode(),(ts+"\n"+s).encode(),hashlib.sha256).digest()); print(b.decode(), urllib.parse.quote_plus(b))'
// and cross-checked with
//   S=SECb6f0…433; printf '1733150000002\n%s' "$S" | openssl dgst -sha256 -hmac "$S" -binary | base64
// (this timestamp was picked because its signature contains `+` and `/`, which must be encoded).
const DINGTALK_SECRET: &str = "SECb6f0d1e2a3c4b5a697887766554433221100ffeeddccbbaa99887766554433";
const DINGTALK_TS_MS: i64 = 1733150000002;
const DINGTALK_SIGN: &str = "97T6WdeFRp00M++K2zEcqOHge3zzsEnDkJPmHAzz/fI=";
const DINGTALK_SIGN_URLENCODED: &str = "97T6WdeFRp00M%2B%2BK2zEcqOHge3zzsEnDkJPmHAzz%2FfI%3D";

// Feishu "签名校验": HMAC-SHA256 whose KEY is "{timestamp_s}\n{secret}" and whose message is empty,
// base64. Expected value from Feishu's documented recipe:
//   python3 -c 'import hmac,hashlib,base64; ts="1733150000"; s="qW3eR5tY7uI9oP1aS2dF"; print(base64.b64encode(hmac.new((ts+"\n"+s).encode(),b"",hashlib.sha256).digest()).decode())'
// and cross-checked with
//   printf '' | openssl dgst -sha256 -hmac "$(printf '1733150000\nqW3eR5tY7uI9oP1aS2dF')" -binary | base64
const FEISHU_SECRET: &str = "qW3eR5tY7uI9oP1aS2dF";
const FEISHU_TS: i64 = 1733150000;
const FEISHU_SIGN: &str = "3m06Js3uNlE9lB0ZoGlDyvJaKI4s0nK4rcyLPYoKysk=";

/// The attempt time of the vectors above (…000.002 s: the same instant for both).
fn now() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(DINGTALK_TS_MS).unwrap()
}

const DINGTALK_URL: &str = "https://oapi.dingtalk.com/robot/send?access_token=0123abcd";
const FEISHU_URL: &str =
    "https://open.feishu.cn/open-apis/bot/v2/hook/2f7a6b1c-0d3e-4f5a-8b9c-1d2e3f4a5b6c";
const WECOM_URL: &str =
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";

#[test]
fn dingtalk_signature_matches_the_documented_algorithm() {
    assert_eq!(
        dingtalk_sign(DINGTALK_SECRET, DINGTALK_TS_MS),
        DINGTALK_SIGN
    );
    assert_eq!(
        dingtalk_signed_url(DINGTALK_URL, DINGTALK_SECRET, DINGTALK_TS_MS),
        format!("{DINGTALK_URL}&timestamp={DINGTALK_TS_MS}&sign={DINGTALK_SIGN_URLENCODED}")
    );
    // A URL without a query gets one.
    assert_eq!(
        dingtalk_signed_url(
            "https://oapi.dingtalk.com/robot/send",
            DINGTALK_SECRET,
            DINGTALK_TS_MS
        ),
        format!(
            "https://oapi.dingtalk.com/robot/send?timestamp={DINGTALK_TS_MS}&sign={DINGTALK_SIGN_URLENCODED}"
        )
    );
    // Through the robot: the attempt's time in milliseconds.
    let robot = Robot::DingTalk {
        webhook_url: DINGTALK_URL.into(),
        secret: Some(DINGTALK_SECRET.into()),
    };
    let request = robot.request(&fixtures::auto_paused(), Lang::ZhCn, now());
    assert_eq!(
        request.url,
        format!("{DINGTALK_URL}&timestamp=1733150000002&sign={DINGTALK_SIGN_URLENCODED}")
    );
    // Without a secret (keyword or IP security setting) the URL is left alone.
    let plain = Robot::DingTalk {
        webhook_url: DINGTALK_URL.into(),
        secret: None,
    };
    assert_eq!(
        plain
            .request(&fixtures::auto_paused(), Lang::ZhCn, now())
            .url,
        DINGTALK_URL
    );
}

#[test]
fn feishu_signature_matches_the_documented_algorithm() {
    assert_eq!(feishu_sign(FEISHU_SECRET, FEISHU_TS), FEISHU_SIGN);
    // The key/message order matters: DingTalk's order gives another value.
    assert_ne!(
        dingtalk_sign(FEISHU_SECRET, FEISHU_TS),
        feishu_sign(FEISHU_SECRET, FEISHU_TS)
    );
    for card in [false, true] {
        let robot = Robot::Feishu {
            webhook_url: FEISHU_URL.into(),
            secret: Some(FEISHU_SECRET.into()),
            card,
        };
        let request = robot.request(&fixtures::kill_switch(), Lang::En, now());
        assert_eq!(request.url, FEISHU_URL);
        // Seconds, as a string, next to msg_type.
        assert_eq!(request.body["timestamp"], "1733150000");
        assert_eq!(request.body["sign"], FEISHU_SIGN);
    }
    let unsigned = Robot::Feishu {
        webhook_url: FEISHU_URL.into(),
        secret: None,
        card: false,
    };
    let body = unsigned
        .request(&fixtures::kill_switch(), Lang::En, now())
        .body;
    assert!(body.get("timestamp").is_none() && body.get("sign").is_none());
}

#[test]
fn wecom_is_unsigned_markdown() {
    let robot = Robot::WeCom {
        webhook_url: WECOM_URL.into(),
    };
    let request = robot.request(&fixtures::auto_paused(), Lang::ZhCn, now());
    assert_eq!(request.url, WECOM_URL);
    assert_eq!(request.body["msgtype"], "markdown");
    assert_eq!(request.body.as_object().unwrap().len(), 2);
}

#[test]
fn request_snapshots() {
    let dingtalk = Robot::DingTalk {
        webhook_url: DINGTALK_URL.into(),
        secret: Some(DINGTALK_SECRET.into()),
    };
    let feishu_text = Robot::Feishu {
        webhook_url: FEISHU_URL.into(),
        secret: Some(FEISHU_SECRET.into()),
        card: false,
    };
    let feishu_card = Robot::Feishu {
        webhook_url: FEISHU_URL.into(),
        secret: Some(FEISHU_SECRET.into()),
        card: true,
    };
    let wecom = Robot::WeCom {
        webhook_url: WECOM_URL.into(),
    };
    let robots = [
        ("dingtalk", dingtalk),
        ("feishu_text", feishu_text),
        ("feishu_card", feishu_card),
        ("wecom", wecom),
    ];
    let events = [
        ("auto_paused", fixtures::auto_paused()),
        ("kill_switch", fixtures::kill_switch()),
    ];
    for (robot_name, robot) in &robots {
        for (event_name, event) in &events {
            for lang in [Lang::ZhCn, Lang::En] {
                let request = robot.request(event, lang, now());
                let name = format!("{robot_name}_{event_name}_{}", lang.tag());
                insta::assert_json_snapshot!(
                    name,
                    serde_json::json!({
                        "url": request.url,
                        "body": request.body,
                    })
                );
            }
        }
    }
}

#[test]
fn wecom_markdown_is_cut_to_4096_bytes_on_a_character_boundary() {
    // A kill switch over 200 channels with long Chinese names: the message lists 20 of them,
    // still far more than 4096 bytes.
    let channels = (0..200)
        .map(|i| ChannelMove {
            channel: format!("{}{i}", "华东区域".repeat(25)),
            from: "2.4.1".into(),
            to: "2.3.9".into(),
            rollout_ended: i % 2 == 0,
        })
        .collect();
    let event = KillSwitch {
        app_id: "com.example.shop".into(),
        target: "2.3.9".into(),
        channels,
        incident_id: None,
        actor: "ops".into(),
        note: None,
    }
    .into();
    let robot = Robot::WeCom {
        webhook_url: WECOM_URL.into(),
    };
    for lang in [Lang::ZhCn, Lang::En] {
        let body = robot.request(&event, lang, now()).body;
        let content = body["markdown"]["content"].as_str().unwrap();
        assert!(
            content.len() <= WECOM_MARKDOWN_MAX_BYTES,
            "{}",
            content.len()
        );
        assert!(
            content.len() > WECOM_MARKDOWN_MAX_BYTES - 8,
            "{}",
            content.len()
        );
        assert!(content.ends_with('…'));
    }
    // A message that fits is left alone.
    let small = robot
        .request(&fixtures::auto_paused(), Lang::ZhCn, now())
        .body;
    assert!(!small["markdown"]["content"]
        .as_str()
        .unwrap()
        .ends_with('…'));
}

#[test]
fn truncation_respects_character_boundaries() {
    // Each 中 is 3 bytes, … is 3 bytes.
    let s = "中".repeat(10); // 30 bytes
    assert_eq!(truncate_bytes(&s, 30), s);
    assert_eq!(truncate_bytes(&s, 29), format!("{}…", "中".repeat(8))); // 24 + 3
    assert_eq!(truncate_bytes(&s, 28), format!("{}…", "中".repeat(8))); // 24 + 3
    assert_eq!(truncate_bytes(&s, 27), format!("{}…", "中".repeat(8))); // 24 + 3
    assert_eq!(truncate_bytes(&s, 26), format!("{}…", "中".repeat(7))); // 21 + 3
    assert_eq!(truncate_bytes("abcdef", 5), "ab…");
    assert_eq!(truncate_bytes("abcdef", 3), "…");
    for max in 3..=31 {
        assert!(truncate_bytes(&s, max).len() <= max, "max {max}");
    }
}

fn response(status: u16) -> Outcome {
    Outcome::Response {
        status,
        retry_after: None,
    }
}

fn is_retry(v: &Verdict) -> bool {
    matches!(v, Verdict::Retry { .. })
}

fn is_permanent(v: &Verdict) -> bool {
    matches!(v, Verdict::Permanent { .. })
}

#[test]
fn robot_answers_are_read_by_their_result_code() {
    let dt = RobotKind::DingTalk;
    let wc = RobotKind::WeCom;
    let fs = RobotKind::Feishu;
    let ok = response(200);

    // Success.
    assert_eq!(
        dt.classify(&ok, br#"{"errcode":0,"errmsg":"ok"}"#),
        Verdict::Delivered
    );
    assert_eq!(
        wc.classify(&ok, br#"{"errcode":0,"errmsg":"ok"}"#),
        Verdict::Delivered
    );
    assert_eq!(
        fs.classify(&ok, br#"{"code":0,"data":{},"msg":"success"}"#),
        Verdict::Delivered
    );
    assert_eq!(
        fs.classify(
            &ok,
            br#"{"Extra":null,"StatusCode":0,"StatusMessage":"success"}"#
        ),
        Verdict::Delivered
    );

    // Failures answered with HTTP 200: permanent (wrong signature, keyword, token, key).
    let v = dt.classify(
        &ok,
        br#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
    );
    assert!(is_permanent(&v), "{v:?}");
    assert!(
        matches!(&v, Verdict::Permanent { detail } if detail.starts_with("HTTP 200, code 310000: sign not match"))
    );
    assert!(is_permanent(&dt.classify(
        &ok,
        br#"{"errcode":300001,"errmsg":"token is not exist"}"#
    )));
    assert!(is_permanent(&wc.classify(
        &ok,
        br#"{"errcode":93000,"errmsg":"invalid webhook url, hint: [1733150000_1_abc]"}"#
    )));
    assert!(is_permanent(&fs.classify(
        &ok,
        br#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#
    )));
    assert!(is_permanent(&fs.classify(
        &response(400),
        br#"{"code":9499,"data":{},"msg":"Bad Request"}"#
    )));

    // Rate limiting and busy servers: retried.
    assert!(is_retry(&dt.classify(
        &ok,
        br#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#
    )));
    assert!(is_retry(
        &dt.classify(&ok, br#"{"errcode":-1,"errmsg":"system busy"}"#)
    ));
    assert!(is_retry(&wc.classify(
        &ok,
        br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
    )));
    assert!(is_retry(&fs.classify(
        &response(400),
        br#"{"code":11232,"data":{},"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}"#
    )));

    // The status still counts: 5xx, 429, timeouts and refused connections are retried whatever
    // the body; 404 without a code is permanent.
    assert!(is_retry(
        &dt.classify(&response(502), b"<html>Bad Gateway</html>")
    ));
    assert!(is_retry(&wc.classify(
        &Outcome::Response {
            status: 429,
            retry_after: Some(Duration::from_secs(30))
        },
        b""
    )));
    assert!(is_retry(&fs.classify(&Outcome::Timeout, b"")));
    assert!(is_retry(&fs.classify(&Outcome::ConnectionFailed, b"")));
    assert!(is_permanent(&wc.classify(&response(404), b"not found")));

    // A 200 that is not a robot's answer: the URL leads elsewhere.
    assert!(is_permanent(&dt.classify(&ok, b"<html>hello</html>")));
    assert!(is_permanent(&fs.classify(&ok, br#"{"ok":true}"#)));
}

#[test]
fn robot_config_serde_and_debug_hide_secrets() {
    let robot: Robot = serde_json::from_str(&format!(
        r#"{{"kind":"dingtalk","webhook_url":"{DINGTALK_URL}","secret":"{DINGTALK_SECRET}"}}"#
    ))
    .unwrap();
    assert_eq!(robot.kind(), RobotKind::DingTalk);
    let debug = format!("{robot:?}");
    assert!(!debug.contains(DINGTALK_SECRET), "{debug}");
    assert!(!debug.contains("0123abcd"), "{debug}");

    let wecom: Robot = serde_json::from_str(&format!(
        r#"{{"kind":"wecom","webhook_url":"{WECOM_URL}"}}"#
    ))
    .unwrap();
    assert_eq!(wecom.kind(), RobotKind::WeCom);
    assert!(!format!("{wecom:?}").contains("693a91f6"));

    let feishu: Robot = serde_json::from_str(&format!(
        r#"{{"kind":"feishu","webhook_url":"{FEISHU_URL}"}}"#
    ))
    .unwrap();
    assert_eq!(
        feishu,
        Robot::Feishu {
            webhook_url: FEISHU_URL.into(),
            secret: None,
            card: false
        }
    );
}

#[test]
fn every_event_renders_for_every_robot_in_both_languages() {
    let robots = [
        Robot::DingTalk {
            webhook_url: DINGTALK_URL.into(),
            secret: Some(DINGTALK_SECRET.into()),
        },
        Robot::Feishu {
            webhook_url: FEISHU_URL.into(),
            secret: Some(FEISHU_SECRET.into()),
            card: false,
        },
        Robot::Feishu {
            webhook_url: FEISHU_URL.into(),
            secret: None,
            card: true,
        },
        Robot::WeCom {
            webhook_url: WECOM_URL.into(),
        },
    ];
    for event in fixtures::all_events() {
        for lang in [Lang::ZhCn, Lang::En] {
            let title = landfall_notify::render(&event, lang).title;
            for robot in &robots {
                let request = robot.request(&event, lang, now());
                let body = request.body_bytes();
                assert!(body.len() < 20_000, "{robot:?}: {} bytes", body.len());
                let text = String::from_utf8(body).unwrap();
                // The title (with the `Landfall` keyword) is in every message.
                let escaped = serde_json::to_string(&title).unwrap();
                assert!(
                    text.contains(escaped.trim_matches('"')),
                    "{robot:?} {lang:?}: {text}"
                );
                match robot.kind() {
                    RobotKind::DingTalk => {
                        assert_eq!(request.body["msgtype"], "markdown");
                        assert_eq!(request.body["markdown"]["title"], title.as_str());
                    }
                    RobotKind::Feishu => {
                        let t = request.body["msg_type"].as_str().unwrap();
                        assert!(t == "text" || t == "interactive", "{t}");
                    }
                    RobotKind::WeCom => {
                        let content = request.body["markdown"]["content"].as_str().unwrap();
                        assert!(content.len() <= WECOM_MARKDOWN_MAX_BYTES);
                    }
                }
            }
        }
    }
}

#[test]
fn languages() {
    assert_eq!(Lang::parse("zh"), Lang::ZhCn);
    assert_eq!(Lang::parse("zh_CN.UTF-8"), Lang::ZhCn);
    assert_eq!(Lang::parse("ZH-cn"), Lang::ZhCn);
    assert_eq!(Lang::parse("en-US"), Lang::En);
    assert_eq!(Lang::parse(""), Lang::En);
    assert_eq!(serde_json::to_string(&Lang::ZhCn).unwrap(), r#""zh-CN""#);
    assert_eq!(serde_json::from_str::<Lang>(r#""en""#).unwrap(), Lang::En);
    assert_eq!(Lang::default(), Lang::ZhCn);
}
