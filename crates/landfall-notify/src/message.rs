//! The human text of an event, in one language.
//!
//! [`render`] turns an [`Event`] into a [`Message`]: a title that starts with `Landfall` (so a
//! robot whose security setting is a custom keyword can use `Landfall` as the keyword), a
//! one-sentence summary and a list of labelled facts. Every label and sentence exists in Simplified
//! Chinese and in English; values taken from the event (app ids, versions, names, notes) are shown
//! as given, flattened to one line, shortened to [`MAX_VALUE_CHARS`] characters, and with `<` `>`
//! replaced by their full-width forms so that user text cannot become robot markup such as a
//! Feishu `<at user_id="all">` or a WeCom `<@userid>` mention.

use chrono::NaiveDate;
use landfall_icp::Localized;
use serde::Serialize;

use crate::event::{Event, Percent, Severity};
use crate::Lang;

/// The most characters of one value (a reason, a note, a name) kept in a message.
pub const MAX_VALUE_CHARS: usize = 200;

/// The most channels a kill switch message lists one by one; the rest are counted. Keeps every
/// robot message far below the platforms' size limits (Feishu: 20 KB per request).
pub const MAX_LISTED_CHANNELS: usize = 20;

/// An event rendered for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The language it is written in.
    pub lang: Lang,
    /// How urgent it is (robots colour by it).
    pub severity: Severity,
    /// `Landfall: Rollout paused (com.example.app)` / `Landfall：灰度发布已暂停（com.example.app）`.
    pub title: String,
    /// One sentence saying what happened.
    pub summary: String,
    /// Labelled details, in display order.
    pub facts: Vec<Fact>,
}

impl Message {
    /// What goes between a label and its value: `": "` in English, `"："` in Chinese.
    pub fn separator(&self) -> &'static str {
        match self.lang {
            Lang::En => ": ",
            Lang::ZhCn => "：",
        }
    }
}

/// One labelled detail of a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// The label, e.g. `Channel` / `渠道`.
    pub label: String,
    /// The value, e.g. `production`.
    pub value: String,
}

