//! Document checklist per entity type (domestic, foreign-invested, representative office,
//! individual) with per-item status (missing / uploaded / verified, PDF, translation, red seal,
//! expiry), and the readiness report that pre-checks the common rejection reasons.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::filing::record::{
    resident_id_province, three_months_after, CertificateType, EntityNature, FilingRecord,
    Ownership,
};
use crate::ip::IpTable;
use crate::numbers::Province;
use crate::{Finding, Localized, Severity};

/// Returns true when `bytes` is a PDF file: the `%PDF-` header followed by a version (`1.7`,
/// `2.0`) within the first 1024 bytes, as PDF readers accept. The file name is irrelevant.
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(8).any(|w| {
        &w[..5] == b"%PDF-" && w[5].is_ascii_digit() && w[6] == b'.' && w[7].is_ascii_digit()
    })
}

/// [`is_pdf`] and an `%%EOF` marker in the last 1024 bytes (catches truncated uploads).
pub fn pdf_looks_complete(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    is_pdf(bytes) && tail.windows(5).any(|w| w == b"%%EOF")
}

/// Checklist groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentGroup {
    Business,
    Technical,
    Authorisation,
    Undertaking,
}

/// Every document the checklist knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    // business
    /// Business licence / company registration certificate (or the entity's other certificate;
    /// an individual's ID card).
    EntityCertificate,
    /// Organisation code certificate (merged into the unified social credit code since 2015).
    OrganisationCodeCertificate,
    /// Legal representative's ID (passport for foreign representatives).
    LegalRepresentativeId,
    /// Official company seal (seal specimen).
    OfficialSeal,
    /// Proof of the local Chinese business address (lease, property certificate).
    LocalAddressProof,
    /// 外国企业常驻代表机构登记证.
    RepresentativeOfficeCertificate,
    /// 居住证 — individuals filing outside the province of their ID card.
    ResidencePermit,
    // technical
    /// Domain name registration certificate (real-name holder = the entity).
    DomainCertificate,
    /// Server hosting details (provider, region, IPs; 备案授权码 where used).
    ServerHostingDetails,
    /// Network security protocol documentation.
    NetworkSecurityProtocol,
    /// Data privacy compliance statement.
    DataPrivacyStatement,
    /// Emergency response plan.
    EmergencyResponsePlan,
    /// Network architecture and data-flow description.
    NetworkArchitecture,
    // authorisation
    /// Authorisation letter for an agent filing on the entity's behalf.
    AuthorisationLetter,
    /// Power of attorney (foreign companies).
    PowerOfAttorney,
    /// Appointment letter for a local representative.
    LocalRepresentativeAppointment,
    /// 法人授权书 — the legal representative authorises a responsible person who is not them.
    LegalRepresentativeAuthorisation,
    /// ID of the entity responsible person (when not the legal representative).
    EntityResponsibleId,
    /// ID of the app's responsible person (互联网信息服务负责人).
    AppResponsibleId,
    // undertakings
    /// 《ICP备案信息真实性承诺书》 / 真实性责任告知书.
    TruthfulnessCommitment,
    /// 《互联网信息服务备案承诺书》 (Guangdong, signed by the legal representative).
    ServiceCommitment,
    /// 不涉及前置审批承诺书.
    NoPreApprovalCommitment,
    /// Pre-approval (前置审批) document for news/publishing/education/medical/… content.
    PreApprovalDocument,
    /// 网站/APP 建设方案书.
    ConstructionPlan,
}

