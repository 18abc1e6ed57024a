#!/usr/bin/env bash
# Landfall scale-out benchmark (issue 9): update checks on SQLite, on PostgreSQL, and on two
# instances sharing one PostgreSQL database and one S3 bucket (Garage); 5 MB downloads streamed from
# local disk and from Garage. Every number has an nginx static-file baseline measured in the same
# round, with the same load tool (wrk). See BENCHMARKS.md, "Scale-out".
#
#   bench/scale-out.sh
#
# Knobs (environment):
#   ROUNDS=2          full repetitions, each interleaving every measurement below
#   DURATION=10s      length of each timed wrk run
#   CONNS=256         connections for update checks / static JSON (split in half over 2 wrk
#                     processes for the two-instance run and its nginx control)
#   DL_CONNS=16       connections for the 5 MB downloads
#   CHECK_DURATION=3s length of the CHECK_BODY=1 correctness / warm-up runs (one per instance)
#   PAUSE=2           seconds of rest between timed runs
#   NGINX_WORKERS=2   worker_processes of the baseline nginx
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres   where a fresh database is created
#                     (and dropped on exit); no query string
#   SKIP_BUILD=1      do not run cargo build (use the existing release binary)
#
# Processes: nginx; landfall "sqlite" (SQLite + blobs on disk); landfall "pg-a" and "pg-b" (one
# PostgreSQL database, blobs in one Garage bucket prefix, --download proxy, own --data-dir each);
# a fresh single-node Garage (scripts/setup-garage.sh) in the scratch directory. All listen on
# 127.0.0.1 only and all are stopped on exit; the database is dropped and the scratch dir removed.
# Writes bench/results/scale-out.{json,md} and the raw wrk outputs in bench/results/scale-out-run/.
set -euo pipefail

ROUNDS="${ROUNDS:-2}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-256}"
DL_CONNS="${DL_CONNS:-16}"
CHECK_DURATION="${CHECK_DURATION:-3s}"
PAUSE="${PAUSE:-2}"
NGINX_WORKERS="${NGINX_WORKERS:-2}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DL_BYTES=$((5 * 1024 * 1024))
APP=com.example.capgovector
DL_APP=com.example.benchdownload
PROBE_DEVICE=00000000-0000-4000-8000-00000000be0c

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$BENCH_DIR" rev-parse --show-toplevel)"
SHARED="$ROOT/../shared"
WRK_SCRIPTS="$SHARED/bench"
DIST="$SHARED/reference/capgo-vectors/dist"
CHECK_SCRIPT="$BENCH_DIR/post-updates-3channels.lua"
RESULTS="$ROOT/bench/results"
WORK="$RESULTS/scale-out-run"

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

PATH="$PATH:/usr/sbin:/sbin"
ensure_tools wrk nginx curl python3 psql
[ -f "$WRK_SCRIPTS/post-updates-rotate.lua" ] || die "wrk scripts not found at $WRK_SCRIPTS"
[ -d "$DIST" ] || die "capgo vectors not found at $DIST"
[ "$((CONNS % 2))" = 0 ] || die "CONNS must be even (it is split over two wrk processes)"

