use landfall_icp::numbers::*;

fn lenient() -> ParseOptions {
    ParseOptions::lenient()
}

#[test]
fn province_table_is_consistent() {
    let all: Vec<Province> = Province::all().collect();
    assert_eq!(all.len(), 31);
    let mut codes: Vec<u8> = all.iter().map(|p| p.code()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 31);
    for p in &all {
        assert_eq!(Province::from_code(p.code()), Some(*p));
        assert_eq!(Province::from_icp_char(p.icp_char()), Some(*p));
        assert_eq!(Province::from_psb_char(p.psb_char()), Some(*p));
    }
    // MIIT vs MPS abbreviations differ for these four only (§1.1).
    assert_eq!(Province::Sichuan.icp_char(), '蜀');
    assert_eq!(Province::Sichuan.psb_char(), '川');
    assert_eq!(Province::Guizhou.icp_char(), '黔');
    assert_eq!(Province::Guizhou.psb_char(), '贵');
    assert_eq!(Province::Gansu.icp_char(), '陇');
    assert_eq!(Province::Gansu.psb_char(), '甘');
    assert_eq!(Province::Yunnan.icp_char(), '滇');
    assert_eq!(Province::Yunnan.psb_char(), '滇');
    let differing = all.iter().filter(|p| p.icp_char() != p.psb_char()).count();
    assert_eq!(differing, 3);
    assert_eq!(Province::from_code(81), None); // Hong Kong is not in the table
    assert_eq!(Province::parse_name("广东省"), Some(Province::Guangdong));
    assert_eq!(Province::parse_name("guangdong"), Some(Province::Guangdong));
    assert_eq!(
        Province::parse_name("Inner Mongolia"),
        Some(Province::InnerMongolia)
    );
    assert_eq!(Province::parse_name("440300"), Some(Province::Guangdong));
    assert_eq!(Province::parse_name("川"), Some(Province::Sichuan));
    assert_eq!(Province::parse_name("香港"), None);
}

#[test]
fn normalisation_handles_full_width_spaces_and_dashes() {
    assert_eq!(
        normalize_number("京ＩＣＰ备１２３４５６７８号－２Ａ"),
        "京ICP备12345678号-2A"
    );
    assert_eq!(
        normalize_number(" 京 ICP 备 12345678 号 — 1 "),
        "京ICP备12345678号-1"
    );
    assert_eq!(
        normalize_number("京icp备12345678号-1a"),
        "京ICP备12345678号-1A"
    );
    assert_eq!(
        normalize_number("京\u{3000}公网安备\u{200b}11010502000001号"),
        "京公网安备11010502000001号"
    );
}

