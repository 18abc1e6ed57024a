#!/usr/bin/env bash
# Release analytics (issue 10): /stats ingestion against raw inserts, the dashboard's queries over
# 1,000,000 devices and 10,000,000 events, and update checks with ingestion running — on SQLite and
# PostgreSQL, every ratio measured in the same run. See BENCHMARKS.md, "Release analytics (issue 10)".
#
#   bench/analytics.sh                                  # everything, both databases
#   PARTS="ingest checks" BACKENDS=sqlite bench/analytics.sh
#   BASELINE_BIN=/path/to/old/landfall bench/analytics.sh   # part b also before/after (same data)
#
# Knobs (environment):
#   PARTS="ingest queries checks"  BACKENDS="sqlite postgres"  ROUNDS=3
#   part a  INGEST_DURATION=15s INGEST_CONNS=64 APPS=4 NDEV=50000 CHECK_REQUESTS=1000
#   part b  SCALE_DEVICES=1000000 (10 events each) QUERY_REPS=20
#   part c  CHECK_DURATION=10s CHECK_CONNS=64 BG_CONNS=8 BG_DELAY_MS=20
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  SKIP_BUILD=1  KEEP_WORK=1
#
# Everything listens on 127.0.0.1 and stops by itself; databases it creates are dropped on exit.
# Results: bench/results/analytics.md (+ analytics.json and the raw outputs in analytics-run/).
set -euo pipefail

