//! ICP filing (`京ICP备12345678号-2A`), commercial licence (`京ICP证030173号`, `粤B2-20090059`) and
//! public-security (`京公网安备11010502000001号`) numbers: normalisation, parsing and validation.
//!
//! Input is normalised first ([`normalize_number`]: full-width characters to ASCII, dash variants to
//! `-`, whitespace removed, ASCII letters upper-cased), then parsed step by step so that a failure
//! names the exact problem ([`NumberError`], English via `Display`, Chinese via
//! [`NumberError::message_zh`]). The §1.5 regexes of the domain reference are applied as a final gate.
//!
//! Strict mode (the default) accepts only the official forms. Lenient mode additionally accepts forms
//! seen in the wild (legacy province characters such as `川ICP备…`, 12-digit public-security numbers,
//! 8-digit `ICP证` numbers, hyphenated old licence numbers) and reports them as [`NumberWarning`]s.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Localized;

// ------------------------------------------------------------------------------------------------
// Provinces
// ------------------------------------------------------------------------------------------------

/// One of the 31 mainland province-level divisions (Hong Kong, Macau and Taiwan do not issue ICP
/// numbers and are deliberately absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Province {
    Beijing,
    Tianjin,
    Hebei,
    Shanxi,
    InnerMongolia,
    Liaoning,
    Jilin,
    Heilongjiang,
    Shanghai,
    Jiangsu,
    Zhejiang,
    Anhui,
    Fujian,
    Jiangxi,
    Shandong,
    Henan,
    Hubei,
    Hunan,
    Guangdong,
    Guangxi,
    Hainan,
    Chongqing,
    Sichuan,
    Guizhou,
    Yunnan,
    Tibet,
    Shaanxi,
    Gansu,
    Qinghai,
    Ningxia,
    Xinjiang,
}

struct ProvinceInfo {
    province: Province,
    /// GB/T 2260 two-digit code.
    code: u8,
    /// Abbreviation used by MIIT in ICP numbers.
    icp: char,
    /// Abbreviation used by the Ministry of Public Security in 公网安备 numbers.
    psb: char,
    zh: &'static str,
    en: &'static str,
}

const fn p(
    province: Province,
    code: u8,
    icp: char,
    psb: char,
    zh: &'static str,
    en: &'static str,
) -> ProvinceInfo {
    ProvinceInfo {
        province,
        code,
        icp,
        psb,
        zh,
        en,
    }
}

/// Reference table §1.1 (GB/T 2260 code, MIIT prefix, MPS prefix).
const PROVINCES: [ProvinceInfo; 31] = [
    p(Province::Beijing, 11, '京', '京', "北京", "Beijing"),
    p(Province::Tianjin, 12, '津', '津', "天津", "Tianjin"),
    p(Province::Hebei, 13, '冀', '冀', "河北", "Hebei"),
    p(Province::Shanxi, 14, '晋', '晋', "山西", "Shanxi"),
    p(
        Province::InnerMongolia,
        15,
        '蒙',
        '蒙',
        "内蒙古",
        "Inner Mongolia",
    ),
    p(Province::Liaoning, 21, '辽', '辽', "辽宁", "Liaoning"),
    p(Province::Jilin, 22, '吉', '吉', "吉林", "Jilin"),
    p(
        Province::Heilongjiang,
        23,
        '黑',
        '黑',
        "黑龙江",
        "Heilongjiang",
    ),
    p(Province::Shanghai, 31, '沪', '沪', "上海", "Shanghai"),
    p(Province::Jiangsu, 32, '苏', '苏', "江苏", "Jiangsu"),
    p(Province::Zhejiang, 33, '浙', '浙', "浙江", "Zhejiang"),
    p(Province::Anhui, 34, '皖', '皖', "安徽", "Anhui"),
    p(Province::Fujian, 35, '闽', '闽', "福建", "Fujian"),
    p(Province::Jiangxi, 36, '赣', '赣', "江西", "Jiangxi"),
    p(Province::Shandong, 37, '鲁', '鲁', "山东", "Shandong"),
    p(Province::Henan, 41, '豫', '豫', "河南", "Henan"),
    p(Province::Hubei, 42, '鄂', '鄂', "湖北", "Hubei"),
    p(Province::Hunan, 43, '湘', '湘', "湖南", "Hunan"),
    p(Province::Guangdong, 44, '粤', '粤', "广东", "Guangdong"),
    p(Province::Guangxi, 45, '桂', '桂', "广西", "Guangxi"),
    p(Province::Hainan, 46, '琼', '琼', "海南", "Hainan"),
    p(Province::Chongqing, 50, '渝', '渝', "重庆", "Chongqing"),
    p(Province::Sichuan, 51, '蜀', '川', "四川", "Sichuan"),
    p(Province::Guizhou, 52, '黔', '贵', "贵州", "Guizhou"),
    p(Province::Yunnan, 53, '滇', '滇', "云南", "Yunnan"),
    p(Province::Tibet, 54, '藏', '藏', "西藏", "Tibet"),
    p(Province::Shaanxi, 61, '陕', '陕', "陕西", "Shaanxi"),
    p(Province::Gansu, 62, '陇', '甘', "甘肃", "Gansu"),
    p(Province::Qinghai, 63, '青', '青', "青海", "Qinghai"),
    p(Province::Ningxia, 64, '宁', '宁', "宁夏", "Ningxia"),
    p(Province::Xinjiang, 65, '新', '新', "新疆", "Xinjiang"),
];

