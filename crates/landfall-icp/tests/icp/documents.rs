use landfall_icp::documents::*;
use landfall_icp::filing::record::{
    check_service_name, is_valid_uscc, normalize_fingerprint, normalize_mobile,
    resident_id_province,
};
use landfall_icp::filing::*;
use landfall_icp::numbers::{FilingNumbers, IcpFilingNumber, Province, PsbNumber};
use landfall_icp::{IpTable, Severity};

use crate::d;

fn person(name: &str, id: &str, mobile: &str, email: &str) -> Person {
    Person {
        name: name.into(),
        id_type: IdType::ResidentIdCard,
        id_number: id.into(),
        id_valid_until: Some(d("2035-01-01")),
        mobile: mobile.into(),
        emergency_phone: None,
        email: Some(email.into()),
    }
}

fn good_record() -> FilingRecord {
    FilingRecord {
        entity: Entity {
            nature: EntityNature::Enterprise,
            ownership: Ownership::Domestic,
            name: "深圳鹿鸣科技有限公司".into(),
            certificate_type: CertificateType::BusinessLicence,
            certificate_number: "91440300MA5FXXXX0U".into(),
            province: Province::Guangdong,
            city: Some("深圳市".into()),
            address: "广东省深圳市南山区科技园1号".into(),
            certificate_address: None,
            responsible: person(
                "张三",
                "44030519900101123X",
                "13800138000",
                "zhang@luming.cn",
            ),
            responsible_is_legal_representative: true,
            legal_representative: None,
        },
        app: AppService {
            name: "鹿鸣记账".into(),
            platforms: vec![
                PlatformBuild {
                    platform: Platform::Android,
                    package_name: "cn.luming.ledger".into(),
                    cert_fingerprint: "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90".into(),
                    public_key: None,
                },
                PlatformBuild {
                    platform: Platform::Ios,
                    package_name: "cn.luming.ledger-ios".into(),
                    cert_fingerprint: "0123456789abcdef0123456789abcdef01234567".into(),
                    public_key: None,
                },
            ],
            domains: vec![FiledDomain {
                name: "luming.cn".into(),
                expires_on: Some(d("2028-01-01")),
                holder: Some("深圳鹿鸣科技有限公司".into()),
            }],
            sdks: vec![Sdk {
                name: "Alipay SDK".into(),
                vendor: Some("支付宝（中国）网络技术有限公司".into()),
                purpose: Some("payment".into()),
            }],
            responsible: person("李四", "44030519850615432X", "13900139000", "li@luming.cn"),
            pre_approvals: vec![],
            language: Some("zh-CN".into()),
        },
        access: vec![AccessProvider {
            name: "阿里云".into(),
            access_method: Some("cloud".into()),
            server_province: Some(Province::Guangdong),
            server_location: Some("cn-shenzhen".into()),
            ip_addresses: vec!["223.5.5.5".parse().unwrap(), "240e::1".parse().unwrap()],
        }],
        numbers: FilingNumbers::default(),
        filing_province: Some(Province::Guangdong),
        filed_by_agent: false,
    }
}

fn verified(kind: DocumentKind) -> DocumentRecord {
    DocumentRecord {
        kind,
        status: DocumentStatus::Verified,
        is_pdf: Some(true),
        foreign_language: false,
        has_chinese_translation: false,
        red_seal_confirmed: true,
        expires_on: None,
        file_name: Some("doc.pdf".into()),
    }
}

fn complete_documents(r: &FilingRecord) -> Vec<DocumentRecord> {
    let ctx = ChecklistContext::from_record(r);
    checklist(&ctx)
        .into_iter()
        .filter(|q| q.required)
        .flat_map(|q| std::iter::repeat_n(q.kind, q.count))
        .map(verified)
        .collect()
}

fn today() -> chrono::NaiveDate {
    d("2026-03-01")
}

