#!/usr/bin/env bash
# Landfall benchmark: update checks and bundle downloads against an nginx static-file baseline,
# measured in the same run with the same load tool (wrk). See BENCHMARKS.md for what and why.
#
#   bench/run.sh
#
# Knobs (environment):
#   RUNS=2            full repetitions (each: nginx JSON, Landfall checks, nginx 5 MB, Landfall 5 MB)
#   DURATION=15s      length of each timed wrk run
#   CONNS=256         connections for the update checks / static JSON
#   DL_CONNS=16       connections for the 5 MB downloads
#   CHECK_DURATION=5s length of the CHECK_BODY=1 correctness runs
#   NGINX_WORKERS=2   worker_processes of the baseline nginx
#   SKIP_BUILD=1      do not run cargo build (use the existing target/release/landfall)
#   LANDFALL_ENV="K=V ..."  extra environment for `landfall serve` only (e.g. MALLOC_ARENA_MAX=2)
#   NGINX_ONLY=1      only start nginx with a placeholder JSON and a 5 MB file, measure it, and stop
#
# Writes bench/results/latest.json (+ latest.md, and raw wrk outputs in bench/results/last-run/).
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

RUNS="${RUNS:-2}"
DURATION="${DURATION:-15s}"
CONNS="${CONNS:-256}"
DL_CONNS="${DL_CONNS:-16}"
CHECK_DURATION="${CHECK_DURATION:-5s}"
NGINX_WORKERS="${NGINX_WORKERS:-2}"
DL_BYTES=$((5 * 1024 * 1024))
APP=com.example.capgovector
DL_APP=com.example.benchdownload

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$BENCH_DIR" rev-parse --show-toplevel)"
SHARED="$ROOT/../shared"
WRK_SCRIPTS="$SHARED/bench"
DIST="$SHARED/reference/capgo-vectors/dist"
RESULTS="$ROOT/bench/results"
WORK="$RESULTS/last-run"

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# --- tools -------------------------------------------------------------------------------------
PATH="$PATH:/usr/sbin:/sbin"
ensure_tools wrk nginx curl python3
[ -d "$WRK_SCRIPTS" ] || die "wrk scripts not found at $WRK_SCRIPTS"

