//! Mainland-China IP check: sorted IPv4/IPv6 range tables with binary search, parsed from a
//! replaceable text file (built-in data derived from ip2region and RIR ASN data, HK/MO/TW excluded).
//!
//! File format (`landfall-ip-ranges/1`), one entry per line:
//!
//! ```text
//! # comment
//! 1.0.1.0-1.0.3.255        inclusive range
//! 36.96.0.0/12             CIDR block
//! 203.0.113.7              single address
//! ?8.128.0.0-8.191.255.255 '?' = location uncertain → Unknown
//! 240e::-240e:3fff:ffff:ffff:ffff:ffff:ffff:ffff
//! ```
//!
//! Classification: listed mainland range → [`IpClass::Mainland`]; listed uncertain range →
//! [`IpClass::Unknown`]; no range at all for the address family → [`IpClass::Unknown`]; otherwise
//! [`IpClass::NotMainland`]. Loopback, private, link-local, documentation and other non-public
//! addresses are [`IpClass::NotMainland`] (they can never be a filed server address); use
//! [`is_public`] to tell them apart. Geo data is a heuristic: the authoritative test is the access
//! provider's IP-address filing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::Localized;

const BUILTIN_TEXT: &str = include_str!("../data/mainland-ip.txt");

/// Result of a mainland check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpClass {
    /// In a mainland-China range (HK/MO/TW excluded).
    Mainland,
    /// Known not to be mainland China (another country/region, or a non-public address).
    NotMainland,
    /// The data cannot tell (no data for this address family, or the range is marked uncertain).
    Unknown,
}

/// Errors in a range file. `Display` is English; [`IpTableError::message_zh`] is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum IpTableError {
    #[error("line {line}: `{text}` is not an IP address, range (START-END) or CIDR block")]
    BadEntry { line: usize, text: String },
    #[error("line {line}: range start {start} is after its end {end}")]
    Reversed {
        line: usize,
        start: String,
        end: String,
    },
    #[error("line {line}: range mixes IPv4 and IPv6 addresses")]
    MixedFamilies { line: usize },
    #[error("line {line}: prefix length /{prefix} is too long for {family}")]
    BadPrefix {
        line: usize,
        prefix: u32,
        family: String,
    },
    #[error("the IP range file contains no ranges")]
    Empty,
    #[error("`{text}` is not an IP address")]
    BadAddress { text: String },
}

impl IpTableError {
    /// Chinese message.
    pub fn message_zh(&self) -> String {
        match self {
            IpTableError::BadEntry { line, text } => {
                format!("第 {line} 行：「{text}」不是 IP 地址、地址段（起-止）或 CIDR")
            }
            IpTableError::Reversed { line, start, end } => {
                format!("第 {line} 行：起始地址 {start} 大于结束地址 {end}")
            }
            IpTableError::MixedFamilies { line } => {
                format!("第 {line} 行：同一地址段混用了 IPv4 和 IPv6")
            }
            IpTableError::BadPrefix {
                line,
                prefix,
                family,
            } => format!("第 {line} 行：{family} 的前缀长度 /{prefix} 无效"),
            IpTableError::Empty => "IP 地址段文件中没有任何地址段".to_string(),
            IpTableError::BadAddress { text } => format!("「{text}」不是 IP 地址"),
        }
    }

    /// Both languages.
    pub fn localized(&self) -> Localized {
        Localized::new(self.to_string(), self.message_zh())
    }
}

/// Sorted, merged, non-overlapping inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges<T> {
    ranges: Vec<(T, T)>,
}

impl<T: Ord + Copy + One> Ranges<T> {
    fn from_unsorted(mut v: Vec<(T, T)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
        for (s, e) in v {
            if let Some(last) = out.last_mut() {
                // adjacent or overlapping → merge (last.1 + 1 >= s, written without overflow)
                if s <= last.1 || last.1.checked_inc().is_some_and(|n| n >= s) {
                    if e > last.1 {
                        last.1 = e;
                    }
                    continue;
                }
            }
            out.push((s, e));
        }
        Ranges { ranges: out }
    }

    fn contains(&self, x: T) -> bool {
        // Index of the first range whose start is > x; the candidate is the one before it.
        let idx = self.ranges.partition_point(|(s, _)| *s <= x);
        idx > 0 && self.ranges[idx - 1].1 >= x
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }

    fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

trait One: Sized {
    fn checked_inc(self) -> Option<Self>;
}
impl One for u32 {
    fn checked_inc(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl One for u128 {
    fn checked_inc(self) -> Option<Self> {
        self.checked_add(1)
    }
}

/// Mainland-China range table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpTable {
    v4: Ranges<u32>,
    v4_unknown: Ranges<u32>,
    v6: Ranges<u128>,
    v6_unknown: Ranges<u128>,
    comments: Vec<String>,
}

/// Counts of a table, for admin display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpTableStats {
    pub v4_ranges: usize,
    pub v4_uncertain_ranges: usize,
    pub v6_ranges: usize,
    pub v6_uncertain_ranges: usize,
}

enum Parsed {
    V4(u32, u32),
    V6(u128, u128),
}

fn parse_entry(line_no: usize, text: &str) -> Result<Parsed, IpTableError> {
    let bad = || IpTableError::BadEntry {
        line: line_no,
        text: text.to_string(),
    };
    if let Some((a, b)) = text.split_once('-') {
        let a = IpAddr::from_str(a.trim()).map_err(|_| bad())?;
        let b = IpAddr::from_str(b.trim()).map_err(|_| bad())?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let (s, e) = (u32::from(a), u32::from(b));
                if s > e {
                    return Err(IpTableError::Reversed {
                        line: line_no,
                        start: a.to_string(),
                        end: b.to_string(),
                    });
                }
                Ok(Parsed::V4(s, e))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let (s, e) = (u128::from(a), u128::from(b));
                if s > e {
                    return Err(IpTableError::Reversed {
                        line: line_no,
                        start: a.to_string(),
                        end: b.to_string(),
                    });
                }
                Ok(Parsed::V6(s, e))
            }
            _ => Err(IpTableError::MixedFamilies { line: line_no }),
        };
    }
    if let Some((a, len)) = text.split_once('/') {
        let addr = IpAddr::from_str(a.trim()).map_err(|_| bad())?;
        let len: u32 = len.trim().parse().map_err(|_| bad())?;
        return match addr {
            IpAddr::V4(a) => {
                if len > 32 {
                    return Err(IpTableError::BadPrefix {
                        line: line_no,
                        prefix: len,
                        family: "IPv4".into(),
                    });
                }
                let host_bits = 32 - len;
                let mask = if host_bits == 32 {
                    u32::MAX
                } else {
                    (1u32 << host_bits) - 1
                };
                let s = u32::from(a) & !mask;
                Ok(Parsed::V4(s, s | mask))
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return Err(IpTableError::BadPrefix {
                        line: line_no,
                        prefix: len,
                        family: "IPv6".into(),
                    });
                }
                let host_bits = 128 - len;
                let mask = if host_bits == 128 {
                    u128::MAX
                } else {
                    (1u128 << host_bits) - 1
                };
                let s = u128::from(a) & !mask;
                Ok(Parsed::V6(s, s | mask))
            }
        };
    }
    match IpAddr::from_str(text).map_err(|_| bad())? {
        IpAddr::V4(a) => Ok(Parsed::V4(u32::from(a), u32::from(a))),
        IpAddr::V6(a) => Ok(Parsed::V6(u128::from(a), u128::from(a))),
    }
}

static BUILTIN: LazyLock<IpTable> =
    LazyLock::new(|| IpTable::parse(BUILTIN_TEXT).unwrap_or_default());

impl IpTable {
    /// Parses a range file (see the module docs). Overlapping or adjacent ranges are merged; an
    /// address in both a mainland and an uncertain range is mainland.
    pub fn parse(text: &str) -> Result<IpTable, IpTableError> {
        let (mut v4, mut v4u, mut v6, mut v6u) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut comments = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim().trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            if let Some(c) = line.strip_prefix('#') {
                comments.push(c.trim().to_string());
                continue;
            }
            // Allow trailing comments.
            let line = line.split('#').next().unwrap_or("").trim();
            let (uncertain, entry) = match line.strip_prefix('?') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            match (parse_entry(line_no, entry)?, uncertain) {
                (Parsed::V4(s, e), false) => v4.push((s, e)),
                (Parsed::V4(s, e), true) => v4u.push((s, e)),
                (Parsed::V6(s, e), false) => v6.push((s, e)),
                (Parsed::V6(s, e), true) => v6u.push((s, e)),
            }
        }
        let table = IpTable {
            v4: Ranges::from_unsorted(v4),
            v4_unknown: Ranges::from_unsorted(v4u),
            v6: Ranges::from_unsorted(v6),
            v6_unknown: Ranges::from_unsorted(v6u),
            comments,
        };
        if table.v4.is_empty()
            && table.v6.is_empty()
            && table.v4_unknown.is_empty()
            && table.v6_unknown.is_empty()
        {
            return Err(IpTableError::Empty);
        }
        Ok(table)
    }

    /// The built-in table (see `data/README.md`). Should the embedded file ever fail to parse,
    /// this is an empty table that answers [`IpClass::Unknown`] for every public address.
    pub fn builtin() -> &'static IpTable {
        &BUILTIN
    }

    /// Classifies an address.
    pub fn classify(&self, ip: IpAddr) -> IpClass {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            },
            v4 => v4,
        };
        if !is_public(ip) {
            return IpClass::NotMainland;
        }
        match ip {
            IpAddr::V4(a) => {
                let x = u32::from(a);
                if self.v4.contains(x) {
                    IpClass::Mainland
                } else if self.v4_unknown.contains(x) || self.v4.is_empty() {
                    IpClass::Unknown
                } else {
                    IpClass::NotMainland
                }
            }
            IpAddr::V6(a) => {
                let x = u128::from(a);
                if self.v6.contains(x) {
                    IpClass::Mainland
                } else if self.v6_unknown.contains(x) || self.v6.is_empty() {
                    IpClass::Unknown
                } else {
                    IpClass::NotMainland
                }
            }
        }
    }

    /// Parses and classifies a textual address.
    pub fn classify_str(&self, text: &str) -> Result<IpClass, IpTableError> {
        let ip = IpAddr::from_str(text.trim()).map_err(|_| IpTableError::BadAddress {
            text: text.to_string(),
        })?;
        Ok(self.classify(ip))
    }

    /// Range counts.
    pub fn stats(&self) -> IpTableStats {
        IpTableStats {
            v4_ranges: self.v4.len(),
            v4_uncertain_ranges: self.v4_unknown.len(),
            v6_ranges: self.v6.len(),
            v6_uncertain_ranges: self.v6_unknown.len(),
        }
    }

    /// Header comments of the file (source and licence notes).
    pub fn comments(&self) -> &[String] {
        &self.comments
    }
}

/// Whether an address is a globally routable unicast address (not loopback, private, CGNAT,
/// link-local, documentation, benchmarking, multicast, reserved, unique-local …).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(a),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (64..=127).contains(&o[1])) // 100.64.0.0/10 CGNAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 IETF
        || (o[0] == 198 && (18..=19).contains(&o[1])) // benchmarking
        || o[0] >= 240) // reserved
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] & 0xe000) != 0x2000) // outside 2000::/3 global unicast
}