/// Makes a value safe and short for a chat message (see the module docs).
pub fn clean(value: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = false;
    for c in value.trim().chars() {
        if count == MAX_VALUE_CHARS {
            out.push('…');
            break;
        }
        let c = match c {
            '<' => '＜',
            '>' => '＞',
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out
}

struct Builder {
    lang: Lang,
    facts: Vec<Fact>,
}

impl Builder {
    fn pick<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        match self.lang {
            Lang::En => en,
            Lang::ZhCn => zh,
        }
    }

    fn fact(&mut self, en: &str, zh: &str, value: impl Into<String>) {
        let label = self.pick(en, zh).to_string();
        self.facts.push(Fact {
            label,
            value: value.into(),
        });
    }

    fn app(&mut self, app_id: &str) {
        self.fact("App", "应用", clean(app_id));
    }

    fn channel(&mut self, channel: &str) {
        self.fact("Channel", "渠道", clean(channel));
    }

    fn version(&mut self, version: &str) {
        self.fact("Version", "版本", clean(version));
    }

    fn share(&mut self, percent: Percent) {
        self.fact("Rollout share", "灰度比例", percent.to_string());
    }

    fn actor(&mut self, actor: &str) {
        self.fact("By", "操作人", clean(actor));
    }

    fn reason(&mut self, reason: Option<&str>) {
        if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
            self.fact("Reason", "原因", clean(r));
        }
    }

    fn note(&mut self, note: Option<&str>) {
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            self.fact("Note", "备注", clean(n));
        }
    }

    /// A version name, or the built-in version in words.
    fn target(&self, target: &str) -> String {
        if target == "builtin" {
            self.pick("the built-in version", "内置版本").to_string()
        } else {
            clean(target)
        }
    }

    fn localized(&self, text: &Localized) -> String {
        clean(self.pick(&text.en, &text.zh))
    }

    fn days(&self, n: i64) -> String {
        match (self.lang, n) {
            (Lang::En, 1) => "1 day".to_string(),
            (Lang::En, n) => format!("{n} days"),
            (Lang::ZhCn, n) => format!("{n} 天"),
        }
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A fraction as a percentage with two decimals: `0.0734` → `7.34%`.
fn rate(r: f64) -> String {
    format!("{:.2}%", r * 100.0)
}

/// Renders an event in one language.
pub fn render(event: &Event, lang: Lang) -> Message {
    let mut b = Builder {
        lang,
        facts: Vec::new(),
    };
    let en = lang == Lang::En;
    let (heading, summary): (&str, String) = match event {
        Event::BundleUploaded(e) => {
            let (app, v, actor) = (clean(&e.app_id), clean(&e.version), clean(&e.actor));
            let mut s = if en {
                format!("{actor} uploaded bundle {v} of {app}.")
            } else {
                format!("{actor} 上传了 {app} 的安装包 {v}。")
            };
            if let Some(c) = &e.channel {
                let c = clean(c);
                s.push_str(&if en {
                    format!(" It is now served on channel {c}.")
                } else {
                    format!("该版本已在 {c} 渠道分发。")
                });
            }
            b.app(&e.app_id);
            b.version(&e.version);
            if let Some(c) = &e.channel {
                b.channel(c);
            }
            b.actor(&e.actor);
            (b.pick("New bundle uploaded", "新安装包已上传"), s)
        }
        Event::ChannelChanged(e) => {
            let (c, from, to) = (clean(&e.channel), b.target(&e.from), b.target(&e.to));
            let s = if en {
                format!("Channel {c} now serves {to} instead of {from}.")
            } else {
                format!("{c} 渠道现在分发 {to}（原为 {from}）。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.fact("Before", "原版本", from);
            b.fact("Now", "现版本", to);
            b.actor(&e.actor);
            (b.pick("Channel changed", "渠道已变更"), s)
        }
        Event::RolloutStarted(e) => {
            let (c, v, p, from) = (
                clean(&e.channel),
                clean(&e.version),
                e.percent,
                b.target(&e.from),
            );
            let s = if en {
                format!("{v} is being rolled out to {p} of the devices on channel {c}; the others keep {from}.")
            } else {
                format!("{v} 已开始向 {c} 渠道 {p} 的设备灰度发布，其余设备保持 {from}。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.share(e.percent);
            b.fact("Other devices keep", "其余设备保持", from);
            b.actor(&e.actor);
            (b.pick("Rollout started", "灰度发布已开始"), s)
        }
        Event::RolloutStepped(e) => {
            let (c, v, a, z) = (
                clean(&e.channel),
                clean(&e.version),
                e.from_percent,
                e.to_percent,
            );
            let s = if en {
                format!("The rollout of {v} on channel {c} went from {a} to {z} of the devices.")
            } else {
                format!("{c} 渠道上 {v} 的灰度比例已从 {a} 调整为 {z}。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.fact("Rollout share", "灰度比例", format!("{a} → {z}"));
            b.actor(&e.actor);
            (b.pick("Rollout share changed", "灰度比例已调整"), s)
        }
        Event::RolloutPaused(e) => {
            let (c, v, p) = (clean(&e.channel), clean(&e.version), e.percent);
            let s = if en {
                format!("The rollout of {v} on channel {c} was paused at {p}: devices already on it keep it, no other device gets it.")
            } else {
                format!("{c} 渠道上 {v} 的灰度发布已在 {p} 暂停：已更新的设备保留该版本，其他设备不再获得。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.share(e.percent);
            b.actor(&e.actor);
            b.reason(e.reason.as_deref());
            (b.pick("Rollout paused", "灰度发布已暂停"), s)
        }
        Event::RolloutResumed(e) => {
            let (c, v, p) = (clean(&e.channel), clean(&e.version), e.percent);
            let s = if en {
                format!("The rollout of {v} on channel {c} resumed at {p}.")
            } else {
                format!("{c} 渠道上 {v} 的灰度发布已恢复，灰度比例 {p}。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.share(e.percent);
            b.actor(&e.actor);
            (b.pick("Rollout resumed", "灰度发布已恢复"), s)
        }
        Event::RolloutAborted(e) => {
            let (c, v, p, back) = (
                clean(&e.channel),
                clean(&e.version),
                e.percent,
                b.target(&e.back_to),
            );
            let s = if en {
                format!("The rollout of {v} on channel {c} was aborted at {p}; its devices go back to {back}.")
            } else {
                format!("{c} 渠道上 {v} 的灰度发布已在 {p} 中止，相关设备将回到 {back}。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.share(e.percent);
            b.fact("Devices go back to", "设备回到", back);
            b.actor(&e.actor);
            b.reason(e.reason.as_deref());
            (b.pick("Rollout aborted", "灰度发布已中止"), s)
        }
        Event::RolloutPromoted(e) => {
            let (c, v, from) = (clean(&e.channel), clean(&e.version), b.target(&e.from));
            let s = if en {
                format!("Channel {c} now serves {v} to every device (before: {from}).")
            } else {
                format!("{c} 渠道已向全部设备分发 {v}（原为 {from}）。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.fact("Before", "原版本", from);
            b.actor(&e.actor);
            (
                b.pick("Rollout promoted to every device", "灰度版本已全量发布"),
                s,
            )
        }
        Event::AutoPaused(e) => {
            let (c, v, p) = (clean(&e.channel), clean(&e.version), e.percent);
            let (f, n) = (e.failures, e.sample_size);
            let (r, lb, thr) = (
                rate(e.failure_rate),
                rate(e.wilson_lower_bound),
                rate(e.threshold),
            );
            let s = if en {
                format!("The rollout of {v} on channel {c} was paused automatically at {p}: {f} of {n} installs failed ({r}), and even the lower Wilson bound {lb} is above the {thr} threshold.")
            } else {
                format!("{c} 渠道上 {v} 的灰度发布已在 {p} 自动暂停：{n} 次安装中有 {f} 次失败（{r}），威尔逊区间下限 {lb} 仍高于阈值 {thr}。")
            };
            b.app(&e.app_id);
            b.channel(&e.channel);
            b.version(&e.version);
            b.share(e.percent);
            let failure_rate = if en {
                format!("{r} ({f}/{n})")
            } else {
                format!("{r}（{f}/{n}）")
            };
            b.fact("Failure rate", "失败率", failure_rate);
            b.fact("Lower Wilson bound", "威尔逊区间下限", lb);
            b.fact("Threshold", "阈值", thr);
            let baseline = match e.baseline_failure_rate {
                Some(x) => rate(x),
                None => b.pick("unknown", "未知").to_string(),
            };
            b.fact("Baseline failure rate", "基线失败率", baseline);
            (
                b.pick("Rollout paused automatically", "灰度发布已自动暂停"),
                s,
            )
        }
        Event::KillSwitch(e) => {
            let (app, actor, target) = (clean(&e.app_id), clean(&e.actor), b.target(&e.target));
            let n = e.channels.len();
            let s = match (en, n) {
                (true, 1) => {
                    format!("{actor} moved every channel of {app} to {target}: 1 channel moved.")
                }
                (true, n) => {
                    format!("{actor} moved every channel of {app} to {target}: {n} channels moved.")
                }
                (false, n) => {
                    format!("{actor} 已将 {app} 的所有渠道切换到 {target}，共 {n} 个渠道。")
                }
            };
            b.app(&e.app_id);
            b.fact("Known-good target", "已知可用的版本", target);
            if let Some(id) = e.incident_id {
                b.fact("Incident", "事件", format!("#{id}"));
            }
            b.actor(&e.actor);
            b.note(e.note.as_deref());
            for m in e.channels.iter().take(MAX_LISTED_CHANNELS) {
                let (c, from, to) = (clean(&m.channel), b.target(&m.from), b.target(&m.to));
                let label = if en {
                    format!("Channel {c}")
                } else {
                    format!("{c} 渠道")
                };
                let mut value = format!("{from} → {to}");
                if m.rollout_ended {
                    value.push_str(b.pick(" (rollout ended)", "（灰度已结束）"));
                }
                b.facts.push(Fact { label, value });
            }
            if n > MAX_LISTED_CHANNELS {
                let more = n - MAX_LISTED_CHANNELS;
                let value = if en {
                    format!("{more} more")
                } else {
                    format!("另有 {more} 个")
                };
                b.fact("Other channels", "其他渠道", value);
            }
            (b.pick("Kill switch activated", "已执行紧急切换"), s)
        }
        Event::IcpFilingStateChanged(e) => {
            let app = clean(&e.app_id);
            let (from, to) = (b.localized(&e.from.label()), b.localized(&e.to.label()));
            let s = if en {
                format!("The ICP filing of {app} moved from “{from}” to “{to}”.")
            } else {
                format!("{app} 的 ICP 备案状态由“{from}”变为“{to}”。")
            };
            b.app(&e.app_id);
            b.fact("Before", "原状态", from);
            b.fact("Now", "现状态", to);
            if let Some(number) = &e.filing_number {
                b.fact("Filing number", "备案号", clean(number));
            }
            b.actor(&e.actor);
            b.note(e.note.as_deref());
            (b.pick("ICP filing status changed", "ICP 备案状态已变更"), s)
        }
        Event::IcpComplianceOverdue(e) => {
            let (app, title, due) = (clean(&e.app_id), b.localized(&e.title), date(e.due_on));
            let days = b.days(i64::from(e.days_overdue));
            let s = if en {
                format!("“{title}” for {app} was due on {due} and is {days} overdue.")
            } else {
                format!("{app} 的“{title}”应于 {due} 完成，已逾期 {days}。")
            };
            b.app(&e.app_id);
            b.fact("Item", "事项", title);
            b.fact("Due on", "截止日期", due);
            b.fact("Overdue by", "已逾期", days);
            (b.pick("Compliance item overdue", "合规事项已逾期"), s)
        }
        Event::IcpDocumentExpiring(e) => {
            let (app, title, on) = (clean(&e.app_id), b.localized(&e.title), date(e.expires_on));
            let days = b.days(e.days_left.abs());
            let s = match (en, e.days_left) {
                (true, 0) => format!("For {app}, “{title}” expires today ({on})."),
                (true, d) if d > 0 => {
                    format!("For {app}, “{title}” expires on {on}, in {days}.")
                }
                (true, _) => format!("For {app}, “{title}” expired on {on}, {days} ago."),
                (false, 0) => format!("{app} 的“{title}”今天（{on}）到期。"),
                (false, d) if d > 0 => {
                    format!("{app} 的“{title}”将于 {on} 到期，还剩 {days}。")
                }
                (false, _) => format!("{app} 的“{title}”已于 {on} 到期，已过 {days}。"),
            };
            b.app(&e.app_id);
            b.fact("Item", "事项", title);
            b.fact("Expires on", "到期日期", on);
            if e.days_left > 0 {
                b.fact("Days left", "剩余天数", days);
            } else if e.days_left < 0 {
                b.fact("Expired for", "已过期", days);
            }
            let heading = if e.days_left < 0 {
                b.pick("Expired", "已过期")
            } else {
                b.pick("Expiring soon", "即将到期")
            };
            (heading, s)
        }
        Event::Test(e) => {
            let actor = clean(&e.actor);
            let s = if en {
                format!("This is a test notification from Landfall, sent by {actor}. If you can read it, this notification channel works.")
            } else {
                format!("这是来自 Landfall 的测试通知，由 {actor} 发送。看到这条消息，说明通知配置正确。")
            };
            if let Some(app) = &e.app_id {
                b.app(app);
            }
            b.actor(&e.actor);
            b.note(e.note.as_deref());
            (b.pick("Test notification", "测试通知"), s)
        }
    };
    let title = match (event.app_id(), lang) {
        (Some(app), Lang::En) => format!("Landfall: {heading} ({})", clean(app)),
        (Some(app), Lang::ZhCn) => format!("Landfall：{heading}（{}）", clean(app)),
        (None, Lang::En) => format!("Landfall: {heading}"),
        (None, Lang::ZhCn) => format!("Landfall：{heading}"),
    };
    Message {
        lang,
        severity: event.severity(),
        title,
        summary,
        facts: b.facts,
    }
}