# --- scratch space and cleanup ------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/landfall-bench.XXXXXX")"
chmod 755 "$TMP"  # nginx workers may run as another user and must reach the web root
LF_PID="" NGINX_PID="" SAMPLER_PID=""
cleanup() {
  set +e
  for pid in "$SAMPLER_PID" "$LF_PID" "$NGINX_PID"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  for pid in "$SAMPLER_PID" "$LF_PID" "$NGINX_PID"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK" "$TMP/www" "$TMP/nginx" "$TMP/data"
: >"$WORK/phases.tsv"
: >"$WORK/checks.tsv"
: >"$WORK/rss.log"

# --- nginx baseline -----------------------------------------------------------------------------
NGINX_PORT="$(free_port)"
# One timed wrk run against one server; appends to phases.tsv.
#   phase RUN KIND SERVER URL [wrk args...]
phase() {
  local run="$1" kind="$2" server="$3" url="$4"
  shift 4
  local out="$WORK/run$run-$kind-$server.txt" before after
  local -a pids
  if [ "$server" = nginx ]; then pids=("${NGINX_WORKER_PIDS[@]}"); else pids=("$LF_PID"); fi
  log "run $run: $kind on $server: wrk $* $url"
  local load wall_user_sys
  load="$(cut -d' ' -f1 /proc/loadavg)"
  before="$(cpu_ticks "${pids[@]}")"
  # bash's `time` gives wrk's own wall/user/sys seconds (the client shares the cores).
  wall_user_sys="$({ TIMEFORMAT='%R %U %S'; time wrk "$@" "$url" >"$out"; } 2>&1)"
  after="$(cpu_ticks "${pids[@]}")"
  grep -E 'Requests/sec|Transfer/sec|requests in| 99%|Non-2xx|Socket errors' "$out" | sed 's/^/    /' >&2
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$kind" "$server" "$out" "$((after - before))" \
    "$wall_user_sys" "$load" >>"$WORK/phases.tsv"
  sleep 2
}

if [ "${NGINX_ONLY:-0}" = 1 ]; then
  printf '{"version":"1.0.1","url":"http://127.0.0.1/blobs/x","session_key":"","checksum":"x"}' >"$TMP/www/updates.json"
  make_payload "$TMP/www/bundle.zip"
  start_nginx
  phase 1 json nginx "http://127.0.0.1:$NGINX_PORT/updates.json" -t1 -c"$CONNS" -d"$DURATION" --latency
  phase 1 download nginx "http://127.0.0.1:$NGINX_PORT/bundle.zip" -t1 -c"$DL_CONNS" -d"$DURATION" --latency
  cat "$WORK/phases.tsv"
  exit 0
fi

# --- Landfall -----------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p landfall"
  (cd "$ROOT" && cargo build --release -p landfall)
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/landfall"
[ -x "$BIN" ] || die "no binary at $BIN"

LF_PORT="$(free_port)"
LF_URL="http://127.0.0.1:$LF_PORT"
TOKEN="$(python3 -c 'import secrets; print("lf_bench_" + secrets.token_hex(24))')"
read -ra EXTRA_ENV <<<"${LANDFALL_ENV:-}"
env "${EXTRA_ENV[@]}" LANDFALL_ADMIN_TOKEN="$TOKEN" LANDFALL_LOG=warn \
  "$BIN" serve --listen "127.0.0.1:$LF_PORT" --data-dir "$TMP/data" >"$WORK/landfall.log" 2>&1 &
LF_PID=$!
wait_http "$LF_URL/healthz"
log "landfall on $LF_URL (pid $LF_PID)"

# VmRSS of the landfall process every 0.5 s from now until the end.
(
  while [ -r "/proc/$LF_PID/status" ]; do
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$LF_PID/status" 2>/dev/null || true)"
    [ -n "$rss" ] && printf '%(%s)T %s\n' -1 "$rss" >>"$WORK/rss.log"
    sleep 0.5
  done
) &
SAMPLER_PID=$!

lf() { LANDFALL_URL="$LF_URL" LANDFALL_TOKEN="$TOKEN" "$BIN" "$@"; }

log "seeding $APP: bundle 1.0.1 on production (public), beta and staging"
lf app create "$APP" >/dev/null
lf bundle upload "$APP" "$DIST" --version 1.0.1 --channel production --json >"$WORK/upload-$APP.json"
lf channel create "$APP" beta --bundle 1.0.1 --allow-device-self-set >/dev/null
lf channel create "$APP" staging --bundle 1.0.1 --allow-device-self-set >/dev/null

log "seeding $DL_APP: a 5 MiB bundle (index.html + incompressible payload) as 1.0.1 on production"
mkdir -p "$TMP/dl-dist"
printf '<!doctype html><html><body>landfall bench download</body></html>\n' >"$TMP/dl-dist/index.html"
make_payload "$TMP/dl-dist/payload.bin"
lf app create "$DL_APP" >/dev/null
lf bundle upload "$DL_APP" "$TMP/dl-dist" --version 1.0.1 --channel production --json >"$WORK/upload-$DL_APP.json"

PROBE_DEVICE=00000000-0000-4000-8000-00000000be0c  # the one device the set-up checks use
post_updates() { # app channel
  curl -fsS -H 'Content-Type: application/json' --data "$(check_body "$1" "$2" "$PROBE_DEVICE")" "$LF_URL/updates"
}

# The static JSON nginx serves is Landfall's own answer to a public-channel device: same bytes.
post_updates "$APP" "" >"$TMP/www/updates.json"
for ch in "" beta staging; do
  v="$(post_updates "$APP" "$ch" | json_field version)"
  [ "$v" = 1.0.1 ] || die "channel '${ch:-<public>}' answers version $v, not 1.0.1"
done
JSON_BYTES="$(stat -c %s "$TMP/www/updates.json")"

# The download: the URL Landfall itself hands out, and the very same bytes for nginx.
DL_URL="$(post_updates "$DL_APP" "" | json_field url)"
case "$DL_URL" in "$LF_URL"/blobs/*) ;; *) die "unexpected download URL $DL_URL" ;; esac
curl -fsS -o "$TMP/www/bundle.zip" "$DL_URL"
DL_SHA="$(sha256sum "$TMP/www/bundle.zip" | cut -d' ' -f1)"
[ "${DL_URL##*/}" = "$DL_SHA" ] || die "blob $DL_URL does not hash to its name ($DL_SHA)"
DL_SIZE="$(stat -c %s "$TMP/www/bundle.zip")"
log "download: $DL_URL ($DL_SIZE bytes); update answer $JSON_BYTES bytes"