# --- scratch space and cleanup ------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/landfall-scale.XXXXXX")"
chmod 755 "$TMP"  # nginx workers may run as another user and must reach the web root
DB="landfall_bench_scale_$$_$(date +%s)"
PG_BASE="${PG_ADMIN_URL%/*}"
PG_URL="$PG_BASE/$DB"
DB_CREATED=0 NGINX_PID="" GARAGE_PID=""
declare -A LF_PID=() LF_URL=()
cleanup() {
  set +e
  local pid
  for pid in "${LF_PID[@]}" "$NGINX_PID" "$GARAGE_PID"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  for pid in "${LF_PID[@]}" "$NGINX_PID"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
  done
  if [ -n "$GARAGE_PID" ]; then  # not our child (setup-garage.sh started it): poll until gone
    for _ in $(seq 1 50); do kill -0 "$GARAGE_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ "$DB_CREATED" = 1 ]; then
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop database $DB"
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK" "$TMP/www"
: >"$WORK/phases.tsv"
: >"$WORK/checks.tsv"

# --- Landfall build, PostgreSQL, Garage ---------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p landfall"
  (cd "$ROOT" && cargo build --release -p landfall)
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/landfall"
[ -x "$BIN" ] || die "no binary at $BIN"

log "PostgreSQL: creating database $DB at ${PG_BASE#*@}"
psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1

log "Garage: starting a fresh single node (scripts/setup-garage.sh)"
eval "$(bash "$ROOT/scripts/setup-garage.sh" "$TMP/garage")"
GARAGE_PID="$LANDFALL_GARAGE_PID"
S3_BUCKET="${LANDFALL_TEST_S3%%\?*}" S3_QUERY="${LANDFALL_TEST_S3#*\?}"
BLOBS_S3="$S3_BUCKET/bench-scale-$$?$S3_QUERY"
log "Garage pid $GARAGE_PID, blobs at $BLOBS_S3"

# --- three Landfall instances -------------------------------------------------------------------
TOKEN="$(python3 -c 'import secrets; print("lf_bench_" + secrets.token_hex(24))')"
start_landfall() { # name serve-args...
  local name="$1" port
  shift
  port="$(free_port)"
  mkdir -p "$TMP/$name"
  LANDFALL_ADMIN_TOKEN="$TOKEN" LANDFALL_LOG=warn \
    "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$TMP/$name" "$@" >"$WORK/landfall-$name.log" 2>&1 &
  LF_PID[$name]=$!
  LF_URL[$name]="http://127.0.0.1:$port"
  wait_http "${LF_URL[$name]}/healthz"
  log "landfall $name on ${LF_URL[$name]} (pid ${LF_PID[$name]}): $*"
}
start_landfall sqlite
start_landfall pg-a --database "$PG_URL" --blobs "$BLOBS_S3" --download proxy
start_landfall pg-b --database "$PG_URL" --blobs "$BLOBS_S3" --download proxy

lf() { # instance args...
  local name="$1"
  shift
  LANDFALL_URL="${LF_URL[$name]}" LANDFALL_TOKEN="$TOKEN" "$BIN" "$@"
}
post_updates() { # instance app channel
  curl -fsS -H 'Content-Type: application/json' --data "$(check_body "$2" "$3" "$PROBE_DEVICE")" \
    "${LF_URL[$1]}/updates"
}

# The same catalog on the SQLite instance and (through pg-a only) on the PostgreSQL pair.
mkdir -p "$TMP/dl-dist"
printf '<!doctype html><html><body>landfall bench download</body></html>\n' >"$TMP/dl-dist/index.html"
make_payload "$TMP/dl-dist/payload.bin"
for inst in sqlite pg-a; do
  log "seeding through $inst: $APP (1.0.1 on production, beta, staging) and $DL_APP (5 MiB bundle)"
  lf "$inst" app create "$APP" >/dev/null
  lf "$inst" bundle upload "$APP" "$DIST" --version 1.0.1 --channel production --json >"$WORK/upload-$inst-$APP.json"
  lf "$inst" channel create "$APP" beta --bundle 1.0.1 --allow-device-self-set >/dev/null
  lf "$inst" channel create "$APP" staging --bundle 1.0.1 --allow-device-self-set >/dev/null
  lf "$inst" app create "$DL_APP" >/dev/null
  lf "$inst" bundle upload "$DL_APP" "$TMP/dl-dist" --version 1.0.1 --channel production --json \
    >"$WORK/upload-$inst-$DL_APP.json"
done

# pg-b learns the catalog from the change feed (every 250 ms); wait for it.
for _ in $(seq 1 50); do
  v="$(post_updates pg-b "$DL_APP" "" | json_field version 2>/dev/null || true)"
  [ "$v" = 1.0.1 ] && break
  sleep 0.2
done
for inst in sqlite pg-a pg-b; do
  for ch in "" beta staging; do
    v="$(post_updates "$inst" "$APP" "$ch" | json_field version)"
    [ "$v" = 1.0.1 ] || die "$inst: channel '${ch:-<public>}' answers version $v, not 1.0.1"
  done
done

# nginx's static JSON is Landfall's own answer to a public-channel device (same bytes as run.sh).
post_updates sqlite "$APP" "" >"$TMP/www/updates.json"
JSON_BYTES="$(stat -c %s "$TMP/www/updates.json")"

# The download URL each instance hands out; all must be the same blob, with the same bytes as nginx.
declare -A DL_URL=()
for inst in sqlite pg-a pg-b; do
  DL_URL[$inst]="$(post_updates "$inst" "$DL_APP" "" | json_field url)"
  case "${DL_URL[$inst]}" in "${LF_URL[$inst]}"/blobs/*) ;; *) die "$inst: unexpected download URL ${DL_URL[$inst]}" ;; esac
done
curl -fsS -o "$TMP/www/bundle.zip" "${DL_URL[sqlite]}"
DL_SHA="$(sha256sum "$TMP/www/bundle.zip" | cut -d' ' -f1)"
DL_SIZE="$(stat -c %s "$TMP/www/bundle.zip")"
for inst in sqlite pg-a pg-b; do
  [ "${DL_URL[$inst]##*/}" = "$DL_SHA" ] || die "$inst hands out ${DL_URL[$inst]}, not blob $DL_SHA"
  [ "$(curl -fsS "${DL_URL[$inst]}" | sha256sum | cut -d' ' -f1)" = "$DL_SHA" ] ||
    die "$inst serves different bytes for $DL_SHA"