/// Province characters of the ICP numbers that appear in the wild but are not the MIIT form
/// (川/贵/云/甘 instead of 蜀/黔/滇/陇). Accepted in lenient mode with a warning.
const LEGACY_ICP_PREFIX: [(char, Province); 4] = [
    ('川', Province::Sichuan),
    ('贵', Province::Guizhou),
    ('云', Province::Yunnan),
    ('甘', Province::Gansu),
];

/// Wrong-character public-security labels seen in the wild (the ICP characters). Accepted in lenient
/// mode with a warning; the province is then decided by the digits.
const ALT_PSB_PREFIX: [(char, Province); 4] = [
    ('蜀', Province::Sichuan),
    ('黔', Province::Guizhou),
    ('陇', Province::Gansu),
    ('云', Province::Yunnan),
];

const NON_MAINLAND: [(char, &str, &str); 3] = [
    ('港', "Hong Kong", "香港"),
    ('澳', "Macau", "澳门"),
    ('台', "Taiwan", "台湾"),
];

impl Province {
    /// All 31 provinces in GB/T 2260 order.
    pub fn all() -> impl Iterator<Item = Province> {
        PROVINCES.iter().map(|i| i.province)
    }

    fn info(self) -> &'static ProvinceInfo {
        // PROVINCES is in declaration order, so the discriminant is the index.
        &PROVINCES[self as usize]
    }

    /// GB/T 2260 two-digit province code (e.g. 44 for Guangdong).
    pub fn code(self) -> u8 {
        self.info().code
    }

    /// Abbreviation used in ICP filing/licence numbers (e.g. `蜀` for Sichuan).
    pub fn icp_char(self) -> char {
        self.info().icp
    }

    /// Abbreviation used in public-security numbers (e.g. `川` for Sichuan).
    pub fn psb_char(self) -> char {
        self.info().psb
    }

    /// Chinese short name (e.g. `广东`).
    pub fn name_zh(self) -> &'static str {
        self.info().zh
    }

    /// English name (e.g. `Guangdong`).
    pub fn name_en(self) -> &'static str {
        self.info().en
    }

    /// Province for a GB/T 2260 two-digit code.
    pub fn from_code(code: u8) -> Option<Province> {
        PROVINCES
            .iter()
            .find(|i| i.code == code)
            .map(|i| i.province)
    }

    /// Province for an ICP-number abbreviation (`蜀` → Sichuan; `川` → `None`).
    pub fn from_icp_char(c: char) -> Option<Province> {
        PROVINCES.iter().find(|i| i.icp == c).map(|i| i.province)
    }

    /// Province for a public-security abbreviation (`川` → Sichuan; `蜀` → `None`).
    pub fn from_psb_char(c: char) -> Option<Province> {
        PROVINCES.iter().find(|i| i.psb == c).map(|i| i.province)
    }

    /// Lenient lookup used for form input: accepts the ICP or MPS abbreviation, the Chinese name with
    /// or without 省/市/自治区 (`广东`, `广东省`, `广西壮族自治区`), the English name (any case) or the
    /// two-digit GB/T 2260 code (also a 6-digit area code such as `440300`).
    pub fn parse_name(input: &str) -> Option<Province> {
        let s = normalize_text(input);
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if s.chars().all(|c| c.is_ascii_digit()) && (s.len() == 2 || s.len() == 6) {
            return s[..2].parse::<u8>().ok().and_then(Province::from_code);
        }
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Province::from_icp_char(c).or_else(|| Province::from_psb_char(c));
        }
        let lower = s.to_ascii_lowercase();
        PROVINCES
            .iter()
            .find(|i| {
                i.en.to_ascii_lowercase() == lower
                    || i.en.to_ascii_lowercase().replace(' ', "") == lower.replace([' ', '_'], "")
                    || s.starts_with(i.zh)
            })
            .map(|i| i.province)
    }
}

impl fmt::Display for Province {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_en())
    }
}

// ------------------------------------------------------------------------------------------------
// Normalisation
// ------------------------------------------------------------------------------------------------

/// Maps full-width ASCII (U+FF01..U+FF5E) and the ideographic space to ASCII, dash variants to `-`,
/// and drops zero-width characters. Does not remove ordinary whitespace.
pub fn normalize_text(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' => Some(' '),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{30FC}' => {
                Some('-')
            }
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
            other => Some(other),
        })
        .collect()
}

/// Normalises a number for parsing: [`normalize_text`], then all whitespace removed and ASCII
/// letters upper-cased. `京 ICP 备 １２３４５６７８ 号－１ａ` becomes `京ICP备12345678号-1A`.
pub fn normalize_number(input: &str) -> String {
    normalize_text(input)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

// ------------------------------------------------------------------------------------------------
// Common types
// ------------------------------------------------------------------------------------------------

/// Which kind of number a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberKind {
    /// ICP filing number (备案号).
    Filing,
    /// Commercial ICP licence / value-added telecom licence (ICP证 / B2).
    Licence,
    /// Public-security filing number (公网安备).
    PublicSecurity,
}

impl NumberKind {
    fn en(self) -> &'static str {
        match self {
            NumberKind::Filing => "ICP filing",
            NumberKind::Licence => "ICP licence",
            NumberKind::PublicSecurity => "public-security filing",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            NumberKind::Filing => "ICP备案号",
            NumberKind::Licence => "ICP经营许可证号",
            NumberKind::PublicSecurity => "公安联网备案号",
        }
    }
    fn example(self) -> &'static str {
        match self {
            NumberKind::Filing => "京ICP备12345678号-2A",
            NumberKind::Licence => "京ICP证030173号 / 粤B2-20090059",
            NumberKind::PublicSecurity => "京公网安备11010502000001号",
        }
    }
}

