//! The human text: every event in both languages, with no text of the other language.

use landfall_notify::event::{RolloutPaused, TestEvent};
use landfall_notify::message::{clean, MAX_VALUE_CHARS};
use landfall_notify::{render, Event, Lang, Message, Percent};
use serde_json::Value;

use crate::fixtures;

fn text_of(m: &Message) -> Vec<String> {
    let mut all = vec![m.title.clone(), m.summary.clone()];
    for f in &m.facts {
        all.push(f.label.clone());
        all.push(f.value.clone());
    }
    all
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
}

/// Every string value of the event's data (the values a message shows as given), except the
/// other language's half of bilingual titles (`other` is `en` or `zh`) and `builtin`, which
/// messages must translate.
fn data_strings(event: &Event, other: &str) -> Vec<String> {
    fn walk(v: &Value, key: &str, other: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) if key != other && s != "builtin" => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, other, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, k, other, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &serde_json::to_value(event).unwrap()["data"],
        "",
        other,
        &mut out,
    );
    // Longest first, so that a value containing another is removed whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

#[test]
fn english_messages_have_no_chinese_beyond_the_data() {
    for event in fixtures::all_events() {
        let m = render(&event, Lang::En);
        let data = data_strings(&event, "zh");
        for s in text_of(&m) {
            let mut rest = s.clone();
            for d in &data {
                rest = rest.replace(d.as_str(), "");
            }
            assert!(
                !rest.chars().any(is_cjk),
                "{}: {s:?} leaves {rest:?}",
                event.event_type().as_str()
            );
        }
    }
}

#[test]
fn chinese_messages_have_no_english_beyond_the_data() {
    for event in fixtures::all_events() {
        let m = render(&event, Lang::ZhCn);
        let data = data_strings(&event, "en");
        for s in text_of(&m) {
            let mut rest = s.clone();
            for d in &data {
                rest = rest.replace(d.as_str(), "");
            }
            // The product name (the robots' keyword) and the name of the filing system.
            rest = rest.replace("Landfall", "").replace("ICP", "");
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()),
                "{}: {s:?} leaves {rest:?}",
                event.event_type().as_str()
            );
        }
        // Every label and the summary are written in Chinese.
        assert!(m.summary.chars().any(is_cjk), "{}", m.summary);
        for f in &m.facts {
            // A kill switch's per-channel label is `{channel} 渠道`.
            assert!(f.label.chars().any(is_cjk), "{}", f.label);
        }
    }
}

#[test]
fn titles_carry_the_keyword_and_the_app() {
    for event in fixtures::all_events() {
        for lang in [Lang::ZhCn, Lang::En] {
            let m = render(&event, lang);
            assert!(m.title.starts_with("Landfall"), "{}", m.title);
            assert!(m.title.contains("com.example.shop"), "{}", m.title);
        }
    }
    let no_app: Event = TestEvent {
        app_id: None,
        actor: "alice".into(),
        note: None,
    }
    .into();
    assert_eq!(
        render(&no_app, Lang::En).title,
        "Landfall: Test notification"
    );
    assert_eq!(render(&no_app, Lang::ZhCn).title, "Landfall：测试通知");
}

#[test]
fn message_snapshots() {
    for lang in [Lang::ZhCn, Lang::En] {
        let all: serde_json::Map<String, Value> = fixtures::all_events()
            .iter()
            .map(|e| {
                (
                    e.event_type().as_str().to_string(),
                    serde_json::to_value(render(e, lang)).unwrap(),
                )
            })
            .collect();
        insta::assert_json_snapshot!(format!("messages_{}", lang.tag()), all);
    }
}