impl DocumentKind {
    pub fn title(self) -> Localized {
        let (en, zh) = match self {
            DocumentKind::EntityCertificate => (
                "Business licence / registration certificate",
                "营业执照/主体证件",
            ),
            DocumentKind::OrganisationCodeCertificate => {
                ("Organisation code certificate", "组织机构代码证")
            }
            DocumentKind::LegalRepresentativeId => (
                "Legal representative's ID (passport for foreign nationals)",
                "法定代表人身份证件（外籍为护照）",
            ),
            DocumentKind::OfficialSeal => ("Official company seal (specimen)", "公章印模"),
            DocumentKind::LocalAddressProof => {
                ("Proof of local business address", "境内经营场所证明")
            }
            DocumentKind::RepresentativeOfficeCertificate => (
                "Foreign enterprise representative office registration certificate",
                "外国企业常驻代表机构登记证",
            ),
            DocumentKind::ResidencePermit => ("Residence permit", "居住证"),
            DocumentKind::DomainCertificate => ("Domain name registration certificate", "域名证书"),
            DocumentKind::ServerHostingDetails => ("Server hosting details", "服务器托管/接入信息"),
            DocumentKind::NetworkSecurityProtocol => (
                "Network security protocol documentation",
                "网络安全保护制度文件",
            ),
            DocumentKind::DataPrivacyStatement => (
                "Data privacy compliance statement",
                "数据与个人信息保护合规声明",
            ),
            DocumentKind::EmergencyResponsePlan => ("Emergency response plan", "网络安全应急预案"),
            DocumentKind::NetworkArchitecture => (
                "Network architecture and data-flow description",
                "网络架构与数据流说明",
            ),
            DocumentKind::AuthorisationLetter => (
                "Authorisation letter for the filing agent",
                "代理备案授权书",
            ),
            DocumentKind::PowerOfAttorney => ("Power of attorney", "授权委托书"),
            DocumentKind::LocalRepresentativeAppointment => (
                "Appointment letter for the local representative",
                "境内代表任命书",
            ),
            DocumentKind::LegalRepresentativeAuthorisation => (
                "Legal representative's authorisation of the responsible person",
                "法人授权书",
            ),
            DocumentKind::EntityResponsibleId => {
                ("Entity responsible person's ID", "主体负责人身份证件")
            }
            DocumentKind::AppResponsibleId => (
                "App responsible person's ID",
                "APP（互联网信息服务）负责人身份证件",
            ),
            DocumentKind::TruthfulnessCommitment => (
                "Filing information truthfulness commitment",
                "ICP备案信息真实性承诺书",
            ),
            DocumentKind::ServiceCommitment => (
                "Internet information service filing commitment",
                "互联网信息服务备案承诺书",
            ),
            DocumentKind::NoPreApprovalCommitment => (
                "Commitment that no pre-approval is involved",
                "不涉及前置审批承诺书",
            ),
            DocumentKind::PreApprovalDocument => ("Pre-approval document", "前置审批文件"),
            DocumentKind::ConstructionPlan => ("Service construction plan", "建设方案书"),
        };
        Localized::new(en, zh)
    }

    pub fn group(self) -> DocumentGroup {
        use DocumentKind as K;
        match self {
            K::EntityCertificate
            | K::OrganisationCodeCertificate
            | K::LegalRepresentativeId
            | K::OfficialSeal
            | K::LocalAddressProof
            | K::RepresentativeOfficeCertificate
            | K::ResidencePermit => DocumentGroup::Business,
            K::DomainCertificate
            | K::ServerHostingDetails
            | K::NetworkSecurityProtocol
            | K::DataPrivacyStatement
            | K::EmergencyResponsePlan
            | K::NetworkArchitecture => DocumentGroup::Technical,
            K::AuthorisationLetter
            | K::PowerOfAttorney
            | K::LocalRepresentativeAppointment
            | K::LegalRepresentativeAuthorisation
            | K::EntityResponsibleId
            | K::AppResponsibleId => DocumentGroup::Authorisation,
            K::TruthfulnessCommitment
            | K::ServiceCommitment
            | K::NoPreApprovalCommitment
            | K::PreApprovalDocument
            | K::ConstructionPlan => DocumentGroup::Undertaking,
        }
    }

    /// Whether the checklist wants this document as a PDF (identity documents may also be colour
    /// photos or scans).
    pub fn requires_pdf(self) -> bool {
        !self.is_identity_document()
    }