impl fmt::Display for NumberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.en())
    }
}

/// Kind of internet information service a filing-number suffix denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// `-N`: website.
    Website,
    /// `-NA`: mobile app.
    App,
    /// `-NX`: mini-program.
    MiniProgram,
    /// `-NK`: quick app.
    QuickApp,
}

impl ServiceKind {
    /// The suffix letter (`None` for websites).
    pub fn letter(self) -> Option<char> {
        match self {
            ServiceKind::Website => None,
            ServiceKind::App => Some('A'),
            ServiceKind::MiniProgram => Some('X'),
            ServiceKind::QuickApp => Some('K'),
        }
    }

    fn from_letter(c: Option<char>) -> Option<ServiceKind> {
        match c {
            None => Some(ServiceKind::Website),
            Some('A') => Some(ServiceKind::App),
            Some('X') => Some(ServiceKind::MiniProgram),
            Some('K') => Some(ServiceKind::QuickApp),
            Some(_) => None,
        }
    }

    /// English label.
    pub fn name_en(self) -> &'static str {
        match self {
            ServiceKind::Website => "website",
            ServiceKind::App => "app",
            ServiceKind::MiniProgram => "mini-program",
            ServiceKind::QuickApp => "quick app",
        }
    }

    /// Chinese label.
    pub fn name_zh(self) -> &'static str {
        match self {
            ServiceKind::Website => "网站",
            ServiceKind::App => "APP",
            ServiceKind::MiniProgram => "小程序",
            ServiceKind::QuickApp => "快应用",
        }
    }
}

/// The per-service suffix of a filing number: `-2A` = the entity's second service, an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceSuffix {
    /// Position in the entity's shared service sequence (1..=99999).
    pub seq: u32,
    pub kind: ServiceKind,
}

impl fmt::Display for ServiceSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-{}", self.seq)?;
        if let Some(c) = self.kind.letter() {
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Parse options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParseOptions {
    /// Accept legacy/variant forms with a warning instead of rejecting them.
    pub lenient: bool,
    /// Upper bound for the year plausibility check of 10-digit filing numbers. `None` = 2099 (the
    /// library never reads the clock).
    pub current_year: Option<i32>,
}

impl ParseOptions {
    /// Official forms only.
    pub fn strict() -> Self {
        ParseOptions::default()
    }

    /// Also accept the variant forms seen in the wild, with warnings.
    pub fn lenient() -> Self {
        ParseOptions {
            lenient: true,
            current_year: None,
        }
    }
}

/// A successfully parsed number with the normalised input and any warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed<T> {
    pub value: T,
    /// The input after [`normalize_number`].
    pub normalized: String,
    pub warnings: Vec<NumberWarning>,
}

/// Something unusual about an accepted number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum NumberWarning {
    /// A variant province character (`川ICP备`, `蜀公网安备`) was accepted.
    VariantProvinceCharacter {
        kind: NumberKind,
        found: char,
        standard: char,
        province: Province,
    },
    /// The year encoded in the entity number is implausible for its length.
    UnusualYear { digits: String, detail: String },
    /// A public-security number without the usual 14 digits.
    LegacyPublicSecurityLength { digits: usize },
    /// An `ICP证` number with 7 or 8 digits (usually a mislabelled filing number).
    LicenceDigitCount { digits: usize },
    /// An old hyphenated licence form such as `辽B-2-4-20080039`.
    LegacyLicenceForm { text: String },
}

impl NumberWarning {
    /// English message.
    pub fn message_en(&self) -> String {
        match self {
            NumberWarning::VariantProvinceCharacter {
                kind,
                found,
                standard,
                province,
            } => format!(
                "`{found}` is not the official {} abbreviation for {province}; the official form uses `{standard}`",
                kind.en()
            ),
            NumberWarning::UnusualYear { digits, detail } => {
                format!("entity number {digits}: {detail}; check it against the MIIT record")
            }
            NumberWarning::LegacyPublicSecurityLength { digits } => format!(
                "public-security code has {digits} digits instead of 14 (legacy local number); check it on beian.mps.gov.cn"
            ),
            NumberWarning::LicenceDigitCount { digits } => format!(
                "ICP licence numbers have 6 digits; {digits} digits usually means a mislabelled filing number (ICP备)"
            ),
            NumberWarning::LegacyLicenceForm { text } => {
                format!("`{text}` is an old licence-number form; check the current form on the licence")
            }
        }
    }

    /// Chinese message.
    pub fn message_zh(&self) -> String {
        match self {
            NumberWarning::VariantProvinceCharacter {
                kind,
                found,
                standard,
                province,
            } => format!(
                "「{found}」不是{}{}的规范简称，规范写法为「{standard}」",
                province.name_zh(),
                kind.zh()
            ),
            NumberWarning::UnusualYear { digits, detail: _ } => {
                format!("主体号 {digits} 中的年份与位数不符，请与工信部备案系统记录核对")
            }
            NumberWarning::LegacyPublicSecurityLength { digits } => {
                format!("公安备案号为 {digits} 位（通常为 14 位），可能是旧的地方编号，请在公安备案平台核实")
            }
            NumberWarning::LicenceDigitCount { digits } => {
                format!("ICP证编号通常为 6 位，{digits} 位多为误标的ICP备案号")
            }
            NumberWarning::LegacyLicenceForm { text } => {
                format!("「{text}」是旧式许可证编号写法，请按许可证原件核对")
            }
        }
    }

    /// Both languages.
    pub fn localized(&self) -> Localized {
        Localized::new(self.message_en(), self.message_zh())
    }
}

