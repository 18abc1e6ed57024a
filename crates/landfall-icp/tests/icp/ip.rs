use std::net::IpAddr;

use landfall_icp::ip::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn builtin_table_known_addresses() {
    let t = IpTable::builtin();
    let s = t.stats();
    assert!(s.v4_ranges > 1000, "{s:?}");
    assert!(s.v6_ranges > 500, "{s:?}");
    for a in [
        "114.114.114.114",
        "223.5.5.5",
        "119.29.29.29",
        "202.96.128.86",
        "39.156.66.10",
    ] {
        assert_eq!(t.classify(ip(a)), IpClass::Mainland, "{a}");
    }
    for a in [
        "47.75.0.1",   // Alibaba Cloud Hong Kong
        "8.8.8.8",     // Google, US
        "1.1.1.1",     // Cloudflare
        "168.95.1.1",  // HiNet, Taiwan
        "202.175.3.3", // CTM, Macau
    ] {
        assert_eq!(t.classify(ip(a)), IpClass::NotMainland, "{a}");
    }
    // IPv6 (RIR ASN-country data): China Telecom, AliDNS, Tencent DNSPod, CERNET.
    for a in [
        "240e::1",
        "2400:3200::1",
        "2402:4e00::1",
        "2001:da8:8000::1",
    ] {
        assert_eq!(t.classify(ip(a)), IpClass::Mainland, "{a}");
    }
    assert_eq!(t.classify(ip("2001:4860:4860::8888")), IpClass::NotMainland);
    // IPv4-mapped IPv6 is classified as IPv4.
    assert_eq!(t.classify(ip("::ffff:114.114.114.114")), IpClass::Mainland);
    // "China, province unknown" in the source data → Unknown, not a guess.
    assert_eq!(t.classify(ip("8.128.4.1")), IpClass::Unknown);
    // Non-public addresses are never mainland servers.
    for a in [
        "10.1.2.3",
        "127.0.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "2001:db8::1",
    ] {
        assert_eq!(t.classify(ip(a)), IpClass::NotMainland, "{a}");
        assert!(!is_public(ip(a)), "{a}");
    }
    assert!(is_public(ip("223.5.5.5")));
    assert_eq!(t.classify_str(" 223.5.5.5 ").unwrap(), IpClass::Mainland);
    assert!(matches!(
        t.classify_str("223.5.5"),
        Err(IpTableError::BadAddress { .. })
    ));
    assert!(t.comments().iter().any(|c| c.contains("ip2region")));
}

#[test]
fn parse_admin_file() {
    let text = "\
# test table
1.0.1.0-1.0.3.255
1.0.4.0/22   # adjacent, merged with the line above
36.96.0.0/12
203.0.113.7
?8.128.0.0-8.191.255.255
";
    let t = IpTable::parse(text).unwrap();
    assert_eq!(t.stats().v4_ranges, 3);
    assert_eq!(t.stats().v4_uncertain_ranges, 1);
    assert_eq!(t.classify(ip("1.0.1.0")), IpClass::Mainland);
    assert_eq!(t.classify(ip("1.0.7.255")), IpClass::Mainland);
    assert_eq!(t.classify(ip("1.0.8.0")), IpClass::NotMainland);
    assert_eq!(t.classify(ip("1.0.0.255")), IpClass::NotMainland);
    assert_eq!(t.classify(ip("36.111.255.255")), IpClass::Mainland);
    assert_eq!(t.classify(ip("36.112.0.0")), IpClass::NotMainland);
    assert_eq!(t.classify(ip("203.0.113.7")), IpClass::NotMainland); // documentation range: not public
    assert_eq!(t.classify(ip("8.130.1.1")), IpClass::Unknown);
    // No IPv6 ranges at all → IPv6 is Unknown, explicitly.
    assert_eq!(t.classify(ip("240e::1")), IpClass::Unknown);

    let t6 =
        IpTable::parse("240e::/20\n2400:3200::-2400:3200:ffff:ffff:ffff:ffff:ffff:ffff\n").unwrap();
    assert_eq!(t6.classify(ip("240e:fff::1")), IpClass::Mainland);
    assert_eq!(t6.classify(ip("240e:1000::1")), IpClass::NotMainland);
    assert_eq!(t6.classify(ip("114.114.114.114")), IpClass::Unknown);

    // Edges of the address space do not overflow.
    let edge = IpTable::parse("255.255.255.0-255.255.255.255\n0.0.0.0/0\n").unwrap();
    assert_eq!(edge.stats().v4_ranges, 1);
    assert_eq!(edge.classify(ip("223.5.5.5")), IpClass::Mainland);
}

#[test]
fn parse_errors_name_the_line() {
    assert_eq!(
        IpTable::parse("1.0.0.0/8\nfoo\n").unwrap_err(),
        IpTableError::BadEntry {
            line: 2,
            text: "foo".into()
        }
    );
    assert!(matches!(
        IpTable::parse("1.0.0.9-1.0.0.1").unwrap_err(),
        IpTableError::Reversed { line: 1, .. }
    ));
    assert!(matches!(
        IpTable::parse("1.0.0.0-::1").unwrap_err(),
        IpTableError::MixedFamilies { line: 1 }
    ));
    assert!(matches!(
        IpTable::parse("# x\n1.0.0.0/33").unwrap_err(),
        IpTableError::BadPrefix {
            line: 2,
            prefix: 33,
            ..
        }
    ));
    assert!(matches!(
        IpTable::parse("240e::/129").unwrap_err(),
        IpTableError::BadPrefix { .. }
    ));
    assert_eq!(
        IpTable::parse("# only comments\n\n").unwrap_err(),
        IpTableError::Empty
    );
    let e = IpTable::parse("1.2.3.4.5").unwrap_err();
    assert!(e.to_string().contains("line 1"));
    assert!(e.message_zh().contains("第 1 行"));
}
