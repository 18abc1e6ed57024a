#!/usr/bin/env python3
"""Summaries for bench/analytics.sh.

  summarize-analytics.py statements SERVER_LOG BACKEND LABEL   sqlx's per-statement times → TSV
  summarize-analytics.py report WORK_DIR OUT_JSON               Markdown on stdout, JSON to OUT_JSON

WORK_DIR holds (tab-separated, one line per measurement):
  meta.tsv        key value
  notes.tsv       what value
  ingest.tsv      backend round http  stored_events wrk_file server_ticks load1
                  backend round raw|raw_rows stored_events micros "" load1
  pages.tsv       backend binary page ms status bytes
  statements.tsv  backend binary statement ms
  checks.tsv      backend round alone|throttled|saturating checks_wrk_file stats_wrk_file server_ticks load1
"""

import json
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from summarize import parse_wrk  # noqa: E402  (the wrk parser of bench/run.sh's summary)

T_INGEST = 0.50  # /stats events/s >= 50 % of raw inserts
T_QUERY_MS = 300.0  # every dashboard query p95 < 300 ms
T_CHECKS = 0.05  # update checks within +-5 % with ingestion running
EVENTS_PER_REQUEST = 4


def quantile(xs, q):
    """Nearest-rank quantile."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, -(-int(q * len(s) * 1000) // 1000) - 1))]


def fmt(v, nd=0):
    return "—" if v is None else f"{v:,.{nd}f}"


def rows(path: Path):
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text().splitlines() if line.strip()]


# sqlx (target sqlx::query, debug) logs `db.statement="<SQL>" … elapsed_secs=1.2e-3` per statement.
STMT = re.compile(r'db\.statement="((?:[^"\\]|\\.)*)".*?elapsed_secs=([\d.e+-]+)')
# The change-feed poll (every 250 ms) is not part of any page.
SKIP = ("SELECT seq, app_id, device_id, channel_id FROM catalog_changes",)


def statements(log: str, backend: str, label: str) -> None:
    for line in Path(log).read_text(errors="replace").splitlines():
        m = STMT.search(line)
        if not m:
            continue
        sql = " ".join(m.group(1).replace("\\n", " ").split())
        if sql.startswith(SKIP):
            continue
        print(backend, label, sql, f"{float(m.group(2)) * 1000.0:.3f}", sep="\t")


def report(work: Path, out_json: Path) -> None:
    e = os.environ
    meta = dict(rows(work / "meta.tsv"))
    clk = int(meta.get("clk_tck", "100"))
    out = {"meta": meta, "notes": rows(work / "notes.tsv")}
    p = print

    p(f"## Release analytics (issue 10) — {meta.get('date', '?')}\n")
    p(f"Commit `{meta.get('commit')}` · {meta.get('cpu')} · nproc {meta.get('nproc')} · "
      f"{meta.get('memory')} · kernel {meta.get('kernel')} · {meta.get('wrk')} · "
      f"SQLite CLI {meta.get('sqlite3 CLI')} · PostgreSQL {meta.get('postgresql')}\n")

    # ---- part a
    ing = rows(work / "ingest.tsv")
    if ing:
        p("### a. `/stats` ingestion (durable acknowledgement) vs raw inserts\n")
        p(f"`wrk -t1 -c{e.get('BM_INGEST_CONNS')} -d{e.get('BM_INGEST_DURATION')}` posting "
          f"`bench/post-stats-installs.lua` ({EVENTS_PER_REQUEST} events per request; "
          f"{e.get('BM_APPS')} apps × {int(e.get('BM_NDEV', 0)):,} devices) to a fresh database; then the "
          "same number of the same events as raw SQL in one transaction into another fresh database "
          "with the same schema and fleet: **raw** = multi-row `INSERT` into `stats_events` + the "
          "rollups ingestion maintains (`installs` with its triggers, `stats_daily`), set-based; "
          "**rows only** = the `INSERT`s alone.\n")
        p("| backend | round | binary | events stored | /stats events/s | p50 / p99 ms | "
          "server CPU ms / 1,000 events | raw events/s | rows-only events/s | /stats ÷ raw | "
          "/stats ÷ rows only | load 1m |")
        p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        by = {}
        for r in ing:
            by.setdefault((r[0], int(r[1])), {})[r[2]] = r
        res = []
        ratio = lambda v: "—" if v is None else f"{100 * v:.0f} %"
        for (backend, rnd), k in sorted(by.items()):
            rate = {}
            for kind in ("raw", "raw_rows"):
                if kind in k:
                    rate[kind] = int(k[kind][3]) / (int(k[kind][4]) / 1e6)
            for label in ("baseline", "http"):
                h = k.get(label)
                if not h:
                    continue
                w = parse_wrk(Path(h[4]).read_text())
                acked = w["requests"] * EVENTS_PER_REQUEST
                eps = acked / w["duration_s"]
                cpu = int(h[5]) / clk * 1000.0 / (acked / 1000.0) if acked else None
                errors = w["non_2xx_3xx"] + sum((w["socket_errors"] or {}).values())
                d = {"backend": backend, "round": rnd, "binary": "baseline" if label == "baseline" else "current",
                     "acked_events": acked, "stored_events": int(h[3]),
                     "events_per_s": eps, "p50_ms": w["latency_p50_ms"], "p99_ms": w["latency_p99_ms"],
                     "errors": errors, "server_cpu_ms_per_1000": cpu,
                     "raw_events_per_s": rate.get("raw"), "rows_only_events_per_s": rate.get("raw_rows"),
                     "ratio_raw": eps / rate["raw"] if "raw" in rate else None,
                     "ratio_rows_only": eps / rate["raw_rows"] if "raw_rows" in rate else None,
                     "load": [h[6]] + [k[x][6] for x in ("raw", "raw_rows") if x in k]}
                res.append(d)
                p(f"| {backend} | {rnd} | {d['binary']} | {int(h[3]):,} | {fmt(eps)} | "
                  f"{fmt(w['latency_p50_ms'], 1)} / {fmt(w['latency_p99_ms'], 1)} | {fmt(cpu, 1)} | "
                  f"{fmt(rate.get('raw'))} | {fmt(rate.get('raw_rows'))} | {ratio(d['ratio_raw'])} | "
                  f"{ratio(d['ratio_rows_only'])} | {'/'.join(d['load'])} |")
                if errors or int(h[3]) < acked:
                    p(f"\n**{backend} round {rnd} {d['binary']}: {errors} errors, {int(h[3]):,} stored of "
                      f"{acked:,} acknowledged.**\n")
        out["ingest"] = res
        p()
        for backend in sorted({d["backend"] for d in res}):
            rs = [d["ratio_raw"] for d in res
                  if d["backend"] == backend and d["binary"] == "current" and d["ratio_raw"]]
            if rs:
                p(f"- {backend}: /stats reached {min(rs) * 100:.0f}–{max(rs) * 100:.0f} % of raw inserts "
                  f"(target ≥ {T_INGEST * 100:.0f} %: {'met' if min(rs) >= T_INGEST else '**not met**'}).")
        p()

    # ---- part b
    pages = rows(work / "pages.tsv")
    if pages:
        p(f"### b. Dashboard queries over {int(e.get('BM_SCALE_DEVICES', 0)):,} devices and "
          f"{10 * int(e.get('BM_SCALE_DEVICES', 0)):,} events\n")
        p(f"Each page GET {e.get('BM_QUERY_REPS')} times after one warm-up (round-robin over the pages, "
          "one keep-alive connection, time to the last byte); p50 / p95 / max in ms.\n")
        agg = {}
        size = {}
        for backend, binary, page, ms, status, n in pages:
            agg.setdefault((backend, binary, page), []).append(float(ms))
            size[(backend, binary, page)] = int(n)
        binaries = sorted({k[1] for k in agg}, key=lambda b: (b != "baseline", b))
        backends = sorted({k[0] for k in agg})
        names = list(dict.fromkeys(k[2] for k in agg))
        head = " | ".join(f"{b} {x}" for b in backends for x in binaries)
        p(f"| page | {head} |")
        p("|---|" + "---:|" * (len(backends) * len(binaries)))
        res = []
        for name in names:
            cells = []
            for b in backends:
                for x in binaries:
                    v = agg.get((b, x, name))
                    if not v:
                        cells.append("—")
                        continue
                    p50, p95 = quantile(v, 0.5), quantile(v, 0.95)
                    res.append({"backend": b, "binary": x, "page": name, "n": len(v), "p50_ms": p50,
                                "p95_ms": p95, "max_ms": max(v), "bytes": size[(b, x, name)]})
                    bad = p95 >= T_QUERY_MS
                    cells.append(f"{'**' if bad else ''}{p50:.1f} / {p95:.1f} / {max(v):.1f}{'**' if bad else ''}")
            p(f"| `{name}` | " + " | ".join(cells) + " |")
        out["pages"] = res
        p()
        for b in backends:
            for x in binaries:
                worst = max((r for r in res if r["backend"] == b and r["binary"] == x), key=lambda r: r["p95_ms"])
                p(f"- {b} {x}: slowest page `{worst['page']}` p95 {worst['p95_ms']:.1f} ms "
                  f"(target < {T_QUERY_MS:.0f} ms on every page: "
                  f"{'met' if worst['p95_ms'] < T_QUERY_MS else '**not met**'}).")
        p()
        st = rows(work / "statements.tsv")
        if st:
            p("Per SQL statement, as sqlx timed them inside the server during those requests "
              "(p50 / p95 / max ms, count):\n")
            sagg = {}
            for backend, binary, stmt, ms in st:
                sagg.setdefault((stmt, backend, binary), []).append(float(ms))
            stmts = list(dict.fromkeys(k[0] for k in sagg))
            p(f"| statement | {head} |")
            p("|---|" + "---:|" * (len(backends) * len(binaries)))
            sres = []
            for s in stmts:
                cells = []
                for b in backends:
                    for x in binaries:
                        v = sagg.get((s, b, x))
                        if not v:
                            cells.append("—")
                            continue
                        sres.append({"statement": s, "backend": b, "binary": x, "n": len(v),
                                     "p50_ms": quantile(v, 0.5), "p95_ms": quantile(v, 0.95), "max_ms": max(v)})
                        cells.append(f"{quantile(v, 0.5):.2f} / {quantile(v, 0.95):.2f} / {max(v):.1f} ({len(v)})")
                p(f"| `{s[:150]}{'…' if len(s) > 150 else ''}` | " + " | ".join(cells) + " |")
            out["statements"] = sres
            p()

    # ---- part c
    chk = rows(work / "checks.tsv")
    if chk:
        p("### c. Update checks with `/stats` ingestion running\n")
        p(f"`wrk -t1 -c{e.get('BM_CHECK_CONNS')} -d{e.get('BM_CHECK_DURATION')}` update checks "
          "(`shared/bench/post-updates-rotate.lua`, 10,000 devices) alone, and while a second wrk posts "
          f"`/stats` (`post-stats-installs.lua`, -c{e.get('BM_BG_CONNS')}): **throttled** = each "
          f"connection waits {e.get('BM_BG_DELAY_MS')} ms between requests, **saturating** = no wait. "
          "Order rotated per round.\n")
        p("| backend | round | load | checks/s | vs alone (same round) | p50 / p99 ms | /stats events/s alongside | "
          "server CPU s | load 1m |")
        p("|---|---|---|---:|---:|---:|---:|---:|---|")
        by = {}
        for r in chk:
            by.setdefault((r[0], int(r[1])), {})[r[2]] = r
        res = []
        for (backend, rnd), k in sorted(by.items()):
            alone = parse_wrk(Path(k["alone"][3]).read_text())["requests_per_s"] if "alone" in k else None
            for variant in ("alone", "throttled", "saturating"):
                if variant not in k:
                    continue
                r = k[variant]
                w = parse_wrk(Path(r[3]).read_text())
                s = parse_wrk(Path(r[4]).read_text()) if r[4] else None
                sev = s["requests"] * EVENTS_PER_REQUEST / s["duration_s"] if s else None
                rel = w["requests_per_s"] / alone if alone else None
                errors = w["non_2xx_3xx"] + sum((w["socket_errors"] or {}).values())
                res.append({"backend": backend, "round": rnd, "variant": variant,
                            "checks_per_s": w["requests_per_s"], "relative": rel,
                            "p50_ms": w["latency_p50_ms"], "p99_ms": w["latency_p99_ms"],
                            "stats_events_per_s": sev, "errors": errors,
                            "stats_p99_ms": s["latency_p99_ms"] if s else None,
                            "server_cpu_s": int(r[5]) / clk})
                p(f"| {backend} | {rnd} | {variant} | {fmt(w['requests_per_s'])} | "
                  f"{'—' if rel is None else f'{100 * (rel - 1):+.1f} %'} | {fmt(w['latency_p50_ms'], 2)} / "
                  f"{fmt(w['latency_p99_ms'], 2)} | {fmt(sev)} | {int(r[5]) / clk:.1f} | {r[6]} |")
                if errors:
                    p(f"\n**{backend} round {rnd} {variant}: {errors} errors.**\n")
        out["checks"] = res
        p()
        for backend in sorted({d["backend"] for d in res}):
            for variant in ("throttled", "saturating"):
                rs = [d["relative"] for d in res if d["backend"] == backend and d["variant"] == variant and d["relative"]]
                if rs:
                    ok = all(abs(x - 1) <= T_CHECKS for x in rs)
                    p(f"- {backend}, {variant}: {100 * (min(rs) - 1):+.1f} … {100 * (max(rs) - 1):+.1f} % "
                      f"against alone (target ± {T_CHECKS * 100:.0f} %: {'met' if ok else '**not met**'}).")
        p()

    notes = out["notes"]
    if notes:
        p("### Notes\n")
        for what, value in notes:
            p(f"- {what}: {value}")
        p()
    out_json.write_text(json.dumps(out, indent=2))


def main() -> None:
    if sys.argv[1] == "statements":
        statements(*sys.argv[2:5])
    else:
        report(Path(sys.argv[2]), Path(sys.argv[3]))


if __name__ == "__main__":
    main()