    /// Every kind, in checklist order.
    pub const ALL: [DocumentKind; 24] = [
        DocumentKind::EntityCertificate,
        DocumentKind::OrganisationCodeCertificate,
        DocumentKind::LegalRepresentativeId,
        DocumentKind::OfficialSeal,
        DocumentKind::LocalAddressProof,
        DocumentKind::RepresentativeOfficeCertificate,
        DocumentKind::ResidencePermit,
        DocumentKind::DomainCertificate,
        DocumentKind::ServerHostingDetails,
        DocumentKind::NetworkSecurityProtocol,
        DocumentKind::DataPrivacyStatement,
        DocumentKind::EmergencyResponsePlan,
        DocumentKind::NetworkArchitecture,
        DocumentKind::AuthorisationLetter,
        DocumentKind::PowerOfAttorney,
        DocumentKind::LocalRepresentativeAppointment,
        DocumentKind::LegalRepresentativeAuthorisation,
        DocumentKind::EntityResponsibleId,
        DocumentKind::AppResponsibleId,
        DocumentKind::TruthfulnessCommitment,
        DocumentKind::ServiceCommitment,
        DocumentKind::NoPreApprovalCommitment,
        DocumentKind::PreApprovalDocument,
        DocumentKind::ConstructionPlan,
    ];

    /// ID documents are usually colour photos/scans, not PDFs.
    fn is_identity_document(self) -> bool {
        matches!(
            self,
            DocumentKind::LegalRepresentativeId
                | DocumentKind::EntityResponsibleId
                | DocumentKind::AppResponsibleId
                | DocumentKind::ResidencePermit
        )
    }

    /// Documents the entity issues itself, which must carry its red seal (organisations only).
    fn is_self_issued(self) -> bool {
        matches!(
            self,
            DocumentKind::OfficialSeal
                | DocumentKind::ServerHostingDetails
                | DocumentKind::NetworkSecurityProtocol
                | DocumentKind::DataPrivacyStatement
                | DocumentKind::EmergencyResponsePlan
                | DocumentKind::NetworkArchitecture
                | DocumentKind::AuthorisationLetter
                | DocumentKind::PowerOfAttorney
                | DocumentKind::LocalRepresentativeAppointment
                | DocumentKind::LegalRepresentativeAuthorisation
                | DocumentKind::TruthfulnessCommitment
                | DocumentKind::ServiceCommitment
                | DocumentKind::NoPreApprovalCommitment
                | DocumentKind::ConstructionPlan
        )
    }

    /// Documents with a validity period.
    fn has_expiry(self) -> bool {
        matches!(
            self,
            DocumentKind::EntityCertificate
                | DocumentKind::LegalRepresentativeId
                | DocumentKind::RepresentativeOfficeCertificate
                | DocumentKind::ResidencePermit
                | DocumentKind::DomainCertificate
                | DocumentKind::PowerOfAttorney
                | DocumentKind::EntityResponsibleId
                | DocumentKind::AppResponsibleId
                | DocumentKind::PreApprovalDocument
        )
    }
}

/// Upload/verification status of a document.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    #[default]
    Missing,
    Uploaded,
    Verified,
}

/// What is known about one uploaded (or expected) document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub kind: DocumentKind,
    #[serde(default)]
    pub status: DocumentStatus,
    /// Result of [`is_pdf`] on the uploaded bytes (`None` = not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pdf: Option<bool>,
    /// The original is not in Chinese.
    #[serde(default)]
    pub foreign_language: bool,
    /// A Chinese translation is attached.
    #[serde(default)]
    pub has_chinese_translation: bool,
    /// A reviewer confirmed the red company seal.
    #[serde(default)]
    pub red_seal_confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl DocumentRecord {
    /// A record for a document not uploaded yet.
    pub fn missing(kind: DocumentKind) -> Self {
        DocumentRecord {
            kind,
            status: DocumentStatus::Missing,
            is_pdf: None,
            foreign_language: false,
            has_chinese_translation: false,
            red_seal_confirmed: false,
            expires_on: None,
            file_name: None,
        }
    }

    /// A record for uploaded bytes: status `Uploaded`, `is_pdf` from the content.
    pub fn uploaded(kind: DocumentKind, file_name: &str, bytes: &[u8]) -> Self {
        DocumentRecord {
            status: DocumentStatus::Uploaded,
            is_pdf: Some(is_pdf(bytes)),
            file_name: Some(file_name.to_string()),
            ..DocumentRecord::missing(kind)
        }
    }
}

