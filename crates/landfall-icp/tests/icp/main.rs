//! Integration tests of landfall-icp (one test binary, one module per area).

mod calendar;
mod compliance;
mod display;
mod documents;
mod drift;
mod filing;
mod ip;
mod numbers;

use chrono::NaiveDate;

/// Shorthand for a date literal in tests.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Deterministic pseudo-random strings from characters that matter to the parsers: no parser
/// may panic on any input.
#[test]
fn no_panics_on_odd_input() {
    use landfall_icp::numbers::*;
    let pool: Vec<char> = "京粤川蜀港ICPicp备证公网安备号-—－B12AXKabx0123456789０１２３４５６７８９ :/?.@[]#%\\\"'$\u{3000}\u{200b}🚀é中https://HTTP\n{}?"
        .chars()
        .collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let templates = [
        "京ICP备12345678号-2A",
        "粤B2-20090059-1626X",
        "京公网安备11010502000001号",
        "https://a.b.cn:80/x",
    ];
    for i in 0..3000 {
        let mut s: String = templates[i % templates.len()].to_string();
        // mutate: insert, delete or replace a few characters
        for _ in 0..(next() % 4) {
            let chars: Vec<char> = s.chars().collect();
            let pos = next() % (chars.len() + 1);
            let c = pool[next() % pool.len()];
            let mut v = chars.clone();
            match next() % 3 {
                0 => v.insert(pos, c),
                1 if pos < v.len() => {
                    v.remove(pos);
                }
                _ if pos < v.len() => v[pos] = c,
                _ => v.push(c),
            }
            s = v.into_iter().collect();
        }
        for opts in [ParseOptions::strict(), ParseOptions::lenient()] {
            let _ = IcpFilingNumber::parse_with(&s, &opts);
            let _ = IcpLicenceNumber::parse_with(&s, &opts);
            let _ = PsbNumber::parse_with(&s, &opts);
            let _ = parse_any(&s, &opts);
        }
        let _ = landfall_icp::drift::extract_hosts(&s);
        let _ = landfall_icp::IpTable::parse(&s);
        let _ = landfall_icp::HolidayYear::from_json(&s);
        let _ = Province::parse_name(&s);
    }
}