/// Why a number was rejected. `Display` is English; [`NumberError::message_zh`] is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum NumberError {
    #[error("the {kind} number is empty")]
    Empty { kind: NumberKind },
    #[error("`{input}` is not a {kind} number (expected the form {})", kind.example())]
    WrongShape { kind: NumberKind, input: String },
    #[error("`{input}` looks like a {found} number, not a {expected} number")]
    WrongKind {
        expected: NumberKind,
        found: NumberKind,
        input: String,
    },
    #[error(
        "the {kind} number has no province abbreviation before `{marker}` (e.g. `京{marker}`)"
    )]
    MissingProvince { kind: NumberKind, marker: String },
    #[error("`{found}` ({region}) is not a mainland province: Hong Kong, Macau and Taiwan do not issue {kind} numbers")]
    NonMainlandRegion {
        kind: NumberKind,
        found: char,
        region: String,
    },
    #[error("`{found}` is not a province abbreviation used in {kind} numbers{}", suggestion.map(|c| format!(" (use `{c}`)")).unwrap_or_default())]
    UnknownProvince {
        kind: NumberKind,
        found: String,
        suggestion: Option<char>,
    },
    #[error("`{found}` is not the {kind} abbreviation for {province}: use `{standard}` (MIIT uses 蜀/黔/滇/陇, public security uses 川/贵/滇/甘)")]
    WrongProvinceCharacter {
        kind: NumberKind,
        found: char,
        standard: char,
        province: Province,
    },
    #[error("the {kind} number has {found} digits where {expected} are required")]
    DigitCount {
        kind: NumberKind,
        found: usize,
        expected: String,
    },
    #[error("the {kind} number must end its digits with `号` (e.g. `{}`)", kind.example())]
    MissingHao { kind: NumberKind },
    #[error("invalid service suffix `{suffix}`: expected `-N` for a website, `-NA` app, `-NX` mini-program or `-NK` quick app, with N from 1 to 99999")]
    BadServiceSuffix { suffix: String },
    #[error("public-security code {code} starts with {code_prefix}, which is not a mainland province code (GB/T 2260)")]
    UnknownAreaCode { code: String, code_prefix: String },
    #[error("public-security code {code} belongs to {code_province} (`{}`), but the number is labelled `{label}` ({label_province})", code_province.psb_char())]
    ProvinceMismatch {
        code: String,
        code_province: Province,
        label: char,
        label_province: Province,
    },
    #[error("`{input}` uses an old {kind} form that is only accepted in lenient mode")]
    LenientOnly { kind: NumberKind, input: String },
}

impl NumberError {
    /// Chinese message.
    pub fn message_zh(&self) -> String {
        match self {
            NumberError::Empty { kind } => format!("{}为空", kind.zh()),
            NumberError::WrongShape { kind, input } => {
                format!("「{input}」不是有效的{}（格式示例：{}）", kind.zh(), kind.example())
            }
            NumberError::WrongKind {
                expected,
                found,
                input,
            } => format!("「{input}」是{}，不是{}", found.zh(), expected.zh()),
            NumberError::MissingProvince { kind, marker } => {
                format!("{}缺少「{marker}」前的省份简称（例如「京{marker}」）", kind.zh())
            }
            NumberError::NonMainlandRegion { kind, found, .. } => {
                let zh = NON_MAINLAND
                    .iter()
                    .find(|(c, _, _)| c == found)
                    .map(|(_, _, zh)| *zh)
                    .unwrap_or("该地区");
                format!("「{found}」（{zh}）不是内地省份，港澳台不签发{}", kind.zh())
            }
            NumberError::UnknownProvince {
                kind,
                found,
                suggestion,
            } => match suggestion {
                Some(c) => format!("「{found}」不是{}使用的省份简称，应为「{c}」", kind.zh()),
                None => format!("「{found}」不是{}使用的省份简称", kind.zh()),
            },
            NumberError::WrongProvinceCharacter {
                kind,
                found,
                standard,
                province,
            } => format!(
                "「{found}」不是{}{}的简称，应为「{standard}」（工信部用 蜀/黔/滇/陇，公安用 川/贵/滇/甘）",
                province.name_zh(),
                kind.zh()
            ),
            NumberError::DigitCount {
                kind,
                found,
                expected,
            } => format!("{}的数字部分为 {found} 位，应为 {expected} 位", kind.zh()),
            NumberError::MissingHao { kind } => {
                format!("{}的数字后缺少「号」（示例：{}）", kind.zh(), kind.example())
            }
            NumberError::BadServiceSuffix { suffix } => format!(
                "服务序号「{suffix}」无效：网站为「-N」，APP为「-NA」，小程序为「-NX」，快应用为「-NK」，N 为 1–99999"
            ),
            NumberError::UnknownAreaCode { code, code_prefix } => {
                format!("公安备案号 {code} 的前两位 {code_prefix} 不是内地省级行政区划代码（GB/T 2260）")
            }
            NumberError::ProvinceMismatch {
                code,
                code_province,
                label,
                label_province,
            } => format!(
                "公安备案号 {code} 属于{}（「{}」），但编号前缀为「{label}」（{}）",
                code_province.name_zh(),
                code_province.psb_char(),
                label_province.name_zh()
            ),
            NumberError::LenientOnly { kind, input } => {
                format!("「{input}」是旧式{}写法，仅在宽松模式下接受", kind.zh())
            }
        }
    }

    /// Both languages.
    pub fn localized(&self) -> Localized {
        Localized::new(self.to_string(), self.message_zh())
    }
}

// ------------------------------------------------------------------------------------------------
// §1.5 regexes (final gate after the step-by-step parse)
// ------------------------------------------------------------------------------------------------