/// Entity types with different checklists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityCategory {
    /// Domestic company or other domestic organisation.
    Domestic,
    /// Foreign-invested enterprise with a PRC business licence.
    ForeignInvested,
    /// Foreign company filing through its registered representative office.
    RepresentativeOffice,
    Individual,
}

/// Facts that decide which documents are needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistContext {
    pub category: EntityCategory,
    pub province: Province,
    /// The entity certificate is a unified-social-credit-code business licence (三证合一).
    pub unified_certificate: bool,
    pub filed_by_agent: bool,
    pub legal_representative_foreign: bool,
    pub entity_responsible_is_legal_representative: bool,
    pub app_responsible_is_legal_representative: bool,
    pub pre_approvals: usize,
    pub has_domains: bool,
    /// Individual filing outside the province of the ID card.
    pub individual_outside_home_province: bool,
}

impl ChecklistContext {
    /// Derives the context from a filing record.
    pub fn from_record(r: &FilingRecord) -> Self {
        let e = &r.entity;
        let category = if e.nature == EntityNature::Individual {
            EntityCategory::Individual
        } else if e.certificate_type == CertificateType::ForeignRepresentativeOffice {
            EntityCategory::RepresentativeOffice
        } else if e.ownership != Ownership::Domestic {
            EntityCategory::ForeignInvested
        } else {
            EntityCategory::Domestic
        };
        let id = |s: &str| s.trim().to_ascii_uppercase();
        let legal_rep_id = if e.responsible_is_legal_representative {
            Some(id(&e.responsible.id_number))
        } else {
            e.legal_representative.as_ref().map(|l| id(&l.id_number))
        };
        let app_is_legal =
            legal_rep_id.is_some_and(|l| !l.is_empty() && l == id(&r.app.responsible.id_number));
        ChecklistContext {
            category,
            province: e.province,
            unified_certificate: e.certificate_type == CertificateType::BusinessLicence,
            filed_by_agent: r.filed_by_agent,
            legal_representative_foreign: e
                .legal_representative
                .as_ref()
                .is_some_and(|l| l.foreign)
                || (e.responsible_is_legal_representative
                    && e.responsible.id_type == crate::filing::record::IdType::Passport),
            entity_responsible_is_legal_representative: e.responsible_is_legal_representative,
            app_responsible_is_legal_representative: app_is_legal,
            pre_approvals: r.app.pre_approvals.len(),
            has_domains: !r.app.domains.is_empty(),
            individual_outside_home_province: category == EntityCategory::Individual
                && resident_id_province(&e.certificate_number).is_some_and(|p| p != e.province),
        }
    }
}

/// One checklist line: what is needed and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub kind: DocumentKind,
    pub group: DocumentGroup,
    pub title: Localized,
    /// `false` = recommended / province-dependent; missing it is not a blocker.
    pub required: bool,
    pub reason: Localized,
    /// How many documents of this kind are needed (pre-approvals: one each).
    pub count: usize,
    pub pdf_required: bool,
    pub seal_required: bool,
    pub expiry_checked: bool,
}

fn req(kind: DocumentKind, required: bool, organisation: bool, en: &str, zh: &str) -> Requirement {
    Requirement {
        kind,
        group: kind.group(),
        title: kind.title(),
        required,
        reason: Localized::new(en, zh),
        count: 1,
        pdf_required: !kind.is_identity_document(),
        seal_required: organisation && kind.is_self_issued(),
        expiry_checked: kind.has_expiry(),
    }
}