#[test]
fn valid_filing_numbers() {
    let cases = [
        ("京ICP备12345678号", Province::Beijing, "12345678", None),
        (
            "粤ICP备2023012345号-2A",
            Province::Guangdong,
            "2023012345",
            Some((2, ServiceKind::App)),
        ),
        ("陕ICP备040096号", Province::Shaanxi, "040096", None),
        (
            "沪ICP备13002172号-3",
            Province::Shanghai,
            "13002172",
            Some((3, ServiceKind::Website)),
        ),
        (
            "湘ICP备2023022869号-3X",
            Province::Hunan,
            "2023022869",
            Some((3, ServiceKind::MiniProgram)),
        ),
        (
            "冀ICP备18017068号-3X",
            Province::Hebei,
            "18017068",
            Some((3, ServiceKind::MiniProgram)),
        ),
        (
            "滇ICP备2026011700号-7X",
            Province::Yunnan,
            "2026011700",
            Some((7, ServiceKind::MiniProgram)),
        ),
        ("蜀ICP备14021561号", Province::Sichuan, "14021561", None),
        (
            "陇ICP备2021003158号-1",
            Province::Gansu,
            "2021003158",
            Some((1, ServiceKind::Website)),
        ),
        ("黔ICP备2025055075号", Province::Guizhou, "2025055075", None),
        (
            "苏ICP备2025175795号-1A",
            Province::Jiangsu,
            "2025175795",
            Some((1, ServiceKind::App)),
        ),
        (
            "浙ICP备2024000001号-4K",
            Province::Zhejiang,
            "2024000001",
            Some((4, ServiceKind::QuickApp)),
        ),
        (
            "京ICP备12345678号-99999A",
            Province::Beijing,
            "12345678",
            Some((99999, ServiceKind::App)),
        ),
    ];
    for (input, province, digits, service) in cases {
        let p = IcpFilingNumber::parse_with(input, &ParseOptions::strict())
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(p.value.province(), province, "{input}");
        assert_eq!(p.value.entity_digits(), digits, "{input}");
        assert_eq!(
            p.value.service().map(|s| (s.seq, s.kind)),
            service,
            "{input}"
        );
        assert_eq!(p.value.to_string(), input, "canonical form of {input}");
        assert!(p.warnings.is_empty(), "{input}: {:?}", p.warnings);
    }
    let n = IcpFilingNumber::parse("粤ICP备2023012345号-2A").unwrap();
    assert_eq!(n.entity_number(), "粤ICP备2023012345号");
}

#[test]
fn full_width_and_spaced_filing_numbers_are_normalised() {
    let p = IcpFilingNumber::parse_with(
        "京ＩＣＰ备１２３４５６７８号－２Ａ",
        &ParseOptions::strict(),
    )
    .unwrap();
    assert_eq!(p.value.to_string(), "京ICP备12345678号-2A");
    assert_eq!(p.normalized, "京ICP备12345678号-2A");
    assert_eq!(
        IcpFilingNumber::parse("京 ICP 备 12345678 号")
            .unwrap()
            .to_string(),
        "京ICP备12345678号"
    );
    assert_eq!(
        IcpFilingNumber::parse("京icp备12345678号-1a")
            .unwrap()
            .to_string(),
        "京ICP备12345678号-1A"
    );
    assert_eq!(
        IcpFilingNumber::parse("京ICP备12345678号—2")
            .unwrap()
            .to_string(),
        "京ICP备12345678号-2"
    );
}

#[test]
fn invalid_filing_numbers_have_precise_errors() {
    use NumberError as E;
    let err = |s: &str| IcpFilingNumber::parse(s).unwrap_err();
    assert!(matches!(err("京ICP备12345678"), E::MissingHao { .. }));
    assert!(matches!(
        err("京ICP备1234567号"),
        E::DigitCount { found: 7, .. }
    ));
    assert!(matches!(
        err("京ICP备123456789012号"),
        E::DigitCount { found: 12, .. }
    ));
    assert!(matches!(
        err("港ICP备12345678号"),
        E::NonMainlandRegion { found: '港', .. }
    ));
    assert!(matches!(
        err("台ICP备12345678号"),
        E::NonMainlandRegion { found: '台', .. }
    ));
    assert!(matches!(
        err("萌ICP备20210001号"),
        E::UnknownProvince { .. }
    ));
    assert!(matches!(
        err("京ICP备12345678号-0"),
        E::BadServiceSuffix { .. }
    ));
    assert!(matches!(
        err("京ICP备12345678号-1B"),
        E::BadServiceSuffix { .. }
    ));
    assert!(matches!(
        err("京ICP备12345678号-01"),
        E::BadServiceSuffix { .. }
    ));
    assert!(matches!(
        err("京ICP备12345678号-123456"),
        E::BadServiceSuffix { .. }
    ));
    assert!(matches!(
        err("京ICP备12345678号1"),
        E::BadServiceSuffix { .. }
    ));
    assert!(matches!(err("ICP备12345678号"), E::MissingProvince { .. }));
    assert!(matches!(err(""), E::Empty { .. }));
    assert!(matches!(err("   "), E::Empty { .. }));
    assert!(matches!(err("hello"), E::WrongShape { .. }));
    assert!(matches!(
        err("京ICP证030173号"),
        E::WrongKind {
            found: NumberKind::Licence,
            ..
        }
    ));
    assert!(matches!(
        err("京公网安备11010502000001号"),
        E::WrongKind {
            found: NumberKind::PublicSecurity,
            ..
        }
    ));
    // A full province name gets a suggestion.
    match err("广东ICP备2023012345号") {
        E::UnknownProvince { suggestion, .. } => assert_eq!(suggestion, Some('粤')),
        other => panic!("{other:?}"),
    }
    // Full-width digits only pass because they are normalised first; a stray Arabic-Indic digit does not.
    assert!(IcpFilingNumber::parse("京ICP备١٢٣٤٥٦٧٨号").is_err());
}