PARTS="${PARTS:-ingest queries checks}"
BACKENDS="${BACKENDS:-sqlite postgres}"
ROUNDS="${ROUNDS:-3}"
INGEST_DURATION="${INGEST_DURATION:-15s}"
INGEST_CONNS="${INGEST_CONNS:-64}"
APPS="${APPS:-4}"
NDEV="${NDEV:-50000}"
CHECK_REQUESTS="${CHECK_REQUESTS:-1000}"
SCALE_DEVICES="${SCALE_DEVICES:-1000000}"
QUERY_REPS="${QUERY_REPS:-20}"
CHECK_DURATION="${CHECK_DURATION:-10s}"
CHECK_CONNS="${CHECK_CONNS:-64}"
BG_CONNS="${BG_CONNS:-8}"
BG_DELAY_MS="${BG_DELAY_MS:-20}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_BASE="${PG_ADMIN_URL%/*}"
SCALE_APP=com.example.analytics
CHECK_APP=com.example.capgovector

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$BENCH_DIR" rev-parse --show-toplevel)"
WRK_SCRIPTS="$ROOT/../shared/bench"
RESULTS="$ROOT/bench/results"
WORK="$RESULTS/analytics-run"
DATA="$BENCH_DIR/analytics_data.py"
STATS_LUA="$BENCH_DIR/post-stats-installs.lua"

. "$BENCH_DIR/lib.sh"

ensure_tools wrk curl python3 sqlite3 >&2
if ! command -v psql >/dev/null; then
  # The command is not the package's name.
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing postgresql-client (apt-get)"
  { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-client; } >&2
fi
[ -f "$WRK_SCRIPTS/post-updates-rotate.lua" ] || die "wrk scripts not found at $WRK_SCRIPTS"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p landfall"
  (cd "$ROOT" && cargo build --release --locked -p landfall >&2)
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/landfall"
[ -x "$BIN" ] || die "no binary at $BIN"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/landfall-analytics.XXXXXX")"
TOKEN="$(python3 -c 'import secrets; print("lf_bench_" + secrets.token_hex(24))')"
PG_DBS=()
SRV_PID="" SRV_URL=""
BG_PIDS=()
cleanup() {
  set +e
  local p
  for p in "${BG_PIDS[@]}" "$SRV_PID"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${BG_PIDS[@]}" "$SRV_PID"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
  for p in "${PG_DBS[@]}"; do
    psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $p WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop database $p"
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK"
: >"$WORK/ingest.tsv"
: >"$WORK/pages.tsv"
: >"$WORK/statements.tsv"
: >"$WORK/checks.tsv"
: >"$WORK/notes.tsv"
note() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/notes.tsv"; log "$1: $2"; }
now_ms() { date +%s%3N; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# ---- databases and servers ------------------------------------------------------------------
# new_db BACKEND NAME: a fresh, empty database; sets DB_ARGS (for serve/migrate), DB_URL (for
# analytics_data.py), DB_DIR (the data dir: the SQLite file, or blobs only on PostgreSQL).
new_db() {
  local backend=$1 name=$2
  DB_DIR="$TMP/$name"
  rm -rf "$DB_DIR"
  mkdir -p "$DB_DIR"
  if [ "$backend" = sqlite ]; then
    DB_ARGS=(--data-dir "$DB_DIR")
    DB_URL="sqlite://$DB_DIR/landfall.db"
  else
    local db="landfall_bench_an_$$_${name//-/_}"
    psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    PG_DBS+=("$db")
    DB_ARGS=(--data-dir "$DB_DIR" --database "$PG_BASE/$db")
    DB_URL="$PG_BASE/$db"
  fi
}
drop_db() {
  if [[ "$DB_URL" == sqlite://* ]]; then
    rm -rf "$DB_DIR"
  else
    psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS ${DB_URL##*/} WITH (FORCE)" >/dev/null
  fi
}
# dbq SQL: one value from the current database.
dbq() {
  if [[ "$DB_URL" == sqlite://* ]]; then
    sqlite3 -cmd '.timeout 10000' "${DB_URL#sqlite://}" "$1"
  else
    psql -X -At "$DB_URL" -c "$1"
  fi
}
# dbexec FILE: run a SQL file on the current database (the file holds its own transaction).
dbexec() {
  if [[ "$DB_URL" == sqlite://* ]]; then
    sqlite3 -bail -cmd '.timeout 10000' -cmd 'PRAGMA synchronous=FULL' \
      "${DB_URL#sqlite://}" <"$1" >/dev/null
  else
    psql -X -q -v ON_ERROR_STOP=1 -f "$1" "$DB_URL" >/dev/null
  fi
}
migrate() { # BIN
  "$1" migrate "${DB_ARGS[@]}" >/dev/null
}
start_server() { # NAME BIN [LOG_FILTER]
  local name=$1 bin=$2 filter=${3:-warn} port
  port="$(free_port)"
  SRV_URL="http://127.0.0.1:$port"
  LANDFALL_ADMIN_TOKEN="$TOKEN" LANDFALL_LOG="$filter" "$bin" serve --listen "127.0.0.1:$port" \
    "${DB_ARGS[@]}" >>"$WORK/server-$name.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 1 3000); do  # a new migration may build indexes over millions of rows
    curl -fsS -o /dev/null "$SRV_URL/healthz" 2>/dev/null && return 0
    kill -0 "$SRV_PID" 2>/dev/null || die "$name: server exited ($(tail -5 "$WORK/server-$name.log"))"
    sleep 0.2
  done
  die "$name: nothing answers at $SRV_URL"
}
stop_server() {
  kill "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}
api() { # METHOD PATH [JSON]
  local args=(-fsS -X "$1" "$SRV_URL/api/v1$2" -H "authorization: Bearer $TOKEN")
  [ $# -ge 3 ] && args+=(-H 'content-type: application/json' -d "$3")
  curl "${args[@]}"
}
upload() { # APP VERSION CHANNEL
  python3 - "$TMP/bundle.zip" "$2" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("index.html", f"<html><body>{sys.argv[2]}</body></html>")
    z.writestr("app.js", "CapacitorUpdater.notifyAppReady()")
PY
  curl -fsS -o /dev/null -X POST "$SRV_URL/api/v1/apps/$1/bundles?version=$2&channel=$3" \
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/zip' --data-binary "@$TMP/bundle.zip"
}
create_stats_apps() {
  local a
  for a in $(seq 0 $((APPS - 1))); do api POST /apps "{\"app_id\":\"com.example.stats$a\"}" >/dev/null; done
}
server_ticks() { cpu_ticks "$SRV_PID"; }

export_machine_facts
{
  echo "date	$BM_DATE"
  echo "commit	$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- crates || echo ' (+ uncommitted changes)')"
  echo "cpu	$BM_CPU${BM_HYPERVISOR:+, $BM_HYPERVISOR guest}"
  echo "nproc	$BM_NPROC"
  echo "memory	$BM_MEM"
  echo "kernel	$BM_KERNEL"
  echo "wrk	$BM_WRK"
  echo "sqlite3 CLI	$(sqlite3 --version | cut -d' ' -f1)"
  echo "postgresql	$(psql -X -At "$PG_ADMIN_URL" -c 'SHOW server_version' 2>/dev/null || echo '-')"
  echo "clk_tck	$BM_CLK"
  echo "baseline	${BASELINE_BIN:-}"
} >"$WORK/meta.tsv"

# ---- part a: ingestion vs raw inserts -------------------------------------------------------
# One database with the part's fleet: APPS apps, NDEV devices each (their check-ins: what the
# channel of an event is joined from). Sets up a server too when asked.
fleet_db() { # BACKEND NAME with-server(0|1) NOW_MS
  new_db "$1" "$2"
  migrate "$BIN"
  if [ "$3" = 1 ]; then
    start_server "$2" "$BIN"
    create_stats_apps
  fi
  python3 "$DATA" devices "$DB_URL" "$APPS" "$NDEV" "$4" 2>/dev/null
}

ingest_check() { # BACKEND: the same requests through /stats and as raw SQL leave the same rollups
  local backend=$1 t_base now
  now=$(now_ms)
  t_base=$((now - 2 * 86400000))
  log "$backend ingest: correctness, $CHECK_REQUESTS requests one by one vs their raw SQL"
  fleet_db "$backend" "$backend-check-http" 1 "$now"
  python3 "$DATA" post "$SRV_URL/stats" "$APPS" "$CHECK_REQUESTS" "$t_base" "$NDEV"
  stop_server
  python3 "$DATA" dump "$DB_URL" >"$TMP/dump-http.tsv"
  drop_db
  fleet_db "$backend" "$backend-check-raw" 0 "$now"
  python3 "$DATA" raw "$backend" "$APPS" "$CHECK_REQUESTS" "$t_base" "$NDEV" >"$TMP/raw.sql"
  dbexec "$TMP/raw.sql"
  python3 "$DATA" dump "$DB_URL" >"$TMP/dump-raw.tsv"
  drop_db
  if cmp -s "$TMP/dump-http.tsv" "$TMP/dump-raw.tsv"; then
    note "$backend ingest check" "$CHECK_REQUESTS requests ($((CHECK_REQUESTS * 4)) events): the rollup tables after /stats and after the raw SQL are identical ($(wc -l <"$TMP/dump-raw.tsv") rows of installs, release_totals, adoption, install_durations, stats_daily)"
  else
    diff "$TMP/dump-http.tsv" "$TMP/dump-raw.tsv" | head -20 >&2
    die "$backend: /stats and the raw SQL left different rollups"
  fi
}

ingest_http() { # BACKEND ROUND LABEL BIN NOW T_BASE -> stored events in INGEST_STORED
  local backend=$1 round=$2 label=$3 bin=$4 now=$5 t_base=$6 out c0 c1 load
  out="$WORK/ingest-$backend-$round-$label.txt"
  new_db "$backend" "$backend-ingest-$round-$label"
  migrate "$bin"
  start_server "$backend-ingest-$round-$label" "$bin"
  create_stats_apps
  python3 "$DATA" devices "$DB_URL" "$APPS" "$NDEV" "$now" 2>/dev/null
  load=$(load1)
  c0=$(server_ticks)
  log "$backend ingest round $round ($label): wrk -c$INGEST_CONNS -d$INGEST_DURATION POST /stats"
  APPS=$APPS NDEV=$NDEV T_BASE=$t_base wrk -t1 -c"$INGEST_CONNS" -d"$INGEST_DURATION" --latency \
    -s "$STATS_LUA" "$SRV_URL/stats" >"$out"
  c1=$(server_ticks)
  sleep 1
  INGEST_STORED=$(dbq "SELECT COUNT(*) FROM stats_events")
  # Every device of the load is in the fleet: an event without a channel means the Lua script and
  # analytics_data.py disagree on device ids.
  [ "$(dbq "SELECT COUNT(*) FROM stats_events WHERE channel = ''")" = 0 ] ||
    die "events of devices outside the fleet: post-stats-installs.lua and analytics_data.py differ"
  stop_server
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$round" "$label" "$INGEST_STORED" "$out" \
    "$((c1 - c0))" "$load" >>"$WORK/ingest.tsv"
  drop_db
}

ingest_round() { # BACKEND ROUND
  local backend=$1 round=$2 t_base n t0 t1 kind load now stored
  now=$(now_ms)
  t_base=$((now - 2 * 86400000))
  if [ -n "${BASELINE_BIN:-}" ]; then
    ingest_http "$backend" "$round" baseline "$BASELINE_BIN" "$now" "$t_base"
  fi
  ingest_http "$backend" "$round" http "$BIN" "$now" "$t_base"
  n=$((INGEST_STORED / 4))
  for kind in raw raw_rows; do
    fleet_db "$backend" "$backend-$kind-$round" 0 "$now"
    python3 "$DATA" raw "$backend" "$APPS" "$n" "$t_base" "$NDEV" $([ "$kind" = raw_rows ] && echo --rows-only) >"$TMP/raw.sql"
    load=$(load1)
    log "$backend ingest round $round: $kind, $((n * 4)) events in one transaction"
    t0=$(date +%s%N)
    dbexec "$TMP/raw.sql"
    t1=$(date +%s%N)
    stored=$(dbq "SELECT COUNT(*) FROM stats_events")
    [ "$stored" = $((n * 4)) ] || die "$kind stored $stored events, not $((n * 4))"
    printf '%s\t%s\t%s\t%s\t%s\t\t%s\n' "$backend" "$round" "$kind" "$stored" "$(((t1 - t0) / 1000))" "$load" >>"$WORK/ingest.tsv"
    drop_db
  done
}

# ---- part b: the dashboard's queries at scale -------------------------------------------------
PAGES=(
  "report=/api/v1/apps/$SCALE_APP/stats"
  "report_since_1d=/api/v1/apps/$SCALE_APP/stats?since=1d"
  "report_since_90d=/api/v1/apps/$SCALE_APP/stats?since=90d"
  "report_bundle=/api/v1/apps/$SCALE_APP/stats?bundle=2.9.0"
  "report_channel=/api/v1/apps/$SCALE_APP/stats?channel=beta"
  "report_50_releases=/api/v1/apps/$SCALE_APP/stats?since=90d&releases=50"
  "devices=/api/v1/apps/$SCALE_APP/devices"
  "devices_filtered=/api/v1/apps/$SCALE_APP/devices?version=2.9.0&platform=ios&channel=beta"
  # Device 500,000's id (analytics_data.py device_uuid), part of it, device 123,458's custom id, a
  # text in half of all custom ids, and one in none.
  "devices_search_device_id=/api/v1/apps/$SCALE_APP/devices?search=910f25e0-54a7-481e-9b96-b718fe4e8720"
  "devices_search_id_part=/api/v1/apps/$SCALE_APP/devices?search=b718fe4e"
  "devices_search_custom_id=/api/v1/apps/$SCALE_APP/devices?search=user-123458"
  "devices_search_common=/api/v1/apps/$SCALE_APP/devices?search=user-1"
  "devices_search_no_match=/api/v1/apps/$SCALE_APP/devices?search=no-such-device"
  "channels=/api/v1/apps/$SCALE_APP/channels"
  "channel_history=/api/v1/apps/$SCALE_APP/channels/production/history"
  "bundles=/api/v1/apps/$SCALE_APP/bundles"
  "audit=/api/v1/apps/$SCALE_APP/audit"
  "apps=/api/v1/apps"
)

# The seed's bulk path (triggers and indexes set aside, rollups derived set-based) must leave what
# the triggers leave row by row: both on a small app, compared table by table.
seed_check() { # BACKEND BIN NOW
  local backend=$1 bin=$2 now=$3 path
  for path in triggers bulk; do
    new_db "$backend" "$backend-seed-$path"
    migrate "$bin"
    dbq "INSERT INTO apps (app_id, name, created_at) VALUES ('$SCALE_APP', 'x', 0)" >/dev/null
    python3 "$DATA" seed "$DB_URL" "$SCALE_APP" 3000 "$now" $([ $path = triggers ] && echo --triggers) 2>/dev/null
    python3 "$DATA" dump "$DB_URL" >"$TMP/seed-$path.tsv"
    drop_db
  done
  cmp -s "$TMP/seed-triggers.tsv" "$TMP/seed-bulk.tsv" ||
    die "$backend: the seed's bulk path and its trigger path differ"
  note "$backend seed check" "3,000 devices seeded row by row through the triggers and in bulk: identical rollups ($(wc -l <"$TMP/seed-bulk.tsv") rows)"
}

scale_backend() { # BACKEND
  local backend=$1 bin0=${BASELINE_BIN:-$BIN} now t0 r t s label bin
  now=$(now_ms)
  t0=$((now - 90 * 86400000))
  seed_check "$backend" "$bin0" "$now"
  new_db "$backend" "$backend-scale"
  migrate "$bin0"
  start_server "$backend-scale-setup" "$bin0"
  api POST /apps "{\"app_id\":\"$SCALE_APP\"}" >/dev/null
  for r in $(seq 0 9); do upload "$SCALE_APP" "2.$r.0" production; done
  lf() { LANDFALL_URL="$SRV_URL" LANDFALL_TOKEN="$TOKEN" "$bin0" "$@" >/dev/null; }
  lf channel create "$SCALE_APP" beta --bundle 2.8.0
  lf channel create "$SCALE_APP" staging --bundle 2.9.0
  lf channel set "$SCALE_APP" beta --rollout-bundle 2.9.0 --rollout-percent 10
  stop_server
  # Release r was uploaded and put on production on its day (the seed's events follow it).
  {
    echo "BEGIN;"
    for r in $(seq 0 9); do
      t=$((t0 + r * 9 * 86400000))
      echo "UPDATE bundles SET created_at = $t WHERE app_id = '$SCALE_APP' AND version = '2.$r.0';"
      echo "UPDATE channel_history SET at = $((t + 1800000)) WHERE bundle_id = (SELECT id FROM bundles WHERE app_id = '$SCALE_APP' AND version = '2.$r.0');"
    done
    echo "COMMIT;"
  } >"$TMP/releases.sql"
  dbexec "$TMP/releases.sql"
  log "$backend: seeding $SCALE_DEVICES devices and $((SCALE_DEVICES * 10)) events"
  s=$(date +%s)
  python3 "$DATA" seed "$DB_URL" "$SCALE_APP" "$SCALE_DEVICES" "$now" 2>"$WORK/seed-$backend.log"
  note "$backend seed" "$SCALE_DEVICES devices, $(dbq 'SELECT COUNT(*) FROM stats_events') events, $(dbq 'SELECT COUNT(*) FROM installs') installs, $(dbq 'SELECT COUNT(*) FROM stats_daily') stats_daily rows in $(($(date +%s) - s)) s"
  if [[ "$DB_URL" == sqlite://* ]]; then
    note "$backend size" "$(du -sh "$DB_DIR" | cut -f1) data dir"
  else
    note "$backend size" "$(dbq "SELECT pg_size_pretty(pg_database_size(current_database()))")"
  fi
  local bins=("current=$BIN")
  [ -n "${BASELINE_BIN:-}" ] && bins=("baseline=$BASELINE_BIN" "current=$BIN")
  for label in "${bins[@]}"; do
    bin=${label#*=}
    label=${label%%=*}
    s=$(date +%s%N)
    # sqlx logs every statement it runs, with its time, at debug: the per-query breakdown.
    start_server "$backend-scale-$label" "$bin" "warn,sqlx::query=debug"
    note "$backend $label start" "server answering after $((($(date +%s%N) - s) / 1000000)) ms (migrations included)"
    log "$backend $label: $QUERY_REPS rounds over ${#PAGES[@]} pages"
    : >"$WORK/server-$backend-scale-$label.log"  # only the timed requests' statements
    python3 "$DATA" time "$SRV_URL" "$TOKEN" "$QUERY_REPS" "$backend	$label" "${PAGES[@]}" >>"$WORK/pages.tsv"
    stop_server
    python3 "$BENCH_DIR/summarize-analytics.py" statements "$WORK/server-$backend-scale-$label.log" \
      "$backend" "$label" >>"$WORK/statements.tsv"
  done
  drop_db
}

# ---- part c: update checks with ingestion running -------------------------------------------
checks_backend() { # BACKEND
  local backend=$1 round variant order wrk_bg c0 c1 load pass=0 t_base
  new_db "$backend" "$backend-checks"
  migrate "$BIN"
  start_server "$backend-checks" "$BIN"
  api POST /apps "{\"app_id\":\"$CHECK_APP\"}" >/dev/null
  upload "$CHECK_APP" 1.0.1 production
  create_stats_apps
  python3 "$DATA" devices "$DB_URL" "$APPS" "$NDEV" "$(now_ms)" 2>/dev/null
  CHECK_BODY=1 wrk -t1 -c"$CHECK_CONNS" -d3s -s "$WRK_SCRIPTS/post-updates-rotate.lua" "$SRV_URL/updates" \
    >"$WORK/checks-$backend-body.txt"
  note "$backend checks" "CHECK_BODY=1 warm-up: $(grep -o 'body check:.*' "$WORK/checks-$backend-body.txt")"
  for round in $(seq 1 "$ROUNDS"); do
    case $((round % 3)) in
      1) order="alone throttled saturating" ;;
      2) order="throttled saturating alone" ;;
      0) order="saturating alone throttled" ;;
    esac
    for variant in $order; do
      wrk_bg=""
      if [ "$variant" != alone ]; then
        pass=$((pass + 1))
        t_base=$(($(now_ms) - 2 * 86400000 + pass * 60000))
        RATE_DELAY_MS=$([ "$variant" = throttled ] && echo "$BG_DELAY_MS" || echo 0) \
          APPS=$APPS NDEV=$NDEV T_BASE=$t_base PASS0=$((pass * 100)) \
          wrk -t1 -c"$BG_CONNS" -d$((${CHECK_DURATION%s} + 3))s --latency -s "$STATS_LUA" "$SRV_URL/stats" \
          >"$WORK/checks-$backend-$round-$variant-stats.txt" &
        wrk_bg=$!
        BG_PIDS+=("$wrk_bg")
        sleep 1.5
      fi
      load=$(load1)
      c0=$(server_ticks)
      log "$backend checks round $round: $variant"
      wrk -t1 -c"$CHECK_CONNS" -d"$CHECK_DURATION" --latency -s "$WRK_SCRIPTS/post-updates-rotate.lua" \
        "$SRV_URL/updates" >"$WORK/checks-$backend-$round-$variant.txt"
      c1=$(server_ticks)
      [ -n "$wrk_bg" ] && wait "$wrk_bg"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$round" "$variant" \
        "$WORK/checks-$backend-$round-$variant.txt" \
        "$([ -n "$wrk_bg" ] && echo "$WORK/checks-$backend-$round-$variant-stats.txt")" \
        "$((c1 - c0))" "$load" >>"$WORK/checks.tsv"
      sleep 2
    done
  done
  stop_server
  drop_db
}

for backend in $BACKENDS; do
  case " $PARTS " in *" ingest "*)
    ingest_check "$backend"
    for round in $(seq 1 "$ROUNDS"); do ingest_round "$backend" "$round"; done ;;
  esac
  case " $PARTS " in *" queries "*) scale_backend "$backend" ;; esac
  case " $PARTS " in *" checks "*) checks_backend "$backend" ;; esac
done

BM_INGEST_DURATION=$INGEST_DURATION BM_INGEST_CONNS=$INGEST_CONNS BM_APPS=$APPS BM_NDEV=$NDEV \
  BM_SCALE_DEVICES=$SCALE_DEVICES BM_QUERY_REPS=$QUERY_REPS BM_CHECK_DURATION=$CHECK_DURATION \
  BM_CHECK_CONNS=$CHECK_CONNS BM_BG_CONNS=$BG_CONNS BM_BG_DELAY_MS=$BG_DELAY_MS \
  python3 "$BENCH_DIR/summarize-analytics.py" report "$WORK" "$RESULTS/analytics.json" >"$RESULTS/analytics.md"
cat "$RESULTS/analytics.md"