/// The documents needed for a context.
pub fn checklist(ctx: &ChecklistContext) -> Vec<Requirement> {
    use DocumentKind as K;
    let org = ctx.category != EntityCategory::Individual;
    let foreign = matches!(
        ctx.category,
        EntityCategory::ForeignInvested | EntityCategory::RepresentativeOffice
    );
    let mut v = Vec::new();

    // ---- business
    match ctx.category {
        EntityCategory::Individual => {
            v.push(req(
                K::EntityCertificate,
                true,
                false,
                "the individual's resident ID card is the entity certificate",
                "个人备案以居民身份证作为主体证件",
            ));
            if ctx.individual_outside_home_province {
                v.push(req(
                    K::ResidencePermit,
                    true,
                    false,
                    "filing outside the province of the ID card needs a local residence permit",
                    "在身份证所属省份以外备案须提供当地居住证",
                ));
            }
        }
        EntityCategory::RepresentativeOffice => {
            v.push(req(
                K::RepresentativeOfficeCertificate,
                true,
                true,
                "a foreign company files through its registered representative office",
                "外国企业通过其常驻代表机构备案",
            ));
        }
        _ => {
            v.push(req(
                K::EntityCertificate,
                true,
                true,
                "colour scan of the original business licence (company registration certificate)",
                "营业执照原件彩色扫描件",
            ));
        }
    }
    if org {
        v.push(req(
            K::OrganisationCodeCertificate,
            !ctx.unified_certificate,
            true,
            if ctx.unified_certificate {
                "merged into the unified social credit code since 2015; only needed with an old-style certificate"
            } else {
                "the entity certificate is not a unified-social-credit-code licence, so the organisation code certificate is needed"
            },
            if ctx.unified_certificate {
                "2015 年三证合一后已并入统一社会信用代码，仅旧版证照需要"
            } else {
                "主体证件不是统一社会信用代码证照，需提供组织机构代码证"
            },
        ));
        v.push(req(
            K::LegalRepresentativeId,
            true,
            true,
            if ctx.legal_representative_foreign {
                "the legal representative is a foreign national: passport (with Chinese translation of non-Chinese pages where required)"
            } else {
                "the legal representative's resident ID card"
            },
            if ctx.legal_representative_foreign {
                "法定代表人为外籍人士：提供护照（按要求附中文翻译）"
            } else {
                "法定代表人居民身份证"
            },
        ));
        v.push(req(
            K::OfficialSeal,
            true,
            true,
            "the red company seal is checked against the sealed documents",
            "用于核对各盖章文件上的红色公章",
        ));
        v.push(req(
            K::LocalAddressProof,
            true,
            true,
            "proof of the business address in mainland China (lease or property certificate)",
            "境内经营场所证明（租赁合同或房产证明）",
        ));
    }

    // ---- technical
    if ctx.has_domains {
        v.push(req(K::DomainCertificate, true, org, "every filed domain: registration certificate with the entity as real-name holder, valid for more than 3 months", "每个备案域名的证书：实名持有人须为备案主体，有效期须超过 3 个月"));
    }
    v.push(req(
        K::ServerHostingDetails,
        true,
        org,
        "the mainland access provider, server region and IP addresses",
        "境内接入商、服务器地域及 IP 地址",
    ));
    v.push(req(
        K::NetworkSecurityProtocol,
        true,
        org,
        "network security protection measures",
        "网络安全保护制度与措施",
    ));
    v.push(req(
        K::DataPrivacyStatement,
        true,
        org,
        "personal-information and data protection compliance (PIPL)",
        "个人信息与数据保护合规声明（个人信息保护法）",
    ));
    v.push(req(
        K::EmergencyResponsePlan,
        true,
        org,
        "incident and emergency response procedures",
        "网络安全事件应急处置预案",
    ));
    v.push(req(
        K::NetworkArchitecture,
        true,
        org,
        "network architecture and data flows of the service",
        "服务的网络架构与数据流向说明",
    ));

    // ---- authorisation
    if ctx.filed_by_agent {
        v.push(req(
            K::AuthorisationLetter,
            true,
            org,
            "an agent files on the entity's behalf",
            "由代理方代为备案",
        ));
    }
    if foreign {
        v.push(req(
            K::PowerOfAttorney,
            true,
            true,
            "foreign-invested entities authorise their signatory by power of attorney",
            "外资主体需以授权委托书授权签字人",
        ));
        v.push(req(
            K::LocalRepresentativeAppointment,
            ctx.legal_representative_foreign,
            true,
            "many administrations require a mainland-ID holder as responsible person when the legal representative is foreign",
            "法定代表人为外籍时，多数管局要求由持内地身份证的人员担任负责人",
        ));
    }
    if org && !ctx.entity_responsible_is_legal_representative {
        v.push(req(
            K::EntityResponsibleId,
            true,
            true,
            "the entity responsible person is not the legal representative",
            "主体负责人不是法定代表人",
        ));
    }
    if org
        && (!ctx.entity_responsible_is_legal_representative
            || !ctx.app_responsible_is_legal_representative)
    {
        v.push(req(
            K::LegalRepresentativeAuthorisation,
            true,
            true,
            "a responsible person is not the legal representative: signed and sealed authorisation",
            "负责人不是法定代表人：需法人签字并加盖公章的授权书",
        ));
    }
    v.push(req(
        K::AppResponsibleId,
        true,
        org,
        "the app's responsible person (also does face verification)",
        "APP 负责人证件（并进行人脸核验）",
    ));

    // ---- undertakings
    v.push(req(
        K::TruthfulnessCommitment,
        ctx.province == Province::Jiangsu,
        org,
        "required in Jiangsu since 2021-06-01 and by several other administrations",
        "江苏自 2021-06-01 起必需，其他部分省份亦要求",
    ));
    v.push(req(
        K::ServiceCommitment,
        ctx.province == Province::Guangdong,
        org,
        "required in Guangdong since 2021-06-21, signed by the legal representative",
        "广东自 2021-06-21 起必需，由法定代表人签署",
    ));
    if ctx.pre_approvals == 0 {
        v.push(req(
            K::NoPreApprovalCommitment,
            false,
            org,
            "some provinces ask for an explicit statement that no pre-approval is involved",
            "部分省份要求明确承诺不涉及前置审批",
        ));
    } else {
        let mut r = req(
            K::PreApprovalDocument,
            true,
            org,
            "the service involves content that needs pre-approval",
            "服务内容涉及前置审批",
        );
        r.count = ctx.pre_approvals;
        v.push(r);
    }
    v.push(req(
        K::ConstructionPlan,
        false,
        org,
        "some provinces require a construction plan (e.g. when an entity files many services)",
        "部分省份要求提供建设方案书（如主体备案服务较多时）",
    ));
    v
}

