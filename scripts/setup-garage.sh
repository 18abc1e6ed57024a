#!/usr/bin/env bash
# Start a single-node Garage S3 server on loopback for the tests, and print the variables that
# point the tests at it (eval the output):
#
#     eval "$(scripts/setup-garage.sh target/garage)"
#
# Installs Garage with `cargo install garage --locked` the first time (about 8 minutes on 2 cores)
# into a cache outside the repository ($LANDFALL_TOOLS_DIR, default ~/.cache/landfall), so later
# runs and fresh clones reuse the binary. Each run wipes <dir>, starts a fresh node on free ports,
# creates a key and two buckets (landfall-test, landfall-test-private) and stops the node when the
# calling shell exits (the PID is in <dir>/garage.pid; a node left from an earlier run is stopped).
set -euo pipefail

GARAGE_VERSION=2.5.0
dir="$(mkdir -p "${1:?usage: setup-garage.sh <dir>}" && cd "$1" && pwd)"
tools="${LANDFALL_TOOLS_DIR:-$HOME/.cache/landfall}"
garage="$tools/garage-$GARAGE_VERSION/bin/garage"

if [ ! -x "$garage" ]; then
    echo "installing garage $GARAGE_VERSION into $tools (cargo install, one time)" >&2
    mkdir -p "$tools"
    cargo install garage --version "$GARAGE_VERSION" --locked \
        --root "$tools/garage-$GARAGE_VERSION" \
        --target-dir "$tools/garage-build" >&2
    rm -rf "$tools/garage-build"
fi

if [ -f "$dir/garage.pid" ]; then
    kill "$(cat "$dir/garage.pid")" 2>/dev/null || true
    sleep 1
fi
rm -rf "$dir/meta" "$dir/data" "$dir/garage.toml" "$dir/garage.log"
mkdir -p "$dir/meta" "$dir/data"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
s3_port=$(free_port); rpc_port=$(free_port); web_port=$(free_port); admin_port=$(free_port)

cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(openssl rand -hex 32 2>/dev/null || python3 -c 'import secrets; print(secrets.token_hex(32))')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:$web_port"
root_domain = ".web.garage.localhost"
index = "index.html"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
EOF

g() { "$garage" -c "$dir/garage.toml" "$@"; }
nohup "$garage" -c "$dir/garage.toml" server >"$dir/garage.log" 2>&1 &
echo $! >"$dir/garage.pid"
for _ in $(seq 60); do
    g status >/dev/null 2>&1 && break
    sleep 0.5
done
if ! g status >/dev/null 2>&1; then
    echo "error: garage did not start; its log:" >&2
    tail -30 "$dir/garage.log" >&2
    exit 1
fi
node="$(g node id -q | cut -d@ -f1)"
g layout assign -z dc1 -c 1G "$node" >/dev/null
g layout apply --version 1 >/dev/null
key_out="$(g key create landfall-test)"
key_id="$(printf '%s\n' "$key_out" | awk -F': *' '/Key ID/ {print $2; exit}')"
secret="$(printf '%s\n' "$key_out" | awk -F': *' '/Secret key/ {print $2; exit}')"
for b in landfall-test landfall-test-private; do
    g bucket create "$b" >/dev/null
    g bucket allow --read --write --owner "$b" --key landfall-test >/dev/null
done
# The public bucket is also served anonymously on the web endpoint (the "CDN" of the tests).
g bucket website --allow landfall-test >/dev/null

echo "garage $GARAGE_VERSION up: s3 http://127.0.0.1:$s3_port, web http://127.0.0.1:$web_port (pid $(cat "$dir/garage.pid"))" >&2
cat <<EOF
export LANDFALL_TEST_S3='s3://landfall-test?endpoint=http://127.0.0.1:$s3_port&region=garage'
export LANDFALL_TEST_S3_PRIVATE='s3://landfall-test-private?endpoint=http://127.0.0.1:$s3_port&region=garage'
export LANDFALL_TEST_S3_WEB='http://127.0.0.1:$web_port'
export AWS_ACCESS_KEY_ID='$key_id'
export AWS_SECRET_ACCESS_KEY='$secret'
export LANDFALL_GARAGE_PID='$(cat "$dir/garage.pid")'
EOF