const ICP_PROV: &str = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀黔滇藏陕陇青宁新";
const PSB_PROV: &str = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵滇藏陕甘青宁新";

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static RE_FILING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        "^[{ICP_PROV}川贵云甘]ICP备(?:[0-9]{{6}}|[0-9]{{8}}|[0-9]{{10}})号(?:-[1-9][0-9]{{0,4}}[AXK]?)?$"
    ))
});
static RE_LICENCE_CERT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        "^[{ICP_PROV}川贵云甘]ICP证[0-9]{{6,8}}号(?:-[1-9][0-9]{{0,4}}[AXK]?)?$"
    ))
});
static RE_LICENCE_B: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        "^[{ICP_PROV}川贵云甘]?B[12]-(?:19|20)[0-9]{{2}}[0-9]{{4}}(?:-[1-9][0-9]{{0,4}}[AXK]?)?$"
    ))
});
static RE_LICENCE_LEGACY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(&format!(
        "^[{ICP_PROV}川贵云甘]?B-?[12](?:-[0-9]{{1,2}})*-[0-9]{{8}}$"
    ))
});
static RE_PSB: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(&format!("^[{PSB_PROV}蜀黔陇云]公网安备[0-9]{{6,16}}号$")));

fn gate(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(s))
}

// ------------------------------------------------------------------------------------------------
// Step-by-step parsing helpers
// ------------------------------------------------------------------------------------------------

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

fn parse_suffix(rest: &str) -> Result<Option<ServiceSuffix>, NumberError> {
    if rest.is_empty() {
        return Ok(None);
    }
    let bad = || NumberError::BadServiceSuffix {
        suffix: rest.to_string(),
    };
    let body = rest.strip_prefix('-').ok_or_else(bad)?;
    let (digits, letter) = split_digits(body);
    if digits.is_empty() || digits.len() > 5 || digits.starts_with('0') {
        return Err(bad());
    }
    let mut letters = letter.chars();
    let letter = match (letters.next(), letters.next()) {
        (None, _) => None,
        (Some(c), None) => Some(c),
        _ => return Err(bad()),
    };
    let kind = ServiceKind::from_letter(letter).ok_or_else(bad)?;
    let seq = digits.parse::<u32>().map_err(|_| bad())?;
    Ok(Some(ServiceSuffix { seq, kind }))
}

/// Resolves an ICP-number province prefix (filing or `ICP证` licence).
fn icp_province(
    kind: NumberKind,
    marker: &str,
    prefix: &str,
    opts: &ParseOptions,
    warnings: &mut Vec<NumberWarning>,
) -> Result<(Province, char), NumberError> {
    let mut chars = prefix.chars();
    let c = match (chars.next(), chars.next()) {
        (None, _) => {
            return Err(NumberError::MissingProvince {
                kind,
                marker: marker.to_string(),
            })
        }
        (Some(c), None) => c,
        _ => {
            return Err(NumberError::UnknownProvince {
                kind,
                found: prefix.to_string(),
                suggestion: Province::parse_name(prefix).map(Province::icp_char),
            })
        }
    };
    if let Some(p) = Province::from_icp_char(c) {
        return Ok((p, c));
    }
    if let Some((_, region, _)) = NON_MAINLAND.iter().find(|(n, _, _)| *n == c) {
        return Err(NumberError::NonMainlandRegion {
            kind,
            found: c,
            region: (*region).to_string(),
        });
    }
    if let Some((_, p)) = LEGACY_ICP_PREFIX.iter().find(|(l, _)| *l == c) {
        if opts.lenient {
            warnings.push(NumberWarning::VariantProvinceCharacter {
                kind,
                found: c,
                standard: p.icp_char(),
                province: *p,
            });
            return Ok((*p, c));
        }
        return Err(NumberError::WrongProvinceCharacter {
            kind,
            found: c,
            standard: p.icp_char(),
            province: *p,
        });
    }
    Err(NumberError::UnknownProvince {
        kind,
        found: c.to_string(),
        suggestion: None,
    })
}

fn year_warning(digits: &str, opts: &ParseOptions) -> Option<NumberWarning> {
    let max_year = opts.current_year.unwrap_or(2099);
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i32>().ok());
    let detail = match digits.len() {
        10 => {
            let y = num(0..4)?;
            (!(2019..=max_year).contains(&y)).then(|| {
                format!("10-digit numbers start with the filing year (2019–{max_year}), found {y}")
            })
        }
        8 => {
            let y = num(0..2)?;
            (!(3..=20).contains(&y)).then(|| {
                format!("8-digit numbers were issued 2003–2020 and start with YY, found {y:02}")
            })
        }
        6 => {
            let y = num(0..2)?;
            (y > 5).then(|| format!("6-digit numbers were issued before 2006, found year {y:02}"))
        }
        _ => None,
    }?;
    Some(NumberWarning::UnusualYear {
        digits: digits.to_string(),
        detail,
    })
}

fn detect_kind(norm: &str) -> Option<NumberKind> {
    if norm.contains("ICP备") {
        Some(NumberKind::Filing)
    } else if norm.contains("公网安备") {
        Some(NumberKind::PublicSecurity)
    } else if norm.contains("ICP证")
        || norm.contains("B1-")
        || norm.contains("B2-")
        || norm.contains("B-")
    {
        Some(NumberKind::Licence)
    } else {
        None
    }
}

fn shape_error(expected: NumberKind, input: &str, norm: &str) -> NumberError {
    match detect_kind(norm) {
        Some(found) if found != expected => NumberError::WrongKind {
            expected,
            found,
            input: input.to_string(),
        },
        _ => NumberError::WrongShape {
            kind: expected,
            input: input.to_string(),
        },
    }
}

