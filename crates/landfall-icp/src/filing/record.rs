//! The filing record (entity, responsible persons, the app as a filed service, access providers,
//! numbers) and its field-level checks, including the common rejection reasons of §2.3.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::drift::normalize_domain;
use crate::ip::{is_public, IpClass, IpTable};
use crate::numbers::{normalize_text, FilingNumbers, Province, ServiceKind};
use crate::{Finding, Localized};

/// 单位性质 (nature of the filing entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityNature {
    /// 企业
    Enterprise,
    /// 政府机关
    Government,
    /// 事业单位
    PublicInstitution,
    /// 社会团体
    SocialOrganisation,
    /// 国防机构
    Military,
    /// 个人
    Individual,
    /// 其他 (民办非企业单位, 基金会, 律师事务所 …)
    Other,
}

impl EntityNature {
    /// State organs may use names starting with 中国/国家/… ; others may not.
    pub fn is_state_organ(self) -> bool {
        matches!(
            self,
            EntityNature::Government | EntityNature::Military | EntityNature::PublicInstitution
        )
    }
}

/// Domestic or foreign capital; decides the document checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    #[default]
    Domestic,
    /// WFOE / JV holding a PRC business licence: files like a domestic company, plus extras.
    ForeignInvested,
    /// A foreign company without a PRC entity: cannot file at all.
    ForeignWithoutPrcEntity,
}

/// 主体证件类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateType {
    /// 营业执照 (统一社会信用代码)
    BusinessLicence,
    /// 组织机构代码证
    OrganisationCode,
    /// 事业单位法人证书
    PublicInstitutionCertificate,
    /// 社会团体法人登记证书
    SocialOrganisationCertificate,
    /// 外国企业常驻代表机构登记证
    ForeignRepresentativeOffice,
    /// 居民身份证 (individuals)
    ResidentIdCard,
    Other,
}

/// Personal ID document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证
    #[default]
    ResidentIdCard,
    /// 护照
    Passport,
    /// 港澳居民来往内地通行证
    HongKongMacauPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
    /// 外国人永久居留身份证
    ForeignPermanentResidentId,
    Other,
}

/// A responsible person (主体负责人 or 互联网信息服务负责人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub id_type: IdType,
    pub id_number: String,
    /// End of the ID's validity; `None` = long-term (长期).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_valid_until: Option<NaiveDate>,
    /// Mainland mobile number (receives the MIIT verification SMS).
    pub mobile: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The legal representative, when the entity responsible person is someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalRepresentative {
    pub name: String,
    #[serde(default)]
    pub id_type: IdType,
    pub id_number: String,
    /// Foreign national (passport holder).
    #[serde(default)]
    pub foreign: bool,
}

/// The filing entity (主办单位 / 主体).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub nature: EntityNature,
    #[serde(default)]
    pub ownership: Ownership,
    /// Name exactly as on the certificate.
    pub name: String,
    pub certificate_type: CertificateType,
    pub certificate_number: String,
    /// Province of domicile (the filing province).
    pub province: Province,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Correspondence address (通讯地址).
    pub address: String,
    /// Address on the certificate (证件住所).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_address: Option<String>,
    /// 主体负责人.
    pub responsible: Person,
    /// Whether the responsible person is the legal representative.
    #[serde(default = "default_true")]
    pub responsible_is_legal_representative: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_representative: Option<LegalRepresentative>,
}

fn default_true() -> bool {
    true
}

/// Runtime platform of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Android,
    Ios,
    HarmonyOs,
}

impl Platform {
    fn name(self) -> &'static str {
        match self {
            Platform::Android => "Android",
            Platform::Ios => "iOS",
            Platform::HarmonyOs => "HarmonyOS",
        }
    }

    /// Digest the MIIT form asks for: Android MD5, iOS SHA-1, HarmonyOS SHA-256.
    pub fn fingerprint_digest(self) -> (&'static str, usize) {
        match self {
            Platform::Android => ("MD5", 32),
            Platform::Ios => ("SHA-1", 40),
            Platform::HarmonyOs => ("SHA-256", 64),
        }
    }
}

