#!/usr/bin/env python3
"""Turn the raw outputs of bench/scale-out.sh into bench/results/scale-out.json and Markdown tables.

Usage: summarize-scale-out.py WORK_DIR OUT_JSON   (machine facts come from BM_* environment variables)

WORK_DIR/phases.tsv, one line per timed measurement:
  round kind target n_wrk wrk_files(,) server_ticks garage_ticks pg_ticks wrk_cpu_s loadavg_1m
WORK_DIR/checks.tsv: instance wrk_file (CHECK_BODY=1 runs).
"""

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from summarize import parse_wrk  # noqa: E402  (same wrk parser as bench/run.sh's summary)

CHECK_LABELS = {
    "nginx": "nginx static JSON, 1 wrk",
    "sqlite": "Landfall, SQLite",
    "pg": "Landfall, PostgreSQL",
    "pg-x2": "2 × Landfall, PostgreSQL + bucket",
    "nginx-x2": "nginx static JSON, 2 wrk (control)",
}
DL_LABELS = {
    "nginx": "nginx static file",
    "disk": "Landfall ← local disk",
    "garage": "Landfall ← Garage (proxy)",
}


def fmt(v, nd=1):
    return "—" if v is None else f"{v:,.{nd}f}"


def pct(a, b):
    return f"{100.0 * a / b:.0f}%" if a is not None and b else "—"


