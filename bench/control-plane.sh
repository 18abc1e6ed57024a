#!/usr/bin/env bash
# Control plane under device traffic: operator write latency while devices post /stats and check
# for updates, and update-check throughput, for this build and (optionally) a baseline binary,
# measured in the same run on the same machine. See BENCHMARKS.md.
#
#   bench/control-plane.sh                          # this build only
#   BASELINE_BIN=/path/to/old/landfall bench/control-plane.sh
#
# Knobs (environment):
#   CHECK_DURATION=10s  length of each update-check throughput run (no other load)
#   CONNS=64            connections for the update-check throughput runs
#   STATS_CONNS=8       connections posting /stats during the loaded phase
#   LOAD_CHECK_CONNS=8  connections checking for updates during the loaded phase
#   ROLLBACKS=200 MOVES=100 KILLS=20   operator actions in the loaded phase
#   SKIP_BUILD=1        use the existing target/release/landfall
#
# Everything listens on 127.0.0.1 and stops by itself; results go to bench/results/control-plane.md.
set -euo pipefail

CHECK_DURATION="${CHECK_DURATION:-10s}"
CONNS="${CONNS:-64}"
STATS_CONNS="${STATS_CONNS:-8}"
LOAD_CHECK_CONNS="${LOAD_CHECK_CONNS:-8}"
ROLLBACKS="${ROLLBACKS:-200}"
MOVES="${MOVES:-100}"
KILLS="${KILLS:-20}"
APP=com.example.capgovector
TOKEN=bench-admin-token-0123456789abcdef0123456789

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$BENCH_DIR" rev-parse --show-toplevel)"
WRK_SCRIPTS="$ROOT/../shared/bench"
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
for tool in wrk curl python3; do
  if ! command -v "$tool" >/dev/null; then
    log "installing $tool (apt-get)"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"
  fi
done
[ -f "$WRK_SCRIPTS/post-updates-rotate.lua" ] || die "wrk scripts not found at $WRK_SCRIPTS"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building landfall (release)"
  (cd "$ROOT" && cargo build --release --locked -p landfall >&2)
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CURRENT_BIN="$TARGET_DIR/release/landfall"
[ -x "$CURRENT_BIN" ] || die "no binary at $CURRENT_BIN"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/landfall-cp.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Three small bundles (index.html + app.js), one zip per version.
for v in 1.0.1 1.0.2 1.0.3; do
  python3 - "$TMP/$v.zip" "$v" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("index.html", f"<html><body>{sys.argv[2]}</body></html>")
    z.writestr("app.js", "CapacitorUpdater.notifyAppReady()")
PY
done

api() { # METHOD PATH [JSON] -> prints "HTTP_CODE TIME_S"
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X "$method" "$URL/api/v1$path" \
      -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$body"
  else
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X "$method" "$URL/api/v1$path" \
      -H "authorization: Bearer $TOKEN"
  fi
}