/// A checklist line with its evaluated status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub requirement: Requirement,
    /// Best status among the records of this kind.
    pub status: DocumentStatus,
    pub findings: Vec<Finding>,
}

fn doc_findings(
    r: &Requirement,
    d: &DocumentRecord,
    index: usize,
    today: NaiveDate,
    out: &mut Vec<Finding>,
) {
    let title = &r.title;
    let field = Some(format!("documents.{}[{index}]", serde_kind(r.kind)));
    if d.status == DocumentStatus::Missing {
        return;
    }
    if d.status == DocumentStatus::Uploaded {
        out.push(Finding::warning(
            "document_unverified",
            field.clone(),
            format!("{} is uploaded but not verified yet", title.en),
            format!("{} 已上传，尚未核验", title.zh),
        ));
    }
    if r.pdf_required {
        match d.is_pdf {
            Some(false) => out.push(Finding::blocker(
                "document_not_pdf",
                field.clone(),
                format!("{} is not a PDF file (its content lacks the %PDF- header, whatever the file name); upload it as PDF", title.en),
                format!("{} 不是 PDF 文件（内容缺少 %PDF- 文件头，与文件名无关），请上传 PDF", title.zh),
            )),
            None => out.push(Finding::warning(
                "document_pdf_unchecked",
                field.clone(),
                format!("{}: the file content was not checked for PDF format", title.en),
                format!("{}：尚未检查文件内容是否为 PDF", title.zh),
            )),
            Some(true) => {}
        }
    }
    if d.foreign_language && !d.has_chinese_translation {
        out.push(Finding::blocker(
            "document_translation_missing",
            field.clone(),
            format!(
                "{} is not in Chinese and has no Chinese translation",
                title.en
            ),
            format!("{} 不是中文，且缺少中文译本", title.zh),
        ));
    }
    if r.seal_required && !d.red_seal_confirmed {
        out.push(Finding::blocker(
            "document_seal_missing",
            field.clone(),
            format!(
                "{} needs the entity's red official seal; it has not been confirmed",
                title.en
            ),
            format!("{} 须加盖单位红色公章，尚未确认", title.zh),
        ));
    }
    if let Some(exp) = d.expires_on {
        if exp < today {
            out.push(Finding::blocker(
                "document_expired",
                field.clone(),
                format!("{} expired on {exp}", title.en),
                format!("{} 已于 {exp} 过期", title.zh),
            ));
        } else if exp < three_months_after(today) {
            out.push(Finding::warning(
                "document_expiring",
                field.clone(),
                format!("{} expires on {exp}, less than 3 months from now; administrations reject documents about to expire — renew it", title.en),
                format!("{} 将于 {exp} 到期（不足 3 个月），管局通常不接受即将过期的证件，请及时更新", title.zh),
            ));
        }
    }
}