/// Per-platform identity of the filed app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformBuild {
    pub platform: Platform,
    /// Android applicationId / iOS Bundle ID / HarmonyOS bundleName.
    pub package_name: String,
    /// Signing-certificate fingerprint (hex; colons allowed): MD5 (Android), SHA-1 (iOS),
    /// SHA-256 (HarmonyOS).
    pub cert_fingerprint: String,
    /// Certificate public key (modulus), if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// A third-party SDK declared in the filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sdk {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Function: payment, push, login, analytics, maps …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// A domain used by the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledDomain {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    /// Real-name holder as registered with the registrar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

/// A pre-approval (前置审批) document: news, publishing, education, medical, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreApproval {
    pub kind: String,
    pub number: String,
}

/// The app as a filed internet information service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppService {
    pub name: String,
    pub platforms: Vec<PlatformBuild>,
    #[serde(default)]
    pub domains: Vec<FiledDomain>,
    #[serde(default)]
    pub sdks: Vec<Sdk>,
    /// 互联网信息服务负责人.
    pub responsible: Person,
    #[serde(default)]
    pub pre_approvals: Vec<PreApproval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A network access provider (接入商) with its servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessProvider {
    pub name: String,
    /// Cloud, colocation, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// Province where the servers are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_province: Option<Province>,
    /// Free-text location (region name of the provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_location: Option<String>,
    #[serde(default)]
    pub ip_addresses: Vec<IpAddr>,
}

/// Everything recorded about one app filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingRecord {
    pub entity: Entity,
    pub app: AppService,
    #[serde(default)]
    pub access: Vec<AccessProvider>,
    #[serde(default)]
    pub numbers: FilingNumbers,
    /// The communications administration the filing goes to, if chosen explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_province: Option<Province>,
    /// Filed by an agent on the entity's behalf (needs an authorisation letter).
    #[serde(default)]
    pub filed_by_agent: bool,
}

// ------------------------------------------------------------------------------------------------
// Field validators
// ------------------------------------------------------------------------------------------------

/// Normalises a mainland mobile number (`+86 138-0013-8000` → `13800138000`).
pub fn normalize_mobile(input: &str) -> Option<String> {
    let s: String = normalize_text(input)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '(' && *c != ')')
        .collect();
    let s = s
        .strip_prefix("+86")
        .or_else(|| s.strip_prefix("0086"))
        .unwrap_or(&s);
    let b = s.as_bytes();
    let ok = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    ok.then(|| s.to_string())
}

/// Normalises a certificate fingerprint to upper-case hex without separators and checks its
/// length for the platform's digest.
pub fn normalize_fingerprint(platform: Platform, input: &str) -> Result<String, Localized> {
    let hex: String = normalize_text(input)
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (digest, len) = platform.fingerprint_digest();
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Localized::new(
            format!(
                "{} signing-certificate fingerprint must be hexadecimal ({digest})",
                platform.name()
            ),
            format!("{} 签名证书指纹必须是十六进制（{digest}）", platform.name()),
        ));
    }
    if hex.len() != len {
        return Err(Localized::new(
            format!(
                "{} signing-certificate fingerprint has {} hex digits; the filing needs the {digest} fingerprint ({len} hex digits)",
                platform.name(),
                hex.len()
            ),
            format!(
                "{} 签名证书指纹为 {} 位十六进制，备案需填写 {digest} 指纹（{len} 位）",
                platform.name(),
                hex.len()
            ),
        ));
    }
    Ok(hex)
}