// ------------------------------------------------------------------------------------------------
// ICP filing number
// ------------------------------------------------------------------------------------------------

/// An ICP filing number (备案号), entity-level (`京ICP备12345678号`) or service-level
/// (`京ICP备12345678号-2A`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IcpFilingNumber {
    province: Province,
    /// The province character as issued (normally [`Province::icp_char`]).
    prefix: char,
    entity_digits: String,
    service: Option<ServiceSuffix>,
}

impl IcpFilingNumber {
    /// Parses with options; see the module docs.
    pub fn parse_with(input: &str, opts: &ParseOptions) -> Result<Parsed<Self>, NumberError> {
        let kind = NumberKind::Filing;
        let norm = normalize_number(input);
        if norm.is_empty() {
            return Err(NumberError::Empty { kind });
        }
        let Some(pos) = norm.find("ICP备") else {
            return Err(shape_error(kind, input, &norm));
        };
        let (prefix, rest) = norm.split_at(pos);
        let rest = &rest["ICP备".len()..];
        let mut warnings = Vec::new();
        let (province, prefix_char) = icp_province(kind, "ICP备", prefix, opts, &mut warnings)?;
        let (digits, rest) = split_digits(rest);
        if digits.is_empty() {
            return Err(NumberError::WrongShape {
                kind,
                input: input.to_string(),
            });
        }
        if ![6, 8, 10].contains(&digits.len()) {
            return Err(NumberError::DigitCount {
                kind,
                found: digits.len(),
                expected: "6, 8 or 10".into(),
            });
        }
        let Some(rest) = rest.strip_prefix('号') else {
            return Err(NumberError::MissingHao { kind });
        };
        let service = parse_suffix(rest)?;
        if !gate(&RE_FILING, &norm) {
            return Err(NumberError::WrongShape {
                kind,
                input: input.to_string(),
            });
        }
        warnings.extend(year_warning(digits, opts));
        Ok(Parsed {
            value: IcpFilingNumber {
                province,
                prefix: prefix_char,
                entity_digits: digits.to_string(),
                service,
            },
            normalized: norm,
            warnings,
        })
    }

    /// Strict parse.
    pub fn parse(input: &str) -> Result<Self, NumberError> {
        Self::parse_with(input, &ParseOptions::strict()).map(|p| p.value)
    }

    pub fn province(&self) -> Province {
        self.province
    }

    /// The entity number digits (6, 8 or 10).
    pub fn entity_digits(&self) -> &str {
        &self.entity_digits
    }

    pub fn service(&self) -> Option<ServiceSuffix> {
        self.service
    }

    /// The entity-level number without the service suffix (`京ICP备12345678号`).
    pub fn entity_number(&self) -> String {
        format!("{}ICP备{}号", self.prefix, self.entity_digits)
    }

    /// The same entity number with another service suffix.
    pub fn with_service(&self, service: Option<ServiceSuffix>) -> Self {
        IcpFilingNumber {
            service,
            ..self.clone()
        }
    }

    /// True when the entity numbers (province + digits) are the same.
    pub fn same_entity(&self, other: &IcpFilingNumber) -> bool {
        self.province == other.province && self.entity_digits == other.entity_digits
    }
}

impl fmt::Display for IcpFilingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.entity_number())?;
        if let Some(s) = self.service {
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl FromStr for IcpFilingNumber {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ------------------------------------------------------------------------------------------------
// Licence numbers
// ------------------------------------------------------------------------------------------------

/// Telecom licence category (`B1`/`B2` value-added services; ICP information services are B2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TelecomCategory {
    B1,
    B2,
}

/// A commercial ICP licence / value-added telecom licence number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IcpLicenceNumber {
    /// `京ICP证030173号` (optionally a service record `京ICP证030173号-1`).
    Certificate {
        province: Province,
        prefix: char,
        digits: String,
        service: Option<ServiceSuffix>,
    },
    /// `粤B2-20090059` (provincial) or `B2-20080101` (cross-regional, issued by MIIT), optionally a
    /// service record `粤B2-20090059-1626X`.
    Telecom {
        province: Option<Province>,
        prefix: Option<char>,
        category: TelecomCategory,
        year: u16,
        serial: String,
        service: Option<ServiceSuffix>,
    },
    /// Old hyphenated form such as `辽B-2-4-20080039` (lenient mode only), kept verbatim.
    Legacy {
        province: Option<Province>,
        text: String,
    },
}

