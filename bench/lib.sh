# shellcheck shell=bash
# Shell helpers shared by bench/run.sh and bench/scale-out.sh (sourced, not run).
#
# Globals the helpers read: TMP (scratch dir), NGINX_PORT, NGINX_WORKERS, DL_BYTES.
# Globals start_nginx sets: NGINX_PID, NGINX_WORKER_PIDS (array).

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Install the missing ones of the given commands with apt-get (Debian package = command name).
ensure_tools() { # tool...
  local sudo="" tool
  local -a missing=()
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # url
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  die "nothing answers at $1"
}

# utime+stime (clock ticks) summed over the given pids (every thread of each process).
cpu_ticks() {
  local total=0 pid rest
  for pid in "$@"; do
    rest="$(cat "/proc/$pid/stat")"
    rest="${rest##*) }"  # drop "pid (comm) ", comm may hold spaces
    # shellcheck disable=SC2086
    set -- $rest
    total=$((total + ${12} + ${13}))  # fields 14 and 15 of stat
  done
  echo "$total"
}

# A 5 MiB incompressible payload, the same bytes on every run (seeded PRNG).
make_payload() { # path
  python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(20261125).randbytes(int(sys.argv[1])))' \
    "$DL_BYTES" >"$1"
}

# nginx serving $TMP/www on 127.0.0.1:$NGINX_PORT (updates.json as application/json).
start_nginx() {
  mkdir -p "$TMP/nginx"
  cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  types { application/json json; application/zip zip; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
    location = /updates.json { default_type application/json; }
  }
}
EOF
  nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/updates.json"
  NGINX_WORKER_PIDS=()
  for _ in $(seq 1 50); do
    mapfile -t NGINX_WORKER_PIDS < <(pgrep -P "$NGINX_PID" || true)
    [ "${#NGINX_WORKER_PIDS[@]}" -ge "$NGINX_WORKERS" ] && break
    sleep 0.1
  done
  [ "${#NGINX_WORKER_PIDS[@]}" -ge 1 ] || die "no nginx workers under pid $NGINX_PID"
  log "nginx on 127.0.0.1:$NGINX_PORT (master $NGINX_PID, workers ${NGINX_WORKER_PIDS[*]})"
}

# The plugin's update-check body for one probe device: app, defaultChannel.
check_body() { # app channel [device_id]
  printf '{"platform":"android","device_id":"%s","app_id":"%s","custom_id":"","version_build":"1.0.0","version_code":"10","version_os":"14","version_name":"builtin","plugin_version":"8.51.14","is_emulator":false,"is_prod":true,"install_source":"google_play","defaultChannel":"%s"}' \
    "${3:-00000000-0000-4000-8000-00000000be0c}" "$1" "$2"
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Machine facts for the reports, as BM_* environment variables.
export_machine_facts() {
  BM_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  BM_NPROC="$(nproc)"
  BM_KERNEL="$(uname -r)"
  BM_CPU="$(awk -F': ' '/^model name/ {m=$2} /^cpu family/ {f=$2} /^model\t/ {n=$2} END {print m " (family " f ", model " n ")"}' /proc/cpuinfo)"
  BM_HYPERVISOR="$( (lscpu 2>/dev/null || true) | awk -F': +' '/^Hypervisor vendor/ {print $2}')"
  BM_MEM="$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  BM_WRK="$( (wrk -v 2>&1 || true) | head -n1 | awk '{print $1, $2}')"  # wrk -v exits 1
  BM_NGINX="$( (nginx -v 2>&1 || echo 'nginx: none') | sed 's/^nginx version: //')"  # not every bench uses nginx
  BM_CLK="$(getconf CLK_TCK)"
  export BM_DATE BM_NPROC BM_KERNEL BM_CPU BM_HYPERVISOR BM_MEM BM_WRK BM_NGINX BM_CLK
}