fn serde_kind(kind: DocumentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Evaluates the checklist against the documents on file.
pub fn evaluate_checklist(
    ctx: &ChecklistContext,
    documents: &[DocumentRecord],
    today: NaiveDate,
) -> Vec<ChecklistItem> {
    checklist(ctx)
        .into_iter()
        .map(|r| {
            let docs: Vec<&DocumentRecord> =
                documents.iter().filter(|d| d.kind == r.kind).collect();
            let status = docs.iter().map(|d| d.status).max().unwrap_or_default();
            let mut findings = Vec::new();
            for (i, d) in docs.iter().enumerate() {
                doc_findings(&r, d, i, today, &mut findings);
            }
            let present = docs
                .iter()
                .filter(|d| d.status != DocumentStatus::Missing)
                .count();
            if r.required && present < r.count {
                let field = Some(format!("documents.{}", serde_kind(r.kind)));
                findings.insert(
                    0,
                    if r.count > 1 {
                        Finding::blocker(
                            "document_missing",
                            field,
                            format!(
                                "{}: {} needed, {present} uploaded ({})",
                                r.title.en, r.count, r.reason.en
                            ),
                            format!(
                                "{}：需要 {} 份，已上传 {present} 份（{}）",
                                r.title.zh, r.count, r.reason.zh
                            ),
                        )
                    } else {
                        Finding::blocker(
                            "document_missing",
                            field,
                            format!("{} is missing ({})", r.title.en, r.reason.en),
                            format!("缺少{}（{}）", r.title.zh, r.reason.zh),
                        )
                    },
                );
            }
            ChecklistItem {
                requirement: r,
                status,
                findings,
            }
        })
        .collect()
}

/// Result of the pre-submission check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessReport {
    /// No blockers.
    pub ready: bool,
    pub checked_on: NaiveDate,
    pub blockers: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub checklist: Vec<ChecklistItem>,
    /// Any required document missing (feeds the timeline's document-completion stage).
    pub documents_missing: bool,
}

/// Checks a filing before submission: every required document (status, PDF, translation, seal,
/// expiry) and the record itself (servers in mainland China, province consistency, phone numbers
/// shared by different responsible persons, naming rules, package names and fingerprints, domain
/// expiry and holder …). `ip_table` defaults to [`IpTable::builtin`].
pub fn readiness(
    record: &FilingRecord,
    documents: &[DocumentRecord],
    today: NaiveDate,
    ip_table: Option<&IpTable>,
) -> ReadinessReport {
    let ctx = ChecklistContext::from_record(record);
    let checklist = evaluate_checklist(&ctx, documents, today);
    let mut all: Vec<Finding> = record.check(today, ip_table.unwrap_or_else(|| IpTable::builtin()));
    for item in &checklist {
        all.extend(item.findings.iter().cloned());
    }
    let documents_missing = checklist
        .iter()
        .any(|i| i.findings.iter().any(|f| f.code == "document_missing"));
    let (blockers, warnings): (Vec<Finding>, Vec<Finding>) = all
        .into_iter()
        .partition(|f| f.severity == Severity::Blocker);
    ReadinessReport {
        ready: blockers.is_empty(),
        checked_on: today,
        blockers,
        warnings,
        checklist,
        documents_missing,
    }
}
