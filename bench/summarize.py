#!/usr/bin/env python3
"""Turn the raw outputs of bench/run.sh into bench/results/latest.json and a Markdown table.

Usage: summarize.py WORK_DIR OUT_JSON

WORK_DIR holds what run.sh wrote:
  meta.json          machine / tool / setup facts
  phases.tsv         run  kind  server  wrk_output_file  cpu_ticks   (one line per timed wrk run)
  checks.tsv         script  wrk_output_file                          (CHECK_BODY runs)
  rss.log            epoch_seconds  vmrss_kib                         (landfall, every 0.5 s)
"""

import json
import re
import sys
from pathlib import Path

UNITS_TIME = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
UNITS_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}

# Targets of the issue.
T_RPS_RATIO = 0.50  # update checks >= 50 % of nginx's static-JSON requests/s
T_P99_MS = 10.0  # p99 < 10 ms at 256 connections
T_CPU_RATIO = 3.0  # CPU per 1,000 checks within 3x nginx's
T_DL_RATIO = 0.80  # downloads >= 80 % of nginx's throughput
T_RSS_BYTES = 100_000_000  # RSS < 100 MB


def ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not m:
        raise ValueError(f"unparsed duration {value!r}")
    return float(m.group(1)) * UNITS_TIME[m.group(2)]


