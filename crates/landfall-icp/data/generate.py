#!/usr/bin/env python3
"""Generate the data files embedded in landfall-icp.

Stdlib only. Two sub-commands:

  holidays  -> cn-workdays.json   (Chinese statutory holidays + make-up working days)
  ip        -> mainland-ip.txt    (mainland-China IPv4/IPv6 ranges, HK/MO/TW excluded)

See README.md in this folder for the exact package versions and commands.
"""
import argparse
import bisect
import csv
import datetime as dt
import ipaddress
import json
import os
import struct
import sys

FIRST_YEAR, LAST_YEAR = 2004, 2026

# chinese-days labels each date "English,中文,days"; map its Chinese names to the
# canonical names we ship (zh, en).
NAMES = {
    "元旦": ("元旦", "New Year's Day"),
    "春节": ("春节", "Spring Festival"),
    "清明": ("清明节", "Tomb-Sweeping Day"),
    "劳动节": ("劳动节", "Labour Day"),
    "端午": ("端午节", "Dragon Boat Festival"),
    "中秋": ("中秋节", "Mid-Autumn Festival"),
    "国庆节": ("国庆节", "National Day"),
    "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日": ("抗战胜利70周年纪念日", "Victory Day (70th anniversary)"),
}


def parse_date(s):
    return dt.date.fromisoformat(s)


def notice_year(d, zh_name):
    """Late-December New-Year adjustments are made by the *next* year's notice."""
    if d.month == 12 and zh_name == "元旦":
        return d.year + 1
    return d.year