impl IcpLicenceNumber {
    /// Parses with options; see the module docs.
    pub fn parse_with(input: &str, opts: &ParseOptions) -> Result<Parsed<Self>, NumberError> {
        let kind = NumberKind::Licence;
        let norm = normalize_number(input);
        if norm.is_empty() {
            return Err(NumberError::Empty { kind });
        }
        let mut warnings = Vec::new();
        if let Some(pos) = norm.find("ICP证") {
            let (prefix, rest) = norm.split_at(pos);
            let rest = &rest["ICP证".len()..];
            let (province, prefix_char) = icp_province(kind, "ICP证", prefix, opts, &mut warnings)?;
            let (digits, rest) = split_digits(rest);
            match digits.len() {
                6 => {}
                7 | 8 if opts.lenient => warnings.push(NumberWarning::LicenceDigitCount {
                    digits: digits.len(),
                }),
                0 => {
                    return Err(NumberError::WrongShape {
                        kind,
                        input: input.to_string(),
                    })
                }
                n => {
                    return Err(NumberError::DigitCount {
                        kind,
                        found: n,
                        expected: "6".into(),
                    })
                }
            }
            let Some(rest) = rest.strip_prefix('号') else {
                return Err(NumberError::MissingHao { kind });
            };
            let service = parse_suffix(rest)?;
            if !gate(&RE_LICENCE_CERT, &norm) {
                return Err(NumberError::WrongShape {
                    kind,
                    input: input.to_string(),
                });
            }
            return Ok(Parsed {
                value: IcpLicenceNumber::Certificate {
                    province,
                    prefix: prefix_char,
                    digits: digits.to_string(),
                    service,
                },
                normalized: norm,
                warnings,
            });
        }

        let Some(bpos) = norm.find('B') else {
            return Err(shape_error(kind, input, &norm));
        };
        let (prefix, rest) = norm.split_at(bpos);
        let (province, prefix_char) = if prefix.is_empty() {
            (None, None)
        } else {
            let (p, c) = icp_province(kind, "B2-", prefix, opts, &mut warnings)?;
            (Some(p), Some(c))
        };

        if gate(&RE_LICENCE_B, &norm) {
            // B[12]-YYYYNNNN[-seq[kind]]
            let category = if rest.as_bytes().get(1) == Some(&b'1') {
                TelecomCategory::B1
            } else {
                TelecomCategory::B2
            };
            let body = &rest[3..];
            let (digits, tail) = split_digits(body);
            let year = digits[..4]
                .parse::<u16>()
                .map_err(|_| NumberError::WrongShape {
                    kind,
                    input: input.to_string(),
                })?;
            let service = parse_suffix(tail)?;
            return Ok(Parsed {
                value: IcpLicenceNumber::Telecom {
                    province,
                    prefix: prefix_char,
                    category,
                    year,
                    serial: digits[4..].to_string(),
                    service,
                },
                normalized: norm,
                warnings,
            });
        }
        if gate(&RE_LICENCE_LEGACY, &norm) {
            if !opts.lenient {
                return Err(NumberError::LenientOnly {
                    kind,
                    input: input.to_string(),
                });
            }
            warnings.push(NumberWarning::LegacyLicenceForm { text: norm.clone() });
            return Ok(Parsed {
                value: IcpLicenceNumber::Legacy {
                    province,
                    text: norm.clone(),
                },
                normalized: norm,
                warnings,
            });
        }
        // Give the most specific reason we can.
        if let Some(after) = rest
            .strip_prefix("B1-")
            .or_else(|| rest.strip_prefix("B2-"))
        {
            let (digits, tail) = split_digits(after);
            if digits.len() != 8 {
                return Err(NumberError::DigitCount {
                    kind,
                    found: digits.len(),
                    expected: "8 (YYYY + 4-digit serial)".into(),
                });
            }
            parse_suffix(tail)?;
        }
        Err(shape_error(kind, input, &norm))
    }

    /// Strict parse.
    pub fn parse(input: &str) -> Result<Self, NumberError> {
        Self::parse_with(input, &ParseOptions::strict()).map(|p| p.value)
    }

    /// The issuing province (`None` for cross-regional MIIT licences).
    pub fn province(&self) -> Option<Province> {
        match self {
            IcpLicenceNumber::Certificate { province, .. } => Some(*province),
            IcpLicenceNumber::Telecom { province, .. } => *province,
            IcpLicenceNumber::Legacy { province, .. } => *province,
        }
    }
}

impl fmt::Display for IcpLicenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcpLicenceNumber::Certificate {
                prefix,
                digits,
                service,
                ..
            } => {
                write!(f, "{prefix}ICP证{digits}号")?;
                if let Some(s) = service {
                    write!(f, "{s}")?;
                }
                Ok(())
            }
            IcpLicenceNumber::Telecom {
                prefix,
                category,
                year,
                serial,
                service,
                ..
            } => {
                if let Some(c) = prefix {
                    write!(f, "{c}")?;
                }
                write!(f, "{category:?}-{year:04}{serial}")?;
                if let Some(s) = service {
                    write!(f, "{s}")?;
                }
                Ok(())
            }
            IcpLicenceNumber::Legacy { text, .. } => f.write_str(text),
        }
    }
}

impl FromStr for IcpLicenceNumber {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ------------------------------------------------------------------------------------------------
// Public-security number
// ------------------------------------------------------------------------------------------------

/// MPS query page for a 14-digit public-security code.
pub const MPS_QUERY_URL_PREFIX: &str = "https://beian.mps.gov.cn/#/query/webSearch?code=";

/// A public-security filing number (公安联网备案号), e.g. `京公网安备11010502000001号`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PsbNumber {
    province: Province,
    label: char,
    code: String,
}