def nbytes(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(B|KB|MB|GB|TB)", value.strip())
    if not m:
        raise ValueError(f"unparsed size {value!r}")
    return float(m.group(1)) * UNITS_BYTES[m.group(2)]


def parse_wrk(text: str) -> dict:
    out: dict = {}
    m = re.search(r"(\d+) threads and (\d+) connections", text)
    out["threads"], out["connections"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", text)
    out["requests"] = int(m.group(1))
    out["duration_s"] = ms(m.group(2)) / 1000.0
    out["bytes_read"] = nbytes(m.group(3))
    out["requests_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    out["transfer_per_s_bytes"] = nbytes(re.search(r"Transfer/sec:\s+([\d.]+\w+)", text).group(1))
    m = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", text)
    out["latency_avg_ms"], out["latency_max_ms"] = ms(m.group(1)), ms(m.group(3))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+\w+)", text, re.M)
        out[f"latency_p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()))) if m else None
    )
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"body check: (\d+) replies name 1\.0\.1, (\d+) do not", text)
    if m:
        out["body_check"] = {"ok": int(m.group(1)), "bad": int(m.group(2))}
    return out


def fmt(v, nd=1):
    return "—" if v is None else f"{v:,.{nd}f}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> int:
    work, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads((work / "meta.json").read_text())
    clk_tck = meta["clk_tck"]
    blob_size = meta["download_bytes"]

    runs: dict = {}
    for line in (work / "phases.tsv").read_text().splitlines():
        run, kind, server, wrk_file, ticks, wrk_time, load = line.split("\t")
        w = parse_wrk(Path(wrk_file).read_text())
        wall, user, sys_ = map(float, wrk_time.split())
        w["wrk_cpu_s"] = user + sys_
        w["wrk_wall_s"] = wall
        w["loadavg_1m_before"] = float(load)
        cpu_s = int(ticks) / clk_tck
        w["server_cpu_s"] = cpu_s
        w["server_cpu_ms_per_1000"] = cpu_s * 1000.0 / w["requests"] * 1000.0 if w["requests"] else None
        if kind == "download":
            w["payload_mb_per_s"] = w["requests_per_s"] * blob_size / 1e6
        runs.setdefault(int(run), {}).setdefault(kind, {})[server] = w

    rss = []
    for line in (work / "rss.log").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            rss.append(int(parts[1]))
    rss_max_bytes = max(rss) * 1024 if rss else None

    checks = []
    if (work / "checks.tsv").exists():
        for line in (work / "checks.tsv").read_text().splitlines():
            script, wrk_file = line.split("\t")
            w = parse_wrk(Path(wrk_file).read_text())
            checks.append({"script": script, **w})

    results = []
    for run in sorted(runs):
        j, d = runs[run]["json"], runs[run]["download"]
        lj, nj, ld, nd = j["landfall"], j["nginx"], d["landfall"], d["nginx"]
        r = {
            "run": run,
            "checks": {"landfall": lj, "nginx": nj},
            "download": {"landfall": ld, "nginx": nd},
            "ratios": {
                "checks_rps_vs_nginx": lj["requests_per_s"] / nj["requests_per_s"],
                "checks_cpu_per_1000_vs_nginx": lj["server_cpu_ms_per_1000"]
                / nj["server_cpu_ms_per_1000"],
                "download_throughput_vs_nginx": ld["requests_per_s"] / nd["requests_per_s"],
                "download_cpu_per_1000_vs_nginx": ld["server_cpu_ms_per_1000"]
                / nd["server_cpu_ms_per_1000"],
            },
        }
        r["targets"] = {
            "checks_rps_ge_50pct": r["ratios"]["checks_rps_vs_nginx"] >= T_RPS_RATIO,
            "checks_p99_lt_10ms": lj["latency_p99_ms"] < T_P99_MS,
            "checks_cpu_within_3x": r["ratios"]["checks_cpu_per_1000_vs_nginx"] <= T_CPU_RATIO,
            "download_ge_80pct": r["ratios"]["download_throughput_vs_nginx"] >= T_DL_RATIO,
            "no_errors": all(
                x["non_2xx_3xx"] == 0 and not any((x["socket_errors"] or {}).values())
                for x in (lj, ld)
            ),
        }
        results.append(r)

    doc = {
        "meta": meta,
        "runs": results,
        "correctness": checks,
        "landfall_rss_max_bytes": rss_max_bytes,
        "landfall_rss_samples": len(rss),
        "rss_target_met": rss_max_bytes is not None and rss_max_bytes < T_RSS_BYTES,
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(doc, indent=2) + "\n")

    # Markdown.
    p = print
    p(f"Date (UTC): {meta['date_utc']} · commit `{meta['git_commit']}` · {meta['cpu_model']} · "
      f"{meta.get('hypervisor') or 'bare metal'} guest · nproc {meta['nproc']} · {meta.get('memory')} · kernel {meta['kernel']} · {meta['wrk_version']} · {meta['nginx_version']}")
    p()
    p(f"Update checks: `wrk -t1 -c{meta['json_connections']} -d{meta['duration']} --latency`; "
      f"Landfall `POST /updates` (10,000 devices over 3 channels) vs nginx `GET /updates.json` "
      f"({meta['json_bytes']} B, same body). Downloads: `wrk -t1 -c{meta['download_connections']} "
      f"-d{meta['duration']}`; {blob_size:,} B zip from `/blobs/<sha256>` vs nginx static file.")
    if meta.get("landfall_extra_env"):
        p()
        p(f"Extra environment for `landfall serve`: `{meta['landfall_extra_env']}`.")
    p()
    p("| run | measure | nginx | Landfall | Landfall / nginx | target | met? |")
    p("|---|---|---:|---:|---:|---|---|")
    for r in results:
        n = r["run"]
        lj, nj = r["checks"]["landfall"], r["checks"]["nginx"]
        ld, nd = r["download"]["landfall"], r["download"]["nginx"]
        ra, t = r["ratios"], r["targets"]
        p(f"| {n} | checks/s (c=256) | {fmt(nj['requests_per_s'], 0)} | {fmt(lj['requests_per_s'], 0)} | "
          f"{ra['checks_rps_vs_nginx']:.0%} | ≥ 50% | {yes(t['checks_rps_ge_50pct'])} |")
        p(f"| {n} | check latency p50 / p99 | {fmt(nj['latency_p50_ms'], 2)} / {fmt(nj['latency_p99_ms'], 2)} ms | "
          f"{fmt(lj['latency_p50_ms'], 2)} / {fmt(lj['latency_p99_ms'], 2)} ms | | p99 < 10 ms | "
          f"{yes(t['checks_p99_lt_10ms'])} |")
        p(f"| {n} | server CPU per 1,000 checks | {fmt(nj['server_cpu_ms_per_1000'])} ms | "
          f"{fmt(lj['server_cpu_ms_per_1000'])} ms | {ra['checks_cpu_per_1000_vs_nginx']:.2f}× | ≤ 3× | "
          f"{yes(t['checks_cpu_within_3x'])} |")
        p(f"| {n} | 5 MB downloads/s (c={meta['download_connections']}) | {fmt(nd['requests_per_s'])} "
          f"({fmt(nd['payload_mb_per_s'], 0)} MB/s) | {fmt(ld['requests_per_s'])} "
          f"({fmt(ld['payload_mb_per_s'], 0)} MB/s) | {ra['download_throughput_vs_nginx']:.0%} | ≥ 80% | "
          f"{yes(t['download_ge_80pct'])} |")
        p(f"| {n} | server CPU per 1,000 downloads | {fmt(nd['server_cpu_ms_per_1000'], 0)} ms | "
          f"{fmt(ld['server_cpu_ms_per_1000'], 0)} ms | {ra['download_cpu_per_1000_vs_nginx']:.2f}× | (info) | |")
        errs = "none" if t["no_errors"] else "**see latest.json**"
        p(f"| {n} | Landfall errors (non-2xx, socket) | | {errs} | | none | {yes(t['no_errors'])} |")
    if rss_max_bytes is not None:
        p(f"| all | Landfall max RSS ({len(rss)} samples, every 0.5 s) | | {rss_max_bytes / 1e6:.1f} MB | | "
          f"< 100 MB | {yes(doc['rss_target_met'])} |")
    p()
    loads = [x["loadavg_1m_before"] for r in runs.values() for k in r.values() for x in k.values()]
    p(f"- Load average (1 min) before the timed runs: {min(loads):.2f}–{max(loads):.2f} "
      f"(2 cores; > 2 means other work on the machine competed with the benchmark).")
    for r in results:
        lj, ld = r["checks"]["landfall"], r["download"]["landfall"]
        p(f"- Run {r['run']}: wrk itself used {lj['wrk_cpu_s'] / lj['wrk_wall_s']:.0%} of a core during the "
          f"Landfall checks, {ld['wrk_cpu_s'] / ld['wrk_wall_s']:.0%} during the Landfall downloads.")
    dev = meta.get("devices_recorded_by_channel")
    if isinstance(dev, dict):
        named = ", ".join(f"{k or '(none)'}: {v:,}" for k, v in dev.items())
        p(f"- Devices recorded for the app after the runs, by channel: {named} "
          f"(total {sum(dev.values()):,}).")
    if checks:
        for c in checks:
            bc = c.get("body_check", {})
            p(f"- CHECK_BODY=1 `{c['script']}` ({c['duration_s']:.0f} s, c={c['connections']}): "
              f"{bc.get('ok', '?'):,} replies name 1.0.1, {bc.get('bad', '?')} do not "
              f"({c['requests_per_s']:,.0f} req/s with the response hook on)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