start_nginx
[ "$(curl -fsS "http://127.0.0.1:$NGINX_PORT/bundle.zip" | sha256sum | cut -d' ' -f1)" = "$DL_SHA" ] ||
  die "nginx serves different bytes"

# --- correctness (CHECK_BODY=1, also warms the server and the device table) ----------------------
for script in "$WRK_SCRIPTS/post-updates-rotate.lua" "$BENCH_DIR/post-updates-3channels.lua"; do
  name="$(basename "$script" .lua)"
  out="$WORK/check-$name.txt"
  log "correctness: CHECK_BODY=1 $name ($CHECK_DURATION)"
  CHECK_BODY=1 wrk -t1 -c"$CONNS" -d"$CHECK_DURATION" --latency -s "$script" "$LF_URL/updates" >"$out"
  grep 'body check' "$out" | sed 's/^/    /' >&2
  printf '%s\t%s\n' "$name.lua" "$out" >>"$WORK/checks.tsv"
  sleep 2
done
wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$NGINX_PORT/updates.json" >/dev/null  # warm nginx too
sleep 1

# --- timed runs ---------------------------------------------------------------------------------
for run in $(seq 1 "$RUNS"); do
  phase "$run" json nginx "http://127.0.0.1:$NGINX_PORT/updates.json" \
    -t1 -c"$CONNS" -d"$DURATION" --latency
  phase "$run" json landfall "$LF_URL/updates" \
    -t1 -c"$CONNS" -d"$DURATION" --latency -s "$BENCH_DIR/post-updates-3channels.lua"
  phase "$run" download nginx "http://127.0.0.1:$NGINX_PORT/bundle.zip" \
    -t1 -c"$DL_CONNS" -d"$DURATION" --latency
  phase "$run" download landfall "$DL_URL" \
    -t1 -c"$DL_CONNS" -d"$DURATION" --latency
done
sleep 1.5  # the device recorder flushes every second
DEVICES="$(python3 - "$TMP/data/landfall.db" "$APP" "$PROBE_DEVICE" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = db.execute("SELECT channel, count(*) FROM devices WHERE app_id = ? AND device_id != ? "
                  "GROUP BY channel ORDER BY channel", (sys.argv[2], sys.argv[3])).fetchall()
print(json.dumps(dict(rows)))
EOF
)" || DEVICES='"unknown"'
log "devices recorded for $APP: $DEVICES"

# --- facts and summary --------------------------------------------------------------------------
GIT_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  GIT_COMMIT="$GIT_COMMIT+dirty"
fi
export_machine_facts
BM_LANDFALL="$("$BIN" --version 2>/dev/null || echo landfall)"
export BM_LANDFALL BM_COMMIT="$GIT_COMMIT" BM_DEVICES="$DEVICES"
export BM_DURATION="$DURATION" BM_CONNS="$CONNS" BM_DL_CONNS="$DL_CONNS" BM_WORKERS="$NGINX_WORKERS"
export BM_LANDFALL_ENV="${LANDFALL_ENV:-}"
export BM_JSON_BYTES="$JSON_BYTES" BM_DL_SIZE="$DL_SIZE" BM_DL_URL_PATH="/blobs/$DL_SHA" BM_RUNS="$RUNS"
python3 - "$WORK/meta.json" <<'EOF'
import json, os, sys
e = os.environ
json.dump({
    "date_utc": e["BM_DATE"], "nproc": int(e["BM_NPROC"]), "cpu_model": e["BM_CPU"],
    "kernel": e["BM_KERNEL"], "hypervisor": e["BM_HYPERVISOR"] or None, "memory": e["BM_MEM"], "wrk_version": e["BM_WRK"], "nginx_version": e["BM_NGINX"],
    "landfall_version": e["BM_LANDFALL"], "git_commit": e["BM_COMMIT"], "clk_tck": int(e["BM_CLK"]),
    "runs": int(e["BM_RUNS"]), "duration": e["BM_DURATION"], "json_connections": int(e["BM_CONNS"]),
    "download_connections": int(e["BM_DL_CONNS"]), "nginx_workers": int(e["BM_WORKERS"]),
    "json_bytes": int(e["BM_JSON_BYTES"]), "download_bytes": int(e["BM_DL_SIZE"]),
    "download_path": e["BM_DL_URL_PATH"], "devices_recorded_by_channel": json.loads(e["BM_DEVICES"]),
    "landfall_extra_env": e["BM_LANDFALL_ENV"], "wrk_threads": 1, "update_check_script": "bench/post-updates-3channels.lua",
}, open(sys.argv[1], "w"), indent=2)
EOF
python3 "$BENCH_DIR/summarize.py" "$WORK" "$RESULTS/latest.json" | tee "$RESULTS/latest.md"
log "wrote $RESULTS/latest.json and $RESULTS/latest.md"