#[test]
fn legacy_province_character_strict_vs_lenient() {
    // 川 is the public-security abbreviation; MIIT uses 蜀.
    match IcpFilingNumber::parse("川ICP备12345678号").unwrap_err() {
        NumberError::WrongProvinceCharacter {
            found,
            standard,
            province,
            ..
        } => {
            assert_eq!((found, standard, province), ('川', '蜀', Province::Sichuan));
        }
        other => panic!("{other:?}"),
    }
    let p = IcpFilingNumber::parse_with("甘ICP备14018586号", &lenient()).unwrap();
    assert_eq!(p.value.province(), Province::Gansu);
    assert_eq!(p.value.to_string(), "甘ICP备14018586号"); // kept as issued
    assert!(matches!(
        p.warnings[0],
        NumberWarning::VariantProvinceCharacter {
            standard: '陇', ..
        }
    ));
}

#[test]
fn filing_number_year_plausibility_warnings() {
    let p = IcpFilingNumber::parse_with("京ICP备2017123456号", &ParseOptions::strict()).unwrap();
    assert!(matches!(
        p.warnings.as_slice(),
        [NumberWarning::UnusualYear { .. }]
    ));
    let p = IcpFilingNumber::parse_with("京ICP备99123456号", &ParseOptions::strict()).unwrap();
    assert!(matches!(
        p.warnings.as_slice(),
        [NumberWarning::UnusualYear { .. }]
    ));
    let opts = ParseOptions {
        lenient: false,
        current_year: Some(2024),
    };
    let p = IcpFilingNumber::parse_with("粤ICP备2026012345号", &opts).unwrap();
    assert_eq!(p.warnings.len(), 1);
    let p = IcpFilingNumber::parse_with("粤ICP备2023012345号", &opts).unwrap();
    assert!(p.warnings.is_empty());
}