def times(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "—"


def main() -> int:
    work, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    e = os.environ
    clk = int(e["BM_CLK"])
    blob = int(e["BM_DL_SIZE"])
    rows = []
    for line in (work / "phases.tsv").read_text().splitlines():
        rnd, kind, target, n, files, s_t, g_t, pg_t, wrk_cpu, load = line.split("\t")
        ws = [parse_wrk(Path(f).read_text()) for f in files.split(",")]
        req = sum(w["requests"] for w in ws)
        r = {
            "round": int(rnd), "kind": kind, "target": target, "wrk_processes": int(n),
            "connections": sum(w["connections"] for w in ws),
            "requests": req,
            "requests_per_s": sum(w["requests_per_s"] for w in ws),
            "bytes_per_s": sum(w["transfer_per_s_bytes"] for w in ws),
            "latency_p50_ms_max": max(w["latency_p50_ms"] or 0 for w in ws),
            "latency_p99_ms_max": max(w["latency_p99_ms"] or 0 for w in ws),
            "non_2xx": sum(w["non_2xx_3xx"] for w in ws),
            "socket_errors": sum(sum((w["socket_errors"] or {}).values()) for w in ws),
            "server_cpu_s": int(s_t) / clk, "garage_cpu_s": int(g_t) / clk, "pg_cpu_s": int(pg_t) / clk,
            "wrk_cpu_s": float(wrk_cpu), "duration_s": max(w["duration_s"] for w in ws),
            "loadavg_1m_before": float(load), "per_wrk": ws,
        }
        per = 1000.0 if kind == "json" else 1.0  # CPU ms per 1,000 checks / per download
        for key in ("server", "garage", "pg"):
            r[f"{key}_cpu_ms_per_{'1000' if kind == 'json' else 'download'}"] = (
                r[f"{key}_cpu_s"] * 1000.0 * per / req if req else None)
        if kind == "download":
            r["payload_mb_per_s"] = r["requests_per_s"] * blob / 1e6
        r["wrk_cpu_share_of_core"] = r["wrk_cpu_s"] / r["duration_s"] if r["duration_s"] else None
        rows.append(r)

    by = {(r["round"], r["kind"], r["target"]): r for r in rows}
    rounds = sorted({r["round"] for r in rows})
    checks = []
    for line in (work / "checks.tsv").read_text().splitlines():
        inst, f = line.split("\t")
        w = parse_wrk(Path(f).read_text())
        checks.append({"instance": inst, **w})

    out = []
    p = out.append
    p(f"Date (UTC): {e['BM_DATE']} · commit `{e['BM_COMMIT']}` · {e['BM_CPU']} · "
      f"{e.get('BM_HYPERVISOR') or 'bare metal?'} guest · nproc {e['BM_NPROC']} · {e['BM_MEM']} · "
      f"kernel {e['BM_KERNEL']} · {e['BM_WRK']} · {e['BM_NGINX']} · PostgreSQL {e['BM_PG']} · "
      f"Garage {e['BM_GARAGE']} · {e['BM_LANDFALL']}")
    p("")
    p(f"{e['BM_ROUNDS']} rounds × 8 timed runs of {e['BM_DURATION']} each ({e['BM_TIMED_S']} s in all, "
      f"with pauses); checks at {e['BM_CONNS']} connections, downloads ({blob:,} B) at {e['BM_DL_CONNS']}.")
    p("")
    p("Update checks (`POST /updates`, 10,000 devices over 3 channels; nginx: `GET /updates.json`, "
      f"{e['BM_JSON_BYTES']} B, the same answer). Server CPU = utime+stime of the server process(es); "
      "\"+ PG\" adds the PostgreSQL backends connected to the bench database.")
    p("")
    p("| round | target | wrk × conns | checks/s | % of nginx | p50 / p99 ms | server CPU ms / 1,000 | + PG | CPU × nginx | errors | load 1m |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for rnd in rounds:
        base = by.get((rnd, "json", "nginx"))
        for t in ("nginx", "sqlite", "pg", "pg-x2", "nginx-x2"):
            r = by.get((rnd, "json", t))
            if not r:
                continue
            cpu = r["server_cpu_ms_per_1000"]
            cpu_all = cpu + (r["pg_cpu_ms_per_1000"] or 0)
            err = "none" if r["non_2xx"] + r["socket_errors"] == 0 else f"{r['non_2xx']} non-2xx, {r['socket_errors']} socket"
            p(f"| {rnd} | {CHECK_LABELS[t]} | {r['wrk_processes']} × {r['connections'] // r['wrk_processes']} | "
              f"{fmt(r['requests_per_s'], 0)} | {pct(r['requests_per_s'], base['requests_per_s']) if t != 'nginx' else '100%'} | "
              f"{fmt(r['latency_p50_ms_max'], 2)} / {fmt(r['latency_p99_ms_max'], 2)} | {fmt(cpu)} | "
              f"{fmt(cpu_all) if t in ('pg', 'pg-x2') else '—'} | "
              f"{times(cpu_all, base['server_cpu_ms_per_1000']) if t != 'nginx' else '1×'} | {err} | "
              f"{r['loadavg_1m_before']:.2f} |")
    p("")
    p("5 MB downloads (`GET /blobs/<sha256>`; nginx: the same bytes as a static file, `sendfile on`). "
      "Garage's own CPU is measured separately (its one process) and added in \"total\".")
    p("")
    p("| round | target | downloads/s | MB/s | % of nginx | Landfall/nginx CPU ms / download | Garage CPU ms / download | total | CPU × nginx | p99 ms | errors | load 1m |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for rnd in rounds:
        base = by.get((rnd, "download", "nginx"))
        for t in ("nginx", "disk", "garage"):
            r = by.get((rnd, "download", t))
            if not r:
                continue
            s = r["server_cpu_ms_per_download"]
            g = r["garage_cpu_ms_per_download"] if t == "garage" else None
            tot = s + (g or 0)
            err = "none" if r["non_2xx"] + r["socket_errors"] == 0 else f"{r['non_2xx']} non-2xx, {r['socket_errors']} socket"
            p(f"| {rnd} | {DL_LABELS[t]} | {fmt(r['requests_per_s'])} | {fmt(r['payload_mb_per_s'], 0)} | "
              f"{pct(r['requests_per_s'], base['requests_per_s']) if t != 'nginx' else '100%'} | {fmt(s, 2)} | "
              f"{fmt(g, 2)} | {fmt(tot, 2)} | {times(tot, base['server_cpu_ms_per_download']) if t != 'nginx' else '1×'} | "
              f"{fmt(r['latency_p99_ms_max'], 1)} | {err} | {r['loadavg_1m_before']:.2f} |")
    p("")

    # Noise: how much the same nginx baseline moved between rounds, and the load it ran under.
    notes = []
    for kind, t, unit in (("json", "nginx", "checks/s"), ("json", "nginx-x2", "checks/s"), ("download", "nginx", "downloads/s")):
        v = [by[(rnd, kind, t)]["requests_per_s"] for rnd in rounds if (rnd, kind, t) in by]
        if len(v) > 1:
            notes.append(f"{t} {kind} {unit} {min(v):,.0f}–{max(v):,.0f} "
                         f"(spread {100.0 * (max(v) - min(v)) / statistics.mean(v):.0f}% of the mean)")
    for kind, t in (("json", "sqlite"), ("json", "pg"), ("json", "pg-x2"), ("download", "disk"), ("download", "garage")):
        base_t = "nginx"
        v = [by[(rnd, kind, t)]["requests_per_s"] / by[(rnd, kind, base_t)]["requests_per_s"]
             for rnd in rounds if (rnd, kind, t) in by and (rnd, kind, base_t) in by]
        if len(v) > 1:
            notes.append(f"{t} {kind} ratio {100 * min(v):.0f}–{100 * max(v):.0f}%")
    loads = [r["loadavg_1m_before"] for r in rows]
    p(f"- Noise across rounds: {'; '.join(notes)}.")
    p(f"- Load average (1 min) before each run: {min(loads):.2f}–{max(loads):.2f} on {e['BM_NPROC']} cores "
      "(above the core count means other work competed with the benchmark).")
    wrk_share = {t: statistics.mean(r["wrk_cpu_share_of_core"] for r in rows if r["target"] == t and r["kind"] == "json")
                 for t in ("nginx", "sqlite", "pg", "pg-x2", "nginx-x2")
                 if any(r["target"] == t and r["kind"] == "json" for r in rows)}
    p("- wrk's own CPU during the checks (cores, mean over rounds): "
      + ", ".join(f"{t} {v:.2f}" for t, v in wrk_share.items()) + ".")
    gj = [r["garage_cpu_s"] for r in rows if r["kind"] == "json"]
    p(f"- Garage CPU while idle (during the update-check runs): {max(gj) * 1000:.0f} ms per run at most.")
    p(f"- Devices recorded for the app in PostgreSQL after the runs: {e['BM_DEVICES']} (10,000 expected).")
    for c in checks:
        bc = c.get("body_check") or {}
        ok = f"{bc['ok']:,}" if "ok" in bc else "?"
        p(f"- CHECK_BODY=1 on {c['instance']}: {ok} replies name 1.0.1, {bc.get('bad', '?')} do not "
          f"({c['requests_per_s']:,.0f} req/s with the response hook on).")
    md = "\n".join(out)
    print(md)
    meta = {k[3:].lower(): v for k, v in e.items() if k.startswith("BM_")}
    out_json.write_text(json.dumps({"meta": meta, "runs": rows, "checks": checks}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