impl PsbNumber {
    /// Parses with options. The province is decided by the first two digits of the code (GB/T
    /// 2260) and must agree with the label character in every mode.
    pub fn parse_with(input: &str, opts: &ParseOptions) -> Result<Parsed<Self>, NumberError> {
        let kind = NumberKind::PublicSecurity;
        let norm = normalize_number(input);
        if norm.is_empty() {
            return Err(NumberError::Empty { kind });
        }
        let marker = "公网安备";
        let Some(pos) = norm.find(marker) else {
            return Err(shape_error(kind, input, &norm));
        };
        let (prefix, rest) = norm.split_at(pos);
        let rest = &rest[marker.len()..];
        let mut warnings = Vec::new();

        let mut chars = prefix.chars();
        let label = match (chars.next(), chars.next()) {
            (None, _) => {
                return Err(NumberError::MissingProvince {
                    kind,
                    marker: marker.into(),
                })
            }
            (Some(c), None) => c,
            _ => {
                return Err(NumberError::UnknownProvince {
                    kind,
                    found: prefix.to_string(),
                    suggestion: Province::parse_name(prefix).map(Province::psb_char),
                })
            }
        };
        let label_province = if let Some(p) = Province::from_psb_char(label) {
            p
        } else if let Some((_, region, _)) = NON_MAINLAND.iter().find(|(n, _, _)| *n == label) {
            return Err(NumberError::NonMainlandRegion {
                kind,
                found: label,
                region: (*region).to_string(),
            });
        } else if let Some((_, p)) = ALT_PSB_PREFIX.iter().find(|(c, _)| *c == label) {
            if !opts.lenient {
                return Err(NumberError::WrongProvinceCharacter {
                    kind,
                    found: label,
                    standard: p.psb_char(),
                    province: *p,
                });
            }
            warnings.push(NumberWarning::VariantProvinceCharacter {
                kind,
                found: label,
                standard: p.psb_char(),
                province: *p,
            });
            *p
        } else {
            return Err(NumberError::UnknownProvince {
                kind,
                found: label.to_string(),
                suggestion: None,
            });
        };

        let (digits, rest) = split_digits(rest);
        if digits.is_empty() {
            return Err(NumberError::WrongShape {
                kind,
                input: input.to_string(),
            });
        }
        if digits.len() != 14 {
            if opts.lenient && (8..=16).contains(&digits.len()) {
                warnings.push(NumberWarning::LegacyPublicSecurityLength {
                    digits: digits.len(),
                });
            } else {
                return Err(NumberError::DigitCount {
                    kind,
                    found: digits.len(),
                    expected: "14".into(),
                });
            }
        }
        if rest != "号" {
            if rest.is_empty() {
                return Err(NumberError::MissingHao { kind });
            }
            return Err(NumberError::WrongShape {
                kind,
                input: input.to_string(),
            });
        }
        let code_prefix = &digits[..2];
        let code_province = code_prefix
            .parse::<u8>()
            .ok()
            .and_then(Province::from_code)
            .ok_or_else(|| NumberError::UnknownAreaCode {
                code: digits.to_string(),
                code_prefix: code_prefix.to_string(),
            })?;
        if code_province != label_province {
            return Err(NumberError::ProvinceMismatch {
                code: digits.to_string(),
                code_province,
                label,
                label_province,
            });
        }
        if !gate(&RE_PSB, &norm) {
            return Err(NumberError::WrongShape {
                kind,
                input: input.to_string(),
            });
        }
        Ok(Parsed {
            value: PsbNumber {
                province: code_province,
                label,
                code: digits.to_string(),
            },
            normalized: norm,
            warnings,
        })
    }

    /// Strict parse.
    pub fn parse(input: &str) -> Result<Self, NumberError> {
        Self::parse_with(input, &ParseOptions::strict()).map(|p| p.value)
    }

    pub fn province(&self) -> Province {
        self.province
    }

    /// The digit code (normally 14 digits).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The label character as issued.
    pub fn label(&self) -> char {
        self.label
    }

    /// Link to this number on the MPS platform.
    pub fn query_url(&self) -> String {
        format!("{MPS_QUERY_URL_PREFIX}{}", self.code)
    }
}

impl fmt::Display for PsbNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}公网安备{}号", self.label, self.code)
    }
}

impl FromStr for PsbNumber {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ------------------------------------------------------------------------------------------------
// Serde: numbers are stored as their canonical strings and re-validated (leniently) on load.
// ------------------------------------------------------------------------------------------------

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse_with(&s, &ParseOptions::lenient())
                    .map(|p| p.value)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(IcpFilingNumber);
string_serde!(IcpLicenceNumber);
string_serde!(PsbNumber);

// ------------------------------------------------------------------------------------------------
// Any number / the set of numbers of a filing
// ------------------------------------------------------------------------------------------------

/// A number of any of the three kinds, for free-form input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "number", rename_all = "snake_case")]
pub enum AnyNumber {
    Filing(IcpFilingNumber),
    Licence(IcpLicenceNumber),
    PublicSecurity(PsbNumber),
}

/// Detects the kind of number and parses it.
pub fn parse_any(input: &str, opts: &ParseOptions) -> Result<Parsed<AnyNumber>, NumberError> {
    let norm = normalize_number(input);
    if norm.is_empty() {
        return Err(NumberError::Empty {
            kind: NumberKind::Filing,
        });
    }
    match detect_kind(&norm) {
        Some(NumberKind::Filing) | None => {
            IcpFilingNumber::parse_with(input, opts).map(|p| Parsed {
                value: AnyNumber::Filing(p.value),
                normalized: p.normalized,
                warnings: p.warnings,
            })
        }
        Some(NumberKind::Licence) => IcpLicenceNumber::parse_with(input, opts).map(|p| Parsed {
            value: AnyNumber::Licence(p.value),
            normalized: p.normalized,
            warnings: p.warnings,
        }),
        Some(NumberKind::PublicSecurity) => PsbNumber::parse_with(input, opts).map(|p| Parsed {
            value: AnyNumber::PublicSecurity(p.value),
            normalized: p.normalized,
            warnings: p.warnings,
        }),
    }
}

/// The numbers a filed service holds; each is optional until issued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingNumbers {
    /// Service-level filing number (`京ICP备12345678号-2A`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing: Option<IcpFilingNumber>,
    /// Commercial licence (`京ICP证030173号` / `粤B2-20090059`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<IcpLicenceNumber>,
    /// Public-security filing number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_security: Option<PsbNumber>,
}