#[test]
fn licence_numbers() {
    let ok = |s: &str| IcpLicenceNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    let n = ok("京ICP证030173号");
    assert_eq!(n.province(), Some(Province::Beijing));
    assert_eq!(n.to_string(), "京ICP证030173号");
    assert_eq!(ok("京ICP证030173号-1").to_string(), "京ICP证030173号-1");
    match ok("粤B2-20090059") {
        IcpLicenceNumber::Telecom {
            province,
            category,
            year,
            serial,
            service,
            ..
        } => {
            assert_eq!(province, Some(Province::Guangdong));
            assert_eq!(category, TelecomCategory::B2);
            assert_eq!(year, 2009);
            assert_eq!(serial, "0059");
            assert_eq!(service, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ok("沪B2-20100043").to_string(), "沪B2-20100043");
    let cross = ok("B2-20080101");
    assert_eq!(cross.province(), None);
    assert_eq!(cross.to_string(), "B2-20080101");
    let tencent = ok("粤B2-20090059-1626X");
    assert_eq!(tencent.to_string(), "粤B2-20090059-1626X");
    assert_eq!(ok("粤Ｂ２－２００９００５９").to_string(), "粤B2-20090059");

    let err = |s: &str| IcpLicenceNumber::parse(s).unwrap_err();
    assert!(matches!(
        err("沪ICP证08115529号"),
        NumberError::DigitCount { found: 8, .. }
    ));
    assert!(matches!(
        err("粤B2-2009005"),
        NumberError::DigitCount { found: 7, .. }
    ));
    assert!(matches!(
        err("港B2-20090059"),
        NumberError::NonMainlandRegion { .. }
    ));
    assert!(matches!(
        err("辽B-2-4-20080039"),
        NumberError::LenientOnly { .. }
    ));
    assert!(matches!(
        err("京ICP证030173"),
        NumberError::MissingHao { .. }
    ));
    assert!(matches!(
        err("粤B2-20090059-0"),
        NumberError::BadServiceSuffix { .. }
    ));

    let p = IcpLicenceNumber::parse_with("沪ICP证08115529号", &lenient()).unwrap();
    assert!(matches!(
        p.warnings.as_slice(),
        [NumberWarning::LicenceDigitCount { digits: 8 }]
    ));
    let p = IcpLicenceNumber::parse_with("辽B-2-4-20080039", &lenient()).unwrap();
    assert!(matches!(
        p.value,
        IcpLicenceNumber::Legacy {
            province: Some(Province::Liaoning),
            ..
        }
    ));
    assert_eq!(p.value.to_string(), "辽B-2-4-20080039");
}

#[test]
fn public_security_numbers() {
    let ok = |s: &str| PsbNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    let n = ok("京公网安备11010502000001号");
    assert_eq!(n.province(), Province::Beijing);
    assert_eq!(n.code(), "11010502000001");
    assert_eq!(
        n.query_url(),
        "https://beian.mps.gov.cn/#/query/webSearch?code=11010502000001"
    );
    // The optional space after 公网安备 and full-width digits are normalised away.
    assert_eq!(
        ok("京公网安备 11010502000001号").to_string(),
        "京公网安备11010502000001号"
    );
    assert_eq!(
        ok("粤公网安备４４０３０７０２０００６７８号").to_string(),
        "粤公网安备44030702000678号"
    );
    assert_eq!(
        ok("川公网安备 51010602000097号").province(),
        Province::Sichuan
    );
    assert_eq!(
        ok("贵公网安备52062402000235号").province(),
        Province::Guizhou
    );
    assert_eq!(
        ok("滇公网安备53062802000020号").province(),
        Province::Yunnan
    );
    assert_eq!(
        ok("甘公网安备 62090202000584号").province(),
        Province::Gansu
    );
}

#[test]
fn public_security_province_must_match_its_character() {
    // Label 川 (Sichuan, 51) but the code starts with 44 (Guangdong).
    match PsbNumber::parse("川公网安备44030702000678号").unwrap_err() {
        e @ NumberError::ProvinceMismatch { .. } => {
            let NumberError::ProvinceMismatch {
                code_province,
                label_province,
                label,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*code_province, Province::Guangdong);
            assert_eq!(*label_province, Province::Sichuan);
            assert_eq!(*label, '川');
            let en = e.to_string();
            assert!(en.contains("Guangdong") && en.contains("Sichuan"), "{en}");
            let zh = e.message_zh();
            assert!(zh.contains("广东") && zh.contains("四川"), "{zh}");
        }
        other => panic!("{other:?}"),
    }
    // The reverse: label 粤 with a Sichuan code.
    assert!(matches!(
        PsbNumber::parse("粤公网安备51010602000097号").unwrap_err(),
        NumberError::ProvinceMismatch {
            code_province: Province::Sichuan,
            ..
        }
    ));
    // Mismatch is refused in lenient mode too.
    assert!(PsbNumber::parse_with("川公网安备44030702000678号", &lenient()).is_err());
}

#[test]
fn invalid_public_security_numbers() {
    let err = |s: &str| PsbNumber::parse(s).unwrap_err();
    // 蜀 is the MIIT character; the MPS uses 川.
    assert!(matches!(
        err("蜀公网安备51078202110037号"),
        NumberError::WrongProvinceCharacter {
            found: '蜀',
            standard: '川',
            ..
        }
    ));
    assert!(matches!(
        err("京公网安备110105000655号"),
        NumberError::DigitCount { found: 12, .. }
    ));
    assert!(matches!(
        err("京公网安备11010502000001"),
        NumberError::MissingHao { .. }
    ));
    assert!(matches!(
        err("京公网安备99010502000001号"),
        NumberError::UnknownAreaCode { .. }
    ));
    assert!(matches!(
        err("港公网安备81010502000001号"),
        NumberError::NonMainlandRegion { .. }
    ));
    assert!(matches!(
        err("公网安备11010502000001号"),
        NumberError::MissingProvince { .. }
    ));
    assert!(matches!(
        err("京公网安备11010502000001号-1"),
        NumberError::WrongShape { .. }
    ));

    let p = PsbNumber::parse_with("蜀公网安备51078202110037号", &lenient()).unwrap();
    assert_eq!(p.value.province(), Province::Sichuan);
    assert_eq!(p.warnings.len(), 1);
    let p = PsbNumber::parse_with("京公网安备110105000655号", &lenient()).unwrap();
    assert!(matches!(
        p.warnings.as_slice(),
        [NumberWarning::LegacyPublicSecurityLength { digits: 12 }]
    ));
}

#[test]
fn errors_have_english_and_chinese_messages() {
    let samples = [
        IcpFilingNumber::parse("京ICP备12345678").unwrap_err(),
        IcpFilingNumber::parse("港ICP备12345678号").unwrap_err(),
        IcpFilingNumber::parse("京ICP备1234567号").unwrap_err(),
        PsbNumber::parse("川公网安备44030702000678号").unwrap_err(),
        IcpLicenceNumber::parse("辽B-2-4-20080039").unwrap_err(),
    ];
    for e in samples {
        let l = e.localized();
        assert!(!l.en.is_empty() && !l.zh.is_empty());
        assert!(
            l.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{}",
            l.zh
        );
    }
    assert!(IcpFilingNumber::parse("京ICP备12345678")
        .unwrap_err()
        .to_string()
        .contains("号"));
}

#[test]
fn parse_any_and_serde_round_trip() {
    let p = parse_any(
        "京ＩＣＰ备１２３４５６７８号－２Ａ",
        &ParseOptions::strict(),
    )
    .unwrap();
    assert!(matches!(p.value, AnyNumber::Filing(_)));
    assert!(matches!(
        parse_any("粤B2-20090059", &ParseOptions::strict())
            .unwrap()
            .value,
        AnyNumber::Licence(_)
    ));
    assert!(matches!(
        parse_any("京公网安备 11010502000001号", &ParseOptions::strict())
            .unwrap()
            .value,
        AnyNumber::PublicSecurity(_)
    ));

    let numbers = FilingNumbers {
        filing: Some(IcpFilingNumber::parse("粤ICP备2023012345号-2A").unwrap()),
        licence: Some(IcpLicenceNumber::parse("粤B2-20090059").unwrap()),
        public_security: Some(PsbNumber::parse("粤公网安备44030702000678号").unwrap()),
    };
    let json = serde_json::to_string(&numbers).unwrap();
    assert!(json.contains("\"粤ICP备2023012345号-2A\""), "{json}");
    let back: FilingNumbers = serde_json::from_str(&json).unwrap();
    assert_eq!(back, numbers);
    // Invalid stored values are rejected on load with the parse error.
    let bad = r#"{"public_security":"川公网安备44030702000678号"}"#;
    let e = serde_json::from_str::<FilingNumbers>(bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Guangdong"), "{e}");
}