def load_chinese_days(root):
    """Read chinese-days dist/years/<year>.json -> {notice_year: {name: {"off": set, "work": set}}}."""
    notices = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        path = os.path.join(root, "dist", "years", f"{year}.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for key, kind in (("holidays", "off"), ("workdays", "work")):
            for date_s, label in doc[key].items():
                d = parse_date(date_s)
                if d.year != year:
                    sys.exit(f"{path}: {date_s} is not in {year}")
                parts = label.split(",")
                if len(parts) != 3 or parts[1] not in NAMES:
                    sys.exit(f"{path}: unexpected label {label!r}; extend NAMES")
                name = NAMES[parts[1]][0]
                ny = notice_year(d, name)
                groups = notices.setdefault(ny, {})
                groups.setdefault(name, {"off": set(), "work": set()})[kind].add(d)
    return notices


def check_year(year, groups):
    """Apply the same rules the Rust loader enforces, so a bad source fails here first."""
    seen = {}
    for name, g in groups.items():
        for kind in ("off", "work"):
            for d in g[kind]:
                in_year = d.year == year
                late_prev_dec = d.year == year - 1 and d.month == 12 and d.day >= 25
                if not (in_year or late_prev_dec):
                    sys.exit(f"{year}: {d} is outside the notice year window")
                if d in seen:
                    sys.exit(f"{year}: {d} listed twice ({seen[d]} and {name}/{kind})")
                seen[d] = f"{name}/{kind}"
                if kind == "work" and d.weekday() < 5:
                    sys.exit(f"{year}: make-up working day {d} is not a weekend day")


def cross_check_chinese_calendar(wheel_dir, merged):
    """Compare the effective working-day status of every date with PyPI chinese-calendar."""
    sys.path.insert(0, wheel_dir)
    import chinese_calendar  # noqa: E402  (MIT, independent dataset)

    mismatches = 0
    d = dt.date(FIRST_YEAR, 1, 1)
    # chinese-calendar refuses dates after 2026-12-25 (late December needs the next notice).
    while d <= dt.date(LAST_YEAR, 12, 25):
        kind = merged.get(d)
        ours = kind == "work" or (kind is None and d.weekday() < 5)
        if ours != chinese_calendar.is_workday(d):
            mismatches += 1
            print(f"cross-check {d}: ours working={ours}, chinese-calendar={not ours}", file=sys.stderr)
        d += dt.timedelta(days=1)
    return mismatches


def cmd_holidays(args):
    notices = load_chinese_days(args.chinese_days)
    years = []
    merged = {}  # date -> kind
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        groups = notices.get(year, {})
        if not groups:
            sys.exit(f"no data for {year}")
        check_year(year, groups)
        out_groups = []
        for name in sorted(groups, key=lambda n: min(groups[n]["off"] | groups[n]["work"])):
            g = groups[name]
            en = next(en for zh, en in NAMES.values() if zh == name)
            out_groups.append({
                "name": name,
                "name_en": en,
                "off": [d.isoformat() for d in sorted(g["off"])],
                "work": [d.isoformat() for d in sorted(g["work"])],
            })
            for d in g["off"]:
                merged[d] = "off"
            for d in g["work"]:
                merged[d] = "work"
        years.append({"year": year, "holidays": out_groups})
    extra = sorted(y for y in notices if y > LAST_YEAR or y < FIRST_YEAR)
    if extra:
        print(f"note: dates for notice years {extra} ignored (outside {FIRST_YEAR}-{LAST_YEAR})", file=sys.stderr)
    if args.chinese_calendar:
        bad = cross_check_chinese_calendar(args.chinese_calendar, merged)
        if bad:
            sys.exit(f"{bad} dates disagree with chinese-calendar; refusing to write")
        print("cross-check against chinese-calendar: every date 2004-01-01..2026-12-25 agrees", file=sys.stderr)
    doc = {
        "format": "landfall-cn-workdays/1",
        "source": args.source_note,
        "years": years,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        # One year per line keeps diffs readable and the file small.
        f.write("{\n")
        f.write(f'  "format": {json.dumps(doc["format"])},\n')
        f.write(f'  "source": {json.dumps(doc["source"], ensure_ascii=False)},\n')
        f.write('  "years": [\n')
        for i, y in enumerate(years):
            sep = "," if i + 1 < len(years) else ""
            f.write("    " + json.dumps(y, ensure_ascii=False, separators=(",", ":")) + sep + "\n")
        f.write("  ]\n}\n")
    print(f"wrote {args.out}: {len(years)} years", file=sys.stderr)


# ---------------------------------------------------------------- IP ranges

EXCLUDED_PROVINCES = {"香港", "澳门", "台湾省", "台湾"}


def read_ip2region_v1(path):
    """Yield (start, end, region) from an ip2region v1 '.db' file.

    Layout: 8-byte super block (first/last index block offset, u32 LE); index blocks of
    12 bytes (start ip, end ip, data pointer = len << 24 | offset); data = 4-byte city id
    followed by the UTF-8 text 国家|区域|省份|城市|ISP.
    """
    with open(path, "rb") as f:
        buf = f.read()
    first, last = struct.unpack_from("<II", buf, 0)
    if first <= 0 or last < first or (last - first) % 12:
        sys.exit(f"{path}: not an ip2region v1 db")
    cache = {}
    for pos in range(first, last + 1, 12):
        start, end, ptr = struct.unpack_from("<III", buf, pos)
        length, offset = (ptr >> 24) & 0xFF, ptr & 0xFFFFFF
        if offset not in cache:
            cache[offset] = buf[offset + 4: offset + length].decode("utf-8")
        yield start, end, cache[offset]


def merge(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1] + 1:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return out


def subtract(ranges, minus):
    """ranges - minus, both merged and sorted."""
    out = []
    j = 0
    for s, e in ranges:
        cur = s
        while j < len(minus) and minus[j][1] < cur:
            j += 1
        k = j
        while k < len(minus) and minus[k][0] <= e:
            ms, me = minus[k]
            if ms > cur:
                out.append([cur, ms - 1])
            cur = max(cur, me + 1)
            k += 1
        if cur <= e:
            out.append([cur, e])
    return out


def fmt(family, value):
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def cmd_ip(args):
    mainland4, unknown4 = [], []
    rows = 0
    for start, end, region in read_ip2region_v1(args.ip2region_db):
        rows += 1
        fields = region.split("|")
        if len(fields) != 5:
            sys.exit(f"unexpected region record {region!r}")
        country, _area, province, _city, _isp = fields
        if country != "中国" or province in EXCLUDED_PROVINCES:
            continue
        if province == "0":
            # "China, province unknown": cannot tell mainland from HK/MO/TW -> Unknown.
            unknown4.append((start, end))
        else:
            mainland4.append((start, end))
    mainland4 = merge(mainland4)
    unknown4 = subtract(merge(unknown4), mainland4)

    mainland6 = []
    with open(args.asn_country_v6, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) != 3:
                continue
            if row[2] == "CN":  # HK, MO and TW carry their own ISO codes
                mainland6.append((int(ipaddress.IPv6Address(row[0])), int(ipaddress.IPv6Address(row[1]))))
    mainland6 = merge(mainland6)

    with open(args.out, "w", encoding="utf-8") as f:
        f.write("# landfall mainland-China IP ranges (format landfall-ip-ranges/1)\n")
        f.write("# One inclusive range per line: START-END, a CIDR block, or a single address.\n")
        f.write("# A leading '?' marks ranges whose location is uncertain (classified as Unknown).\n")
        f.write("# Addresses of a family with no ranges at all are Unknown; otherwise unlisted = not mainland.\n")
        for line in args.note or []:
            f.write(f"# {line}\n")
        f.write(f"# IPv4: {len(mainland4)} mainland ranges, {len(unknown4)} uncertain ranges\n")
        for s, e in mainland4:
            f.write(f"{fmt(4, s)}-{fmt(4, e)}\n")
        for s, e in unknown4:
            f.write(f"?{fmt(4, s)}-{fmt(4, e)}\n")
        f.write(f"# IPv6: {len(mainland6)} mainland ranges\n")
        for s, e in mainland6:
            f.write(f"{fmt(6, s)}-{fmt(6, e)}\n")
    print(f"read {rows} ip2region rows; wrote {args.out}: v4 {len(mainland4)} (+{len(unknown4)} uncertain), "
          f"v6 {len(mainland6)}", file=sys.stderr)

    # Spot checks (the Rust tests repeat them against the embedded file).
    def contains(ranges, value):
        i = bisect.bisect_right([r[0] for r in ranges], value) - 1
        return i >= 0 and ranges[i][0] <= value <= ranges[i][1]

    for ip, want in (("114.114.114.114", True), ("223.5.5.5", True), ("119.29.29.29", True),
                     ("47.75.0.1", False), ("8.8.8.8", False)):
        got = contains(mainland4, int(ipaddress.IPv4Address(ip)))
        if got != want:
            sys.exit(f"spot check failed: {ip} mainland={got}, expected {want}")
    for ip, want in (("240e::1", True), ("2400:3200::1", True), ("2001:4860:4860::8888", False)):
        got = contains(mainland6, int(ipaddress.IPv6Address(ip)))
        if got != want:
            sys.exit(f"spot check failed: {ip} mainland={got}, expected {want}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("holidays")
    h.add_argument("--chinese-days", required=True, help="unpacked npm chinese-days package dir")
    h.add_argument("--chinese-calendar", help="unpacked PyPI chinese-calendar wheel dir (cross-check)")
    h.add_argument("--source-note", required=True)
    h.add_argument("--out", required=True)
    h.set_defaults(func=cmd_holidays)
    i = sub.add_parser("ip")
    i.add_argument("--ip2region-db", required=True, help="ip2region v1 .db (npm ip2region data/ip2region.db)")
    i.add_argument("--asn-country-v6", required=True, help="asn-country-ipv6.csv from npm @ip-location-db/asn-country")
    i.add_argument("--note", action="append", help="extra comment line for the file header")
    i.add_argument("--out", required=True)
    i.set_defaults(func=cmd_ip)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