#[test]
fn user_text_cannot_become_markup_or_extra_lines() {
    let event: Event = RolloutPaused {
        app_id: "com.example.shop".into(),
        channel: "production".into(),
        version: "2.4.1".into(),
        percent: Percent::from_basis_points(1000),
        actor: "mallory".into(),
        reason: Some("see <at user_id=\"all\">所有人</at>\n\n### <@everyone> fake heading".into()),
    }
    .into();
    let m = render(&event, Lang::En);
    let reason = &m.facts.last().unwrap().value;
    assert_eq!(
        reason,
        "see ＜at user_id=\"all\"＞所有人＜/at＞ ### ＜@everyone＞ fake heading"
    );
    assert!(!reason.contains('<') && !reason.contains('\n'));

    let long = "长".repeat(MAX_VALUE_CHARS + 50);
    let cleaned = clean(&long);
    assert_eq!(cleaned.chars().count(), MAX_VALUE_CHARS + 1);
    assert!(cleaned.ends_with('…'));
    assert_eq!(clean("  a \t b  "), "a b");
}

#[test]
fn expiry_wording_follows_the_days_left() {
    use chrono::NaiveDate;
    use landfall_icp::Localized;
    use landfall_notify::event::IcpDocumentExpiring;
    use landfall_notify::Severity;
    let make = |days_left| -> Event {
        IcpDocumentExpiring {
            app_id: "com.example.shop".into(),
            item_key: "expiry:domain:example.cn".into(),
            title: Localized::new("domain example.cn", "域名「example.cn」"),
            expires_on: NaiveDate::from_ymd_opt(2026, 12, 16).unwrap(),
            days_left,
        }
        .into()
    };
    let en = |d| render(&make(d), Lang::En).summary;
    let zh = |d| render(&make(d), Lang::ZhCn).summary;
    assert_eq!(
        en(1),
        "For com.example.shop, “domain example.cn” expires on 2026-12-16, in 1 day."
    );
    assert_eq!(
        en(0),
        "For com.example.shop, “domain example.cn” expires today (2026-12-16)."
    );
    assert_eq!(
        en(-3),
        "For com.example.shop, “domain example.cn” expired on 2026-12-16, 3 days ago."
    );
    assert_eq!(
        zh(5),
        "com.example.shop 的“域名「example.cn」”将于 2026-12-16 到期，还剩 5 天。"
    );
    assert_eq!(
        zh(-3),
        "com.example.shop 的“域名「example.cn」”已于 2026-12-16 到期，已过 3 天。"
    );
    assert_eq!(make(5).severity(), Severity::Warning);
    assert_eq!(make(-1).severity(), Severity::Critical);
}

#[test]
fn a_kill_switch_lists_twenty_channels_and_counts_the_rest() {
    use landfall_notify::event::{ChannelMove, KillSwitch};
    use landfall_notify::message::MAX_LISTED_CHANNELS;
    let event: Event = KillSwitch {
        app_id: "com.example.shop".into(),
        target: "builtin".into(),
        channels: (0..23)
            .map(|i| ChannelMove {
                channel: format!("ch{i}"),
                from: "2.4.1".into(),
                to: "builtin".into(),
                rollout_ended: false,
            })
            .collect(),
        incident_id: None,
        actor: "ops".into(),
        note: None,
    }
    .into();
    let en = render(&event, Lang::En);
    assert_eq!(
        en.summary,
        "ops moved every channel of com.example.shop to the built-in version: 23 channels moved."
    );
    let listed = en
        .facts
        .iter()
        .filter(|f| f.label.starts_with("Channel "))
        .count();
    assert_eq!(listed, MAX_LISTED_CHANNELS);
    let last = en.facts.last().unwrap();
    assert_eq!(
        (last.label.as_str(), last.value.as_str()),
        ("Other channels", "3 more")
    );
    assert!(en
        .facts
        .iter()
        .any(|f| f.value == "2.4.1 → the built-in version"));
    let zh = render(&event, Lang::ZhCn);
    let last = zh.facts.last().unwrap();
    assert_eq!(
        (last.label.as_str(), last.value.as_str()),
        ("其他渠道", "另有 3 个")
    );
    assert!(zh.facts.iter().any(|f| f.value == "2.4.1 → 内置版本"));
}