/// Checks an Android applicationId / iOS Bundle ID / HarmonyOS bundleName.
pub fn check_package_name(platform: Platform, name: &str) -> Result<(), Localized> {
    let labels: Vec<&str> = name.split('.').collect();
    let ok = match platform {
        // segments start with a letter; letters, digits, underscore
        Platform::Android | Platform::HarmonyOs => {
            labels.len() >= 2
                && labels.iter().all(|l| {
                    l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                && (platform != Platform::HarmonyOs || (7..=128).contains(&name.len()))
        }
        // reverse-DNS: letters, digits, hyphen
        Platform::Ios => {
            labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        }
    };
    if ok {
        Ok(())
    } else {
        let what = match platform {
            Platform::Android => "Android package name (applicationId), e.g. com.example.app",
            Platform::Ios => "iOS Bundle ID, e.g. com.example.app",
            Platform::HarmonyOs => "HarmonyOS bundleName (7–128 characters), e.g. com.example.app",
        };
        Err(Localized::new(
            format!("`{name}` is not a valid {what}"),
            format!("「{name}」不是有效的{}包名", platform.name()),
        ))
    }
}

/// Checks a domain name (letters, digits, hyphens; at least two labels; IDN labels allowed).
pub fn check_domain(domain: &str) -> Result<String, Localized> {
    let d = normalize_domain(domain);
    let labels: Vec<&str> = d.split('.').collect();
    let ok = d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|t| !t.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(d)
    } else {
        Err(Localized::new(
            format!("`{domain}` is not a valid domain name"),
            format!("「{domain}」不是有效的域名"),
        ))
    }
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Validates a unified social credit code (统一社会信用代码, GB 32100-2015) including its check
/// character.
pub fn is_valid_uscc(code: &str) -> bool {
    let code: String = normalize_text(code).trim().to_ascii_uppercase();
    if code.chars().count() != 18 {
        return false;
    }
    let mut values = Vec::with_capacity(18);
    for c in code.chars() {
        match USCC_CHARS.find(c) {
            Some(v) => values.push(v as u32),
            None => return false,
        }
    }
    let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    values[17] == check
}

/// Validates an 18-digit resident ID number (GB 11643-1999) including its check character, and
/// returns its province (first two digits) if valid.
pub fn resident_id_province(id: &str) -> Option<Province> {
    let id: String = normalize_text(id).trim().to_ascii_uppercase();
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if CHECK[(sum % 11) as usize] != b[17] {
        return None;
    }
    Province::from_code((b[0] - b'0') * 10 + (b[1] - b'0'))
}

/// Words that mark a name as a placeholder.
const PLACEHOLDER_NAMES: &[&str] = &[
    "test",
    "demo",
    "app",
    "myapp",
    "sample",
    "untitled",
    "example",
    "测试",
    "演示",
    "示例",
    "我的应用",
    "未命名",
    "应用",
];
/// Prefixes reserved for state organs (§2.3).
const STATE_PREFIXES: &[&str] = &["中国", "中华", "国家", "中央", "人民", "全国", "反腐"];
/// Marketing / price words that reviewers reject in app names.
const MARKETING_WORDS: &[&str] = &[
    "免费",
    "第一",
    "最好",
    "最佳",
    "最强",
    "首选",
    "官方推荐",
    "特价",
    "秒杀",
    "打折",
    "折扣",
    "促销",
    "优惠",
    "价格",
    "元",
    "¥",
    "￥",
    "限时",
    "热门",
    "爆款",
];

/// Checks an app (or website) name against the naming rules of §2.3.
pub fn check_service_name(name: &str, nature: EntityNature, field: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = || Some(field.to_string());
    let trimmed = normalize_text(name).trim().to_string();
    if trimmed.is_empty() {
        out.push(Finding::blocker(
            "name_empty",
            f(),
            "the name is empty",
            "名称为空",
        ));
        return out;
    }
    if trimmed.chars().any(is_emoji_or_symbol) {
        out.push(Finding::blocker(
            "name_emoji",
            f(),
            format!("`{trimmed}` contains emoji or special symbols, which are not allowed in filed names"),
            format!("「{trimmed}」含有表情或特殊符号，备案名称不允许"),
        ));
    }
    let lower = trimmed.to_lowercase();
    if PLACEHOLDER_NAMES.contains(&lower.as_str()) {
        out.push(Finding::blocker(
            "name_placeholder",
            f(),
            format!("`{trimmed}` is a placeholder/generic name; use the app's real, specific name"),
            format!("「{trimmed}」是占位或通用名称，请使用应用的真实具体名称"),
        ));
    }
    if !nature.is_state_organ() {
        if let Some(p) = STATE_PREFIXES.iter().find(|p| trimmed.starts_with(**p)) {
            out.push(Finding::blocker(
                "name_reserved_prefix",
                f(),
                format!("names starting with `{p}` are reserved for state organs"),
                format!("以「{p}」开头的名称仅限国家机关等单位使用"),
            ));
        }
    }
    if let Some(w) = MARKETING_WORDS.iter().find(|w| trimmed.contains(**w)) {
        out.push(Finding::warning(
            "name_marketing_word",
            f(),
            format!(
                "the name contains the marketing/price word `{w}`, which reviewers usually reject"
            ),
            format!("名称含有营销或价格词「{w}」，审核通常不通过"),
        ));
    }
    if trimmed.chars().all(|c| c.is_ascii_digit()) {
        out.push(Finding::blocker(
            "name_digits_only",
            f(),
            "a name of digits only is not accepted",
            "名称不能为纯数字",
        ));
    } else if trimmed.is_ascii() {
        out.push(Finding::warning(
            "name_ascii_only",
            f(),
            "pure English/ASCII names are rejected by several provincial administrations; add a Chinese name",
            "多个省管局不接受纯英文名称，建议使用中文名称",
        ));
    }
    if trimmed.chars().count() < 3 {
        out.push(Finding::warning(
            "name_too_short",
            f(),
            "names shorter than 3 characters are often rejected as too generic",
            "少于 3 个字的名称常因过于笼统被驳回",
        ));
    }
    out
}

fn is_emoji_or_symbol(c: char) -> bool {
    let u = c as u32;
    (0x1F000..=0x1FAFF).contains(&u)
        || (0x2600..=0x27BF).contains(&u)
        || (0x2B00..=0x2BFF).contains(&u)
        || (0xFE00..=0xFE0F).contains(&u)
        || u == 0x200D
        || (0xE000..=0xF8FF).contains(&u)
}

/// `date + 3 months` (end-of-month clamped), used for "expires within 3 months" checks.
pub fn three_months_after(date: NaiveDate) -> NaiveDate {
    date.checked_add_months(Months::new(3))
        .unwrap_or(NaiveDate::MAX)
}

fn person_checks(p: &Person, field: &str, today: NaiveDate, out: &mut Vec<Finding>) {
    let f = |sub: &str| Some(format!("{field}.{sub}"));
    if p.name.trim().is_empty() {
        out.push(Finding::blocker(
            "person_name_missing",
            f("name"),
            "name is missing",
            "姓名缺失",
        ));
    }
    if p.id_number.trim().is_empty() {
        out.push(Finding::blocker(
            "person_id_missing",
            f("id_number"),
            "ID number is missing",
            "证件号码缺失",
        ));
    } else if p.id_type == IdType::ResidentIdCard && resident_id_province(&p.id_number).is_none() {
        out.push(Finding::blocker(
            "person_id_invalid",
            f("id_number"),
            format!("`{}` is not a valid 18-digit resident ID number (check digit mismatch or wrong length)", p.id_number),
            format!("「{}」不是有效的 18 位居民身份证号（校验位不符或位数错误）", p.id_number),
        ));
    }
    if normalize_mobile(&p.mobile).is_none() {
        out.push(Finding::blocker(
            "mobile_invalid",
            f("mobile"),
            format!("`{}` is not a mainland mobile number (11 digits starting with 13–19); the MIIT verification SMS goes to it", p.mobile),
            format!("「{}」不是内地手机号（1 开头 11 位），工信部核验短信将发送至该号码", p.mobile),
        ));
    }
    if let (Some(e), Some(m)) = (p.emergency_phone.as_deref(), normalize_mobile(&p.mobile)) {
        if normalize_mobile(e).as_deref() == Some(m.as_str()) {
            out.push(Finding::warning(
                "emergency_phone_same_as_mobile",
                f("emergency_phone"),
                "the emergency phone is the same as the mobile number; provide a different number",
                "应急电话与手机号相同，请提供另一个号码",
            ));
        }
    }
    if let Some(until) = p.id_valid_until {
        if until < today {
            out.push(Finding::blocker(
                "id_expired",
                f("id_valid_until"),
                format!("the ID document expired on {until}"),
                format!("证件已于 {until} 过期"),
            ));
        } else if until < three_months_after(today) {
            out.push(Finding::warning(
                "id_expiring",
                f("id_valid_until"),
                format!("the ID document expires on {until}, within 3 months; reviewers reject documents about to expire"),
                format!("证件将于 {until} 到期（不足 3 个月），审核通常不接受即将过期的证件"),
            ));
        }
    }
}

impl FilingRecord {
    /// Field-level checks and cross-checks of the record (documents are checked separately, see
    /// [`crate::documents::readiness`]). `ip_table` classifies server addresses.
    pub fn check(&self, today: NaiveDate, ip_table: &IpTable) -> Vec<Finding> {
        let mut out = Vec::new();
        let e = &self.entity;

        // ---- entity
        if e.ownership == Ownership::ForeignWithoutPrcEntity {
            out.push(Finding::blocker(
                "foreign_entity_cannot_file",
                Some("entity.ownership".into()),
                "a foreign company without a PRC entity cannot file; set up a PRC entity (WFOE/JV), register a representative office, or publish under a PRC partner's filing",
                "无中国境内主体的外国公司不能备案：需设立境内主体（外商独资/合资）、登记常驻代表机构，或使用境内合作方的备案",
            ));
        }
        if e.name.trim().is_empty() {
            out.push(Finding::blocker(
                "entity_name_missing",
                Some("entity.name".into()),
                "the entity name is missing (it must match the certificate exactly)",
                "主办单位名称缺失（须与证件完全一致）",
            ));
        }
        if e.address.trim().is_empty() {
            out.push(Finding::blocker(
                "entity_address_missing",
                Some("entity.address".into()),
                "the correspondence address is missing",
                "通讯地址缺失",
            ));
        }
        match e.certificate_type {
            CertificateType::BusinessLicence if !is_valid_uscc(&e.certificate_number) => out.push(Finding::blocker(
                "uscc_invalid",
                Some("entity.certificate_number".into()),
                format!("`{}` is not a valid unified social credit code (18 characters with a check character)", e.certificate_number),
                format!("「{}」不是有效的统一社会信用代码（18 位，含校验位）", e.certificate_number),
            )),
            CertificateType::ResidentIdCard => match resident_id_province(&e.certificate_number) {
                None => out.push(Finding::blocker(
                    "person_id_invalid",
                    Some("entity.certificate_number".into()),
                    format!("`{}` is not a valid 18-digit resident ID number", e.certificate_number),
                    format!("「{}」不是有效的 18 位居民身份证号", e.certificate_number),
                )),
                Some(p) if p != e.province => out.push(Finding::warning(
                    "individual_outside_home_province",
                    Some("entity.province".into()),
                    format!("the ID card is from {p} but the filing is in {}; a residence permit is needed and some provinces refuse cross-province individual filings", e.province),
                    format!("身份证属于{}，但在{}备案：需提供居住证，部分省份不接受跨省个人备案", p.name_zh(), e.province.name_zh()),
                )),
                Some(_) => {}
            },
            _ => {
                if e.certificate_number.trim().is_empty() {
                    out.push(Finding::blocker(
                        "certificate_number_missing",
                        Some("entity.certificate_number".into()),
                        "the certificate number is missing",
                        "证件号码缺失",
                    ));
                }
            }
        }
        person_checks(&e.responsible, "entity.responsible", today, &mut out);
        if !e.responsible_is_legal_representative && e.nature != EntityNature::Individual {
            out.push(Finding::warning(
                "responsible_not_legal_rep",
                Some("entity.responsible".into()),
                "most provincial administrations require the entity responsible person to be the legal representative; otherwise a signed and sealed authorisation from the legal representative is needed",
                "多数省管局要求主体负责人为法定代表人，否则需提供法人签字盖章的授权书",
            ));
            if e.legal_representative.is_none() {
                out.push(Finding::blocker(
                    "legal_rep_missing",
                    Some("entity.legal_representative".into()),
                    "the legal representative's name and ID are required when the responsible person is someone else",
                    "主体负责人不是法定代表人时，须填写法定代表人姓名及证件信息",
                ));
            }
        }

        // ---- the app
        let a = &self.app;
        out.extend(check_service_name(&a.name, e.nature, "app.name"));
        person_checks(&a.responsible, "app.responsible", today, &mut out);
        if a.platforms.is_empty() {
            out.push(Finding::blocker(
                "no_platforms",
                Some("app.platforms".into()),
                "no platform is declared; add the package name and signing-certificate fingerprint for each platform",
                "未填写运行平台，请为每个平台填写包名和签名证书指纹",
            ));
        }
        let mut seen_platforms = BTreeSet::new();
        for (i, pb) in a.platforms.iter().enumerate() {
            let field = |s: &str| Some(format!("app.platforms[{i}].{s}"));
            if !seen_platforms.insert(pb.platform) {
                out.push(Finding::blocker(
                    "duplicate_platform",
                    field("platform"),
                    format!("{} is declared more than once; each platform has exactly one package and certificate", pb.platform.name()),
                    format!("{} 平台重复填写，每个平台只能对应一个包名和证书", pb.platform.name()),
                ));
            }
            if let Err(m) = check_package_name(pb.platform, &pb.package_name) {
                out.push(Finding {
                    severity: crate::Severity::Blocker,
                    code: "package_name_invalid".into(),
                    field: field("package_name"),
                    message: m,
                });
            }
            if let Err(m) = normalize_fingerprint(pb.platform, &pb.cert_fingerprint) {
                out.push(Finding {
                    severity: crate::Severity::Blocker,
                    code: "fingerprint_invalid".into(),
                    field: field("cert_fingerprint"),
                    message: m,
                });
            }
        }
        if a.domains.is_empty() {
            out.push(Finding::warning(
                "no_domains",
                Some("app.domains".into()),
                "no domain is declared; every self-owned domain the app connects to must be filed",
                "未填写域名：APP 访问的所有自有域名都需要填写",
            ));
        }
        let mut seen_domains = BTreeSet::new();
        for (i, d) in a.domains.iter().enumerate() {
            let field = |s: &str| Some(format!("app.domains[{i}].{s}"));
            match check_domain(&d.name) {
                Err(m) => out.push(Finding {
                    severity: crate::Severity::Blocker,
                    code: "domain_invalid".into(),
                    field: field("name"),
                    message: m,
                }),
                Ok(norm) => {
                    if !seen_domains.insert(norm.clone()) {
                        out.push(Finding::warning(
                            "duplicate_domain",
                            field("name"),
                            format!("`{norm}` is listed twice"),
                            format!("「{norm}」重复填写"),
                        ));
                    }
                }
            }
            if let Some(exp) = d.expires_on {
                if exp < today {
                    out.push(Finding::blocker(
                        "domain_expired",
                        field("expires_on"),
                        format!("domain `{}` expired on {exp}", d.name),
                        format!("域名「{}」已于 {exp} 过期", d.name),
                    ));
                } else if exp < three_months_after(today) {
                    out.push(Finding::blocker(
                        "domain_expiring",
                        field("expires_on"),
                        format!("domain `{}` expires on {exp}; providers reject domains with less than 3 months left — renew it first", d.name),
                        format!("域名「{}」将于 {exp} 到期，剩余不足 3 个月会被驳回，请先续费", d.name),
                    ));
                }
            }
            if let Some(holder) = d.holder.as_deref() {
                if normalize_text(holder).trim() != normalize_text(&e.name).trim() {
                    out.push(Finding::blocker(
                        "domain_holder_mismatch",
                        field("holder"),
                        format!("domain `{}` is registered to `{holder}`, not to the filing entity `{}`; the real-name holder must be the entity", d.name, e.name),
                        format!("域名「{}」的实名持有人为「{holder}」，与备案主体「{}」不一致", d.name, e.name),
                    ));
                }
            }
        }
        if a.sdks.is_empty() {
            out.push(Finding::warning(
                "no_sdks",
                Some("app.sdks".into()),
                "no SDK is declared; list every third-party SDK (vendor and purpose) or confirm the app uses none",
                "未填写 SDK：请列出所有第三方 SDK（厂商及用途），或确认未使用",
            ));
        }
        if e.nature == EntityNature::Individual && !a.pre_approvals.is_empty() {
            out.push(Finding::warning(
                "individual_pre_approval",
                Some("app.pre_approvals".into()),
                "individuals can generally not run services that need pre-approval (news, publishing, education, medical …)",
                "个人主体一般不能开展需要前置审批的服务（新闻、出版、教育、医疗等）",
            ));
        }

        // ---- responsible persons: the same phone/e-mail used by different people
        let same_person = same_person(&e.responsible, &a.responsible);
        if !same_person {
            let m1 = normalize_mobile(&e.responsible.mobile);
            let m2 = normalize_mobile(&a.responsible.mobile);
            if m1.is_some() && m1 == m2 {
                out.push(Finding::blocker(
                    "shared_phone",
                    Some("app.responsible.mobile".into()),
                    format!(
                        "{} and {} are different people but share the mobile number {}; each responsible person needs their own number",
                        e.responsible.name, a.responsible.name, e.responsible.mobile
                    ),
                    format!(
                        "{} 与 {} 是不同的负责人，却使用同一手机号 {}，每位负责人须使用本人号码",
                        e.responsible.name, a.responsible.name, e.responsible.mobile
                    ),
                ));
            }
            let mail = |p: &Person| {
                p.email
                    .as_deref()
                    .map(|m| m.trim().to_lowercase())
                    .filter(|m| !m.is_empty())
            };
            if mail(&e.responsible).is_some() && mail(&e.responsible) == mail(&a.responsible) {
                out.push(Finding::blocker(
                    "shared_email",
                    Some("app.responsible.email".into()),
                    "the entity responsible person and the app responsible person are different people but share an e-mail address",
                    "主体负责人与 APP 负责人为不同人员，但使用同一电子邮箱",
                ));
            }
        }

        // ---- province consistency
        let mut check_province = |what_en: &str,
                                  what_zh: &str,
                                  field: &str,
                                  p: Province,
                                  blocker: bool| {
            if p != e.province {
                let en = format!(
                    "the {what_en} is for {p} but the entity is domiciled in {}; entities file with the communications administration of their own province",
                    e.province
                );
                let zh = format!(
                    "{what_zh}属于{}，但主体住所在{}，应向主体所在地省管局备案",
                    p.name_zh(),
                    e.province.name_zh()
                );
                out.push(if blocker {
                    Finding::blocker("province_mismatch", Some(field.into()), en, zh)
                } else {
                    Finding::warning("province_mismatch", Some(field.into()), en, zh)
                });
            }
        };
        if let Some(fp) = self.filing_province {
            check_province("filing province", "备案省份", "filing_province", fp, true);
        }
        if let Some(n) = &self.numbers.filing {
            check_province(
                "filing number",
                "备案号",
                "numbers.filing",
                n.province(),
                true,
            );
        }
        if let Some(n) = &self.numbers.public_security {
            check_province(
                "public-security number",
                "公安备案号",
                "numbers.public_security",
                n.province(),
                false,
            );
        }
        if let Some(n) = &self.numbers.filing {
            match n.service() {
                Some(s) if s.kind != ServiceKind::App => out.push(Finding::warning(
                    "filing_number_not_app",
                    Some("numbers.filing".into()),
                    format!(
                        "{n} is a {} number; an app's service number ends in `-NA`",
                        s.kind.name_en()
                    ),
                    format!(
                        "{n} 是{}备案号，APP 的服务备案号应以「-NA」结尾",
                        s.kind.name_zh()
                    ),
                )),
                _ => {}
            }
        }

        // ---- hosting
        if self.access.is_empty() {
            out.push(Finding::blocker(
                "no_access_provider",
                Some("access".into()),
                "no access provider is recorded; an app filing needs the mainland cloud/IDC provider, server location and IP addresses",
                "未填写接入信息：APP 备案需填写境内接入商、服务器所在地及 IP 地址",
            ));
        }
        for (i, ap) in self.access.iter().enumerate() {
            let field = |s: &str| Some(format!("access[{i}].{s}"));
            if ap.ip_addresses.is_empty() {
                out.push(Finding::blocker(
                    "no_server_ip",
                    field("ip_addresses"),
                    format!("no server IP address is recorded for {}", ap.name),
                    format!("接入商 {} 未填写服务器 IP 地址", ap.name),
                ));
            }
            if ap.server_province.is_none() {
                out.push(Finding::warning(
                    "server_province_missing",
                    field("server_province"),
                    format!("the server province for {} is not recorded", ap.name),
                    format!("未填写接入商 {} 的服务器所在省份", ap.name),
                ));
            }
            for (j, ip) in ap.ip_addresses.iter().enumerate() {
                let f = Some(format!("access[{i}].ip_addresses[{j}]"));
                if !is_public(*ip) {
                    out.push(Finding::blocker(
                        "server_ip_not_public",
                        f,
                        format!("{ip} is not a public address (private, loopback, link-local or reserved); record the server's public IP"),
                        format!("{ip} 不是公网地址（内网、回环、链路本地或保留地址），请填写服务器公网 IP"),
                    ));
                    continue;
                }
                match ip_table.classify(*ip) {
                    IpClass::Mainland => {}
                    IpClass::NotMainland => out.push(Finding::blocker(
                        "server_not_mainland",
                        f,
                        format!("{ip} is not in mainland China (Hong Kong, Macau, Taiwan and overseas servers cannot be filed); use a mainland region of the access provider"),
                        format!("{ip} 不在中国内地（港澳台及境外服务器不能备案），请使用接入商的境内地域"),
                    )),
                    IpClass::Unknown => out.push(Finding::warning(
                        "server_location_unknown",
                        f,
                        format!("the location of {ip} cannot be determined from the IP data; confirm it is a mainland server of the access provider"),
                        format!("无法根据 IP 数据判断 {ip} 的位置，请确认其为接入商的境内服务器"),
                    )),
                }
            }
        }
        out
    }

    /// Distinct domains of the app, normalised.
    pub fn domain_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .app
            .domains
            .iter()
            .map(|d| normalize_domain(&d.name))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn same_person(a: &Person, b: &Person) -> bool {
    let id = |p: &Person| normalize_text(&p.id_number).trim().to_ascii_uppercase();
    if !id(a).is_empty() && !id(b).is_empty() {
        return id(a) == id(b);
    }
    a.name.trim() == b.name.trim()
}

/// A per-field rejection reason (mirrors the `{key, error, suggest}` shape of provider APIs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRejection {
    /// Field path, e.g. `app.name`, `entity.responsible.mobile`.
    pub field: String,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl FieldRejection {
    pub fn new(field: impl Into<String>, error: impl Into<String>) -> Self {
        FieldRejection {
            field: field.into(),
            error: error.into(),
            suggestion: None,
        }
    }
}

/// Groups findings per field path (handy for form UIs).
pub fn findings_by_field(findings: &[Finding]) -> BTreeMap<String, Vec<&Finding>> {
    let mut m: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        m.entry(f.field.clone().unwrap_or_default())
            .or_default()
            .push(f);
    }
    m
}