fn codes(findings: &[landfall_icp::Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn pdf_detection_uses_the_bytes_not_the_name() {
    assert!(is_pdf(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"));
    assert!(is_pdf(b"%PDF-2.0\n"));
    assert!(is_pdf(b"\xef\xbb\xbf  %PDF-1.4\n")); // junk before the header within 1024 bytes
    assert!(!is_pdf(b"%PDF-"));
    assert!(!is_pdf(b""));
    assert!(!is_pdf(b"\x89PNG\r\n\x1a\n"));
    assert!(!is_pdf(b"<html><body>not a pdf</body></html>"));
    let mut late = vec![b' '; 2000];
    late.extend_from_slice(b"%PDF-1.4");
    assert!(!is_pdf(&late));
    let rec =
        DocumentRecord::uploaded(DocumentKind::EntityCertificate, "licence.pdf", b"GIF89a...");
    assert_eq!(rec.is_pdf, Some(false));
    assert_eq!(rec.status, DocumentStatus::Uploaded);
    assert!(pdf_looks_complete(b"%PDF-1.7\n...\n%%EOF\n"));
    assert!(!pdf_looks_complete(b"%PDF-1.7\n...truncated"));
}

#[test]
fn checklist_domestic_company() {
    let ctx = ChecklistContext::from_record(&good_record());
    assert_eq!(ctx.category, EntityCategory::Domestic);
    let list = checklist(&ctx);
    let required: Vec<DocumentKind> = list.iter().filter(|r| r.required).map(|r| r.kind).collect();
    for k in [
        DocumentKind::EntityCertificate,
        DocumentKind::LegalRepresentativeId,
        DocumentKind::OfficialSeal,
        DocumentKind::LocalAddressProof,
        DocumentKind::DomainCertificate,
        DocumentKind::ServerHostingDetails,
        DocumentKind::NetworkSecurityProtocol,
        DocumentKind::DataPrivacyStatement,
        DocumentKind::EmergencyResponsePlan,
        DocumentKind::NetworkArchitecture,
        DocumentKind::AppResponsibleId,
        // app responsible person is not the legal representative
        DocumentKind::LegalRepresentativeAuthorisation,
        // Guangdong
        DocumentKind::ServiceCommitment,
    ] {
        assert!(required.contains(&k), "{k:?} should be required");
    }
    for k in [
        DocumentKind::PowerOfAttorney,
        DocumentKind::AuthorisationLetter,
        DocumentKind::OrganisationCodeCertificate,
        DocumentKind::TruthfulnessCommitment,
        DocumentKind::EntityResponsibleId,
    ] {
        assert!(!required.contains(&k), "{k:?} should not be required");
    }
    let oc = list
        .iter()
        .find(|r| r.kind == DocumentKind::OrganisationCodeCertificate)
        .unwrap();
    assert!(oc.reason.en.contains("2015"));
    let seal = list
        .iter()
        .find(|r| r.kind == DocumentKind::DataPrivacyStatement)
        .unwrap();
    assert!(seal.seal_required && seal.pdf_required);
    let id = list
        .iter()
        .find(|r| r.kind == DocumentKind::AppResponsibleId)
        .unwrap();
    assert!(!id.pdf_required && id.expiry_checked);
}

#[test]
fn checklist_foreign_invested_agent_and_province_rules() {
    let mut r = good_record();
    r.entity.ownership = Ownership::ForeignInvested;
    r.entity.province = Province::Jiangsu;
    r.filed_by_agent = true;
    r.entity.responsible_is_legal_representative = false;
    r.entity.legal_representative = Some(LegalRepresentative {
        name: "John Smith".into(),
        id_type: IdType::Passport,
        id_number: "E12345678".into(),
        foreign: true,
    });
    r.app.pre_approvals = vec![
        PreApproval {
            kind: "教育".into(),
            number: "A-1".into(),
        },
        PreApproval {
            kind: "出版".into(),
            number: "B-2".into(),
        },
    ];
    let ctx = ChecklistContext::from_record(&r);
    assert_eq!(ctx.category, EntityCategory::ForeignInvested);
    assert!(ctx.legal_representative_foreign);
    let list = checklist(&ctx);
    let req = |k| list.iter().find(|q| q.kind == k).map(|q| q.required);
    assert_eq!(req(DocumentKind::PowerOfAttorney), Some(true));
    assert_eq!(
        req(DocumentKind::LocalRepresentativeAppointment),
        Some(true)
    );
    assert_eq!(req(DocumentKind::AuthorisationLetter), Some(true));
    assert_eq!(req(DocumentKind::EntityResponsibleId), Some(true));
    assert_eq!(req(DocumentKind::TruthfulnessCommitment), Some(true)); // Jiangsu
    assert_eq!(req(DocumentKind::ServiceCommitment), Some(false)); // not Guangdong
    let pre = list
        .iter()
        .find(|q| q.kind == DocumentKind::PreApprovalDocument)
        .unwrap();
    assert_eq!(pre.count, 2);
    let lr = list
        .iter()
        .find(|q| q.kind == DocumentKind::LegalRepresentativeId)
        .unwrap();
    assert!(lr.reason.en.contains("passport"));

    // One pre-approval document of two → blocker with counts.
    let mut docs = complete_documents(&r);
    let pos = docs
        .iter()
        .position(|x| x.kind == DocumentKind::PreApprovalDocument)
        .unwrap();
    docs.remove(pos);
    let report = readiness(&r, &docs, today(), None);
    let f = report
        .blockers
        .iter()
        .find(|f| f.code == "document_missing")
        .unwrap();
    assert!(
        f.message.en.contains("2 needed, 1 uploaded"),
        "{}",
        f.message.en
    );

    // A foreign company without a PRC entity cannot file.
    r.entity.ownership = Ownership::ForeignWithoutPrcEntity;
    let report = readiness(&r, &complete_documents(&r), today(), None);
    assert!(codes(&report.blockers).contains(&"foreign_entity_cannot_file"));
}

#[test]
fn complete_filing_is_ready() {
    let r = good_record();
    let report = readiness(&r, &complete_documents(&r), today(), None);
    assert!(report.ready, "unexpected blockers: {:#?}", report.blockers);
    assert!(!report.documents_missing);
    assert!(report
        .checklist
        .iter()
        .filter(|i| i.requirement.required)
        .all(|i| i.status == DocumentStatus::Verified));
}

#[test]
fn readiness_lists_missing_and_problem_documents() {
    let r = good_record();
    let mut docs = complete_documents(&r);
    docs.retain(|x| {
        x.kind != DocumentKind::EmergencyResponsePlan && x.kind != DocumentKind::DomainCertificate
    });
    for x in docs.iter_mut() {
        match x.kind {
            DocumentKind::EntityCertificate => x.expires_on = Some(d("2026-05-01")), // < 3 months
            DocumentKind::LegalRepresentativeId => x.expires_on = Some(d("2026-02-01")), // expired
            DocumentKind::NetworkArchitecture => x.is_pdf = Some(false),
            DocumentKind::DataPrivacyStatement => x.red_seal_confirmed = false,
            DocumentKind::NetworkSecurityProtocol => {
                x.foreign_language = true;
                x.has_chinese_translation = false;
            }
            DocumentKind::ServerHostingDetails => x.status = DocumentStatus::Uploaded,
            _ => {}
        }
    }
    let report = readiness(&r, &docs, today(), None);
    assert!(!report.ready);
    assert!(report.documents_missing);
    let b = codes(&report.blockers);
    let w = codes(&report.warnings);
    assert_eq!(
        b.iter().filter(|c| **c == "document_missing").count(),
        2,
        "{b:?}"
    );
    assert!(b.contains(&"document_expired"));
    assert!(b.contains(&"document_not_pdf"));
    assert!(b.contains(&"document_seal_missing"));
    assert!(b.contains(&"document_translation_missing"));
    assert!(w.contains(&"document_expiring"));
    assert!(w.contains(&"document_unverified"));
    let expiring = report
        .warnings
        .iter()
        .find(|f| f.code == "document_expiring")
        .unwrap();
    assert!(
        expiring.message.en.contains("2026-05-01") && expiring.message.zh.contains("不足 3 个月")
    );
    let missing = report
        .blockers
        .iter()
        .find(|f| f.code == "document_missing")
        .unwrap();
    assert!(missing.field.as_deref().unwrap().starts_with("documents."));
    assert!(report
        .blockers
        .iter()
        .all(|f| f.severity == Severity::Blocker));

    // Nothing uploaded at all: every required item is a blocker.
    let report = readiness(&r, &[], today(), None);
    let required = report
        .checklist
        .iter()
        .filter(|i| i.requirement.required)
        .count();
    assert_eq!(
        codes(&report.blockers)
            .iter()
            .filter(|c| **c == "document_missing")
            .count(),
        required
    );
}

#[test]
fn servers_outside_mainland_are_blockers() {
    let mut r = good_record();
    r.access[0].ip_addresses = vec![
        "8.8.8.8".parse().unwrap(),   // US
        "47.75.0.1".parse().unwrap(), // Alibaba Cloud Hong Kong
        "10.0.0.8".parse().unwrap(),  // private
        "119.29.29.29".parse().unwrap(),
    ];
    let report = readiness(&r, &complete_documents(&r), today(), None);
    let b = codes(&report.blockers);
    assert_eq!(
        b.iter().filter(|c| **c == "server_not_mainland").count(),
        2,
        "{b:?}"
    );
    assert!(b.contains(&"server_ip_not_public"));
    let f = report
        .blockers
        .iter()
        .find(|f| f.code == "server_not_mainland")
        .unwrap();
    assert_eq!(f.field.as_deref(), Some("access[0].ip_addresses[0]"));

    // IPv6 with a table that has no IPv6 data → warning, not blocker.
    let v4_only = IpTable::parse("1.0.0.0/8\n").unwrap();
    r.access[0].ip_addresses = vec!["240e::1".parse().unwrap()];
    let findings = r.check(today(), &v4_only);
    assert!(codes(&findings).contains(&"server_location_unknown"));

    r.access.clear();
    let report = readiness(&r, &complete_documents(&r), today(), None);
    assert!(codes(&report.blockers).contains(&"no_access_provider"));
}

#[test]
fn inconsistent_details_are_detected() {
    let mut r = good_record();
    r.numbers.filing = Some(IcpFilingNumber::parse("京ICP备12345678号-1A").unwrap());
    r.numbers.public_security = Some(PsbNumber::parse("京公网安备11010502000001号").unwrap());
    r.app.responsible.mobile = "+86 138-0013-8000".into(); // same as the entity responsible person
    r.app.responsible.email = Some("ZHANG@luming.cn".into());
    let report = readiness(&r, &complete_documents(&r), today(), None);
    let b = codes(&report.blockers);
    assert!(b.contains(&"province_mismatch"), "{b:?}");
    assert!(b.contains(&"shared_phone"));
    assert!(b.contains(&"shared_email"));
    assert!(codes(&report.warnings).contains(&"province_mismatch")); // the PSB number

    // The same person in both roles may use one phone.
    let mut r = good_record();
    r.app.responsible = r.entity.responsible.clone();
    let report = readiness(&r, &complete_documents(&r), today(), None);
    assert!(!codes(&report.blockers).contains(&"shared_phone"));

    // Filing province differs from the domicile.
    let mut r = good_record();
    r.filing_province = Some(Province::Shanghai);
    assert!(
        codes(&readiness(&r, &complete_documents(&r), today(), None).blockers)
            .contains(&"province_mismatch")
    );
}

#[test]
fn record_field_checks() {
    let mut r = good_record();
    r.app.platforms[0].cert_fingerprint = "0123456789abcdef0123456789abcdef01234567".into(); // SHA-1 on Android
    r.app.platforms[1].package_name = "not a bundle id".into();
    r.app.domains[0].expires_on = Some(d("2026-04-15"));
    r.app.domains[0].holder = Some("别的公司".into());
    r.entity.responsible.mobile = "12345".into();
    r.entity.certificate_number = "91440300MA5FXXXX0A".into(); // bad check character
    let findings = r.check(today(), IpTable::builtin());
    let c = codes(&findings);
    for code in [
        "fingerprint_invalid",
        "package_name_invalid",
        "domain_expiring",
        "domain_holder_mismatch",
        "mobile_invalid",
        "uscc_invalid",
    ] {
        assert!(c.contains(&code), "{code} missing in {c:?}");
    }
    let fp = findings
        .iter()
        .find(|f| f.code == "fingerprint_invalid")
        .unwrap();
    assert!(fp.message.en.contains("MD5"), "{}", fp.message.en);
}

#[test]
fn naming_rules() {
    let c = |name: &str, nature| {
        check_service_name(name, nature, "app.name")
            .into_iter()
            .map(|f| (f.code, f.severity))
            .collect::<Vec<_>>()
    };
    assert!(c("鹿鸣记账", EntityNature::Enterprise).is_empty());
    assert!(c("中国好记账", EntityNature::Enterprise)
        .contains(&("name_reserved_prefix".into(), Severity::Blocker)));
    assert!(c("中国好记账", EntityNature::Government).is_empty());
    assert!(c("测试", EntityNature::Enterprise)
        .contains(&("name_placeholder".into(), Severity::Blocker)));
    assert!(c("免费记账神器", EntityNature::Enterprise)
        .contains(&("name_marketing_word".into(), Severity::Warning)));
    assert!(
        c("记账🚀", EntityNature::Enterprise).contains(&("name_emoji".into(), Severity::Blocker))
    );
    assert!(c("12306", EntityNature::Enterprise)
        .contains(&("name_digits_only".into(), Severity::Blocker)));
    assert!(c("Ledger", EntityNature::Enterprise)
        .contains(&("name_ascii_only".into(), Severity::Warning)));
    assert!(
        c("账本", EntityNature::Enterprise).contains(&("name_too_short".into(), Severity::Warning))
    );
    assert!(c("  ", EntityNature::Enterprise).contains(&("name_empty".into(), Severity::Blocker)));
}

#[test]
fn identifier_validators() {
    assert!(is_valid_uscc("91440300MA5FXXXX0U"));
    assert!(is_valid_uscc("91110108MA01ABCD1E"));
    assert!(!is_valid_uscc("91110108MA01ABCD1F"));
    assert!(!is_valid_uscc("9111010"));
    assert_eq!(
        resident_id_province("11010519491231002X"),
        Some(Province::Beijing)
    );
    assert_eq!(
        resident_id_province("11010519491231002x"),
        Some(Province::Beijing)
    );
    assert_eq!(
        resident_id_province("510107199203045673"),
        Some(Province::Sichuan)
    );
    assert_eq!(resident_id_province("510107199203045674"), None);
    assert_eq!(
        normalize_mobile("+86 138 0013 8000").as_deref(),
        Some("13800138000")
    );
    assert_eq!(
        normalize_mobile("１３８００１３８０００").as_deref(),
        Some("13800138000")
    );
    assert_eq!(normalize_mobile("12800138000"), None);
    assert_eq!(normalize_mobile("010-12345678"), None);
    assert_eq!(
        normalize_fingerprint(
            Platform::Android,
            "a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90"
        )
        .unwrap(),
        "A1B2C3D4E5F60718293A4B5C6D7E8F90"
    );
    assert!(normalize_fingerprint(Platform::Ios, "A1B2").is_err());
    assert!(normalize_fingerprint(Platform::HarmonyOs, &"g".repeat(64)).is_err());
}

#[test]
fn individual_outside_home_province() {
    let mut r = good_record();
    r.entity.nature = EntityNature::Individual;
    r.entity.certificate_type = CertificateType::ResidentIdCard;
    r.entity.certificate_number = "510107199203045673".into(); // Sichuan ID, filing in Guangdong
    r.entity.name = "王五".into();
    r.app.domains[0].holder = Some("王五".into());
    let ctx = ChecklistContext::from_record(&r);
    assert_eq!(ctx.category, EntityCategory::Individual);
    assert!(ctx.individual_outside_home_province);
    let list = checklist(&ctx);
    assert!(list
        .iter()
        .any(|q| q.kind == DocumentKind::ResidencePermit && q.required));
    assert!(
        list.iter().all(|q| !q.seal_required),
        "individuals have no company seal"
    );
    assert!(!list.iter().any(|q| q.kind == DocumentKind::OfficialSeal));
    let findings = r.check(today(), IpTable::builtin());
    assert!(codes(&findings).contains(&"individual_outside_home_province"));
}