done
log "download: /blobs/$DL_SHA ($DL_SIZE bytes, same from all three instances); update answer $JSON_BYTES bytes"

NGINX_PORT="$(free_port)"
start_nginx
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
[ "$(curl -fsS "$NGINX_URL/bundle.zip" | sha256sum | cut -d' ' -f1)" = "$DL_SHA" ] || die "nginx serves different bytes"

# --- measuring ----------------------------------------------------------------------------------
# PostgreSQL backends serving the bench database (pid ticks), for CPU deltas.
pg_snapshot() { # file
  local file="$1" pid ticks
  : >"$file"
  for pid in $(psql -tA "$PG_ADMIN_URL" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
    ticks="$(cpu_ticks "$pid" 2>/dev/null)" || continue  # the backend may have just exited
    printf '%s %s\n' "$pid" "$ticks" >>"$file"
  done
}
# Delta over backends alive at the end (new backends count from 0; a backend that exited during
# the run loses its share, which only happens if the pool closes connections).
pg_delta() { # before after
  awk 'NR == FNR { b[$1] = $2; next } { d += $2 - (($1 in b) ? b[$1] : 0) } END { print d + 0 }' "$1" "$2"
}

# One timed measurement: one wrk per URL, all started together, CONNS split evenly over them.
#   phase ROUND KIND TARGET "SERVER PIDS" CONNS SCRIPT|- URL...
# Appends: round kind target n_wrk wrk_files server_ticks garage_ticks pg_ticks wrk_cpu_s load
phase() {
  local round="$1" kind="$2" target="$3" pids="$4" conns="$5" script="$6"
  shift 6
  local n=$# i=0 url each before after g_before g_after load wrk_cpu=0 files=""
  local -a sargs=() wpids=() server_pids
  read -ra server_pids <<<"$pids"
  each=$((conns / n))
  [ "$script" != - ] && sargs=(-s "$script")
  log "round $round: $kind on $target: $n × wrk -t1 -c$each -d$DURATION"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  pg_snapshot "$TMP/pg-before"
  before="$(cpu_ticks "${server_pids[@]}")"
  g_before="$(cpu_ticks "$GARAGE_PID")"
  for url in "$@"; do
    i=$((i + 1))
    local out="$WORK/r$round-$kind-$target-$i.txt"
    files="$files${files:+,}$out"
    (
      TIMEFORMAT='%U %S'
      { time wrk -t1 -c"$each" -d"$DURATION" --latency "${sargs[@]}" "$url" >"$out"; } 2>"$out.time"
    ) &
    wpids+=($!)
  done
  wait "${wpids[@]}"
  after="$(cpu_ticks "${server_pids[@]}")"
  g_after="$(cpu_ticks "$GARAGE_PID")"
  pg_snapshot "$TMP/pg-after"
  log "  ($(wc -l <"$TMP/pg-after") PostgreSQL backends on $DB)"
  for out in ${files//,/ }; do
    wrk_cpu="$(tail -n1 "$out.time" | awk -v acc="$wrk_cpu" '{ print acc + $1 + $2 }')"
    grep -E 'Requests/sec|Transfer/sec| 99%|Non-2xx|Socket errors' "$out" | sed 's/^/    /' >&2
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kind" "$target" "$n" "$files" \
    "$((after - before))" "$((g_after - g_before))" "$(pg_delta "$TMP/pg-before" "$TMP/pg-after")" \
    "$wrk_cpu" "$load" >>"$WORK/phases.tsv"
  sleep "$PAUSE"
}

# --- correctness and warm-up (CHECK_BODY=1 against each instance) -------------------------------
for inst in sqlite pg-a pg-b; do
  out="$WORK/check-$inst.txt"
  log "correctness: CHECK_BODY=1 post-updates-3channels on $inst ($CHECK_DURATION)"
  CHECK_BODY=1 wrk -t1 -c"$CONNS" -d"$CHECK_DURATION" --latency -s "$CHECK_SCRIPT" "${LF_URL[$inst]}/updates" >"$out"
  grep 'body check' "$out" | sed 's/^/    /' >&2
  printf '%s\t%s\n' "$inst" "$out" >>"$WORK/checks.tsv"
done
wrk -t1 -c"$CONNS" -d3s "$NGINX_URL/updates.json" >/dev/null  # warm nginx too
wrk -t1 -c"$DL_CONNS" -d2s "${DL_URL[pg-a]}" >/dev/null         # and the bucket path
sleep "$PAUSE"

# --- timed rounds -------------------------------------------------------------------------------
T0="$(date +%s)"
NG="${NGINX_WORKER_PIDS[*]}"
HALF=$((CONNS / 2))
for round in $(seq 1 "$ROUNDS"); do
  phase "$round" json nginx "$NG" "$CONNS" - "$NGINX_URL/updates.json"
  phase "$round" json sqlite "${LF_PID[sqlite]}" "$CONNS" "$CHECK_SCRIPT" "${LF_URL[sqlite]}/updates"
  phase "$round" json pg "${LF_PID[pg-a]}" "$CONNS" "$CHECK_SCRIPT" "${LF_URL[pg-a]}/updates"
  phase "$round" json pg-x2 "${LF_PID[pg-a]} ${LF_PID[pg-b]}" "$CONNS" "$CHECK_SCRIPT" \
    "${LF_URL[pg-a]}/updates" "${LF_URL[pg-b]}/updates"
  phase "$round" json nginx-x2 "$NG" "$CONNS" - "$NGINX_URL/updates.json" "$NGINX_URL/updates.json"
  phase "$round" download nginx "$NG" "$DL_CONNS" - "$NGINX_URL/bundle.zip"
  phase "$round" download disk "${LF_PID[sqlite]}" "$DL_CONNS" - "${DL_URL[sqlite]}"
  phase "$round" download garage "${LF_PID[pg-a]}" "$DL_CONNS" - "${DL_URL[pg-a]}"
done
T1="$(date +%s)"
log "timed rounds took $((T1 - T0)) s; $HALF connections per wrk in the x2 runs"

# Devices recorded by the PostgreSQL pair (both instances write the same 10,000 devices).
sleep 1.5
DEVICES="$(psql -tA "$PG_URL" -c "SELECT count(*) FROM devices WHERE app_id = '$APP' AND device_id <> '$PROBE_DEVICE'" 2>/dev/null || echo unknown)"
log "devices recorded for $APP in PostgreSQL: $DEVICES"

# --- facts and summary --------------------------------------------------------------------------
GIT_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  GIT_COMMIT="$GIT_COMMIT+dirty"
fi
export_machine_facts
BM_LANDFALL="$("$BIN" --version 2>/dev/null || echo landfall)"
BM_PG="$(psql -tA "$PG_ADMIN_URL" -c 'SHOW server_version' 2>/dev/null || echo unknown)"
BM_GARAGE="$(awk -F= '/^GARAGE_VERSION=/ {print $2}' "$ROOT/scripts/setup-garage.sh")"
export BM_LANDFALL BM_PG BM_GARAGE BM_COMMIT="$GIT_COMMIT" BM_DEVICES="$DEVICES"
export BM_ROUNDS="$ROUNDS" BM_DURATION="$DURATION" BM_CONNS="$CONNS" BM_DL_CONNS="$DL_CONNS"
export BM_WORKERS="$NGINX_WORKERS" BM_JSON_BYTES="$JSON_BYTES" BM_DL_SIZE="$DL_SIZE"
export BM_TIMED_S="$((T1 - T0))"
python3 "$BENCH_DIR/summarize-scale-out.py" "$WORK" "$RESULTS/scale-out.json" | tee "$RESULTS/scale-out.md"
log "wrote $RESULTS/scale-out.json and $RESULTS/scale-out.md"