measure() { # NAME BIN
  local name=$1 bin=$2 port data out
  port=$(free_port); data="$TMP/$name-data"; out="$TMP/$name"; mkdir -p "$out"
  URL="http://127.0.0.1:$port"
  LANDFALL_ADMIN_TOKEN=$TOKEN LANDFALL_LOG=warn "$bin" serve --listen "127.0.0.1:$port" \
    --data-dir "$data" >"$out/server.log" 2>&1 &
  local server=$!; PIDS+=("$server")
  for _ in $(seq 100); do curl -sf "$URL/updates" >/dev/null && break; sleep 0.1; done
  curl -sf "$URL/updates" >/dev/null || die "$name: server did not start ($(cat "$out/server.log"))"

  api POST /apps "{\"app_id\":\"$APP\"}" >/dev/null
  for v in 1.0.1 1.0.2 1.0.3; do
    curl -s -o /dev/null -X POST "$URL/api/v1/apps/$APP/bundles?version=$v&channel=production" \
      -H "authorization: Bearer $TOKEN" -H 'content-type: application/zip' --data-binary "@$TMP/$v.zip"
  done
  api PATCH "/apps/$APP/channels/production" '{"bundle":"1.0.1"}' >/dev/null
  for c in beta c1 c2 c3 c4 c5; do
    api POST "/apps/$APP/channels" "{\"name\":\"$c\",\"bundle\":\"1.0.1\"}" >/dev/null
  done
  local incident
  incident=$(curl -s -X POST "$URL/api/v1/apps/$APP/icp/incidents" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d '{"title":"bench","severity":"high"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

  log "$name: update-check throughput, no other load ($CHECK_DURATION, $CONNS connections)"
  wrk -t2 -c"$CONNS" -d"$CHECK_DURATION" --latency -s "$WRK_SCRIPTS/post-updates-rotate.lua" \
    "$URL/updates" >"$out/checks-idle.txt"

  log "$name: operator actions while devices post /stats and check for updates"
  APP_ID=$APP wrk -t1 -c"$STATS_CONNS" -d120s -s "$BENCH_DIR/post-stats.lua" "$URL/stats" \
    >"$out/stats-load.txt" 2>&1 &
  local wrk_stats=$!; PIDS+=("$wrk_stats")
  wrk -t1 -c"$LOAD_CHECK_CONNS" -d120s -s "$WRK_SCRIPTS/post-updates-rotate.lua" "$URL/updates" \
    >"$out/checks-load.txt" 2>&1 &
  local wrk_checks=$!; PIDS+=("$wrk_checks")
  sleep 2
  local t0 t1 i channels=(production beta c1 c2 c3 c4 c5)
  t0=$(date +%s.%N)
  : >"$out/ops.txt"
  for i in $(seq "$ROLLBACKS"); do
    echo "rollback $(api POST "/apps/$APP/channels/${channels[i % 7]}/rollback" '{"to":"1.0.2"}')" >>"$out/ops.txt"
    if [ "$i" -le "$MOVES" ]; then
      echo "channel_set $(api PATCH "/apps/$APP/channels/${channels[i % 7]}" '{"bundle":"1.0.3"}')" >>"$out/ops.txt"
    fi
    if [ "$i" -le "$KILLS" ]; then
      echo "kill_switch $(api POST "/apps/$APP/icp/incidents/$incident/kill-switch" '{"target":"1.0.1","note":"bench"}')" >>"$out/ops.txt"
    fi
  done
  t1=$(date +%s.%N)
  # Stats posts during the operator phase: count rows stored is not exposed, so take wrk's rate.
  kill -INT "$wrk_stats" "$wrk_checks" 2>/dev/null || true
  wait "$wrk_stats" "$wrk_checks" 2>/dev/null || true
  kill "$server"; wait "$server" 2>/dev/null || true
  python3 - "$name" "$out" "$t0" "$t1" >>"$TMP/summary.md" <<'PY'
import re, sys, statistics
name, out, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
def rps(path):
    m = re.search(r"Requests/sec:\s+([\d.]+)", open(path).read())
    return float(m.group(1)) if m else float("nan")
ops = {}
for line in open(f"{out}/ops.txt"):
    kind, code, t = line.split()
    ops.setdefault(kind, []).append((int(code), float(t) * 1000))
print(f"### {name}\n")
print(f"- update checks, no other load: **{rps(out + '/checks-idle.txt'):,.0f} req/s**")
print(f"- during the operator phase ({t1 - t0:.1f} s): /stats posts {rps(out + '/stats-load.txt'):,.0f}/s "
      f"(2 events each), update checks {rps(out + '/checks-load.txt'):,.0f}/s\n")
print("| action | n | failed | p50 ms | p99 ms | max ms | failure codes |")
print("|---|---|---|---|---|---|---|")
for kind, v in ops.items():
    times = sorted(t for _, t in v)
    fails = [c for c, _ in v if not 200 <= c < 300]
    p = lambda q: times[min(len(times) - 1, round((len(times) - 1) * q))]
    codes = ", ".join(f"{c}×{fails.count(c)}" for c in sorted(set(fails))) or "-"
    print(f"| {kind} | {len(v)} | {len(fails)} | {p(0.5):.1f} | {p(0.99):.1f} | {max(times):.1f} | {codes} |")
print()
PY
}

{
  echo "## Control plane under device traffic — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} >"$TMP/summary.md"
if [ -n "${BASELINE_BIN:-}" ]; then
  measure baseline "$BASELINE_BIN"
fi
measure current "$CURRENT_BIN"
cp "$TMP/summary.md" "$RESULTS/control-plane.md"
cat "$RESULTS/control-plane.md"
