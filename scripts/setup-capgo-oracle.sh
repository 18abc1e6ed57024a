#!/usr/bin/env bash
# Prepare a directory in which the real Capgo CLI can run offline, as a
# compatibility oracle for landfall-crypto's tests (tests/capgo_oracle.rs).
#
# Usage: scripts/setup-capgo-oracle.sh DIR
#        LANDFALL_CAPGO_ORACLE=DIR cargo test -p landfall-crypto --test capgo_oracle
#
# Idempotent: re-running only rewrites package.json / capacitor.config.json and
# installs packages when node_modules/@capgo/cli is missing.
set -euo pipefail

CLI_VERSION="8.68.1"
UPDATER_VERSION="8.51.23"

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR   (DIR is created if needed)" >&2
    exit 2
fi
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: '$tool' is not installed; install Node.js 20+ (with npm) first" >&2
        exit 1
    fi
done

DIR="$1"
mkdir -p "$DIR"
cd "$DIR"

write_package_json() {
    # $1: "with-updater" or "cli-only"
    local updater_line=""
    if [ "$1" = "with-updater" ]; then
        updater_line="    \"@capgo/capacitor-updater\": \"${UPDATER_VERSION}\","
    fi
    cat > package.json <<JSON
{
  "name": "capgo-oracle",
  "version": "1.0.1",
  "private": true,
  "description": "Capgo CLI oracle for landfall-crypto tests",
  "license": "ISC",
  "type": "commonjs",
  "dependencies": {
${updater_line}
    "@capgo/cli": "${CLI_VERSION}"
  }
}
JSON
}

write_updater_stub() {
    mkdir -p node_modules/@capgo/capacitor-updater
    cat > node_modules/@capgo/capacitor-updater/package.json <<JSON
{
  "name": "@capgo/capacitor-updater",
  "version": "${UPDATER_VERSION}"
}
JSON
}

write_package_json with-updater

if [ ! -d node_modules/@capgo/cli ]; then
    echo "installing @capgo/cli@${CLI_VERSION} and @capgo/capacitor-updater@${UPDATER_VERSION} in $(pwd)" >&2
    if ! npm install --no-audit --no-fund; then
        echo "warning: full install failed; installing the CLI alone and stubbing the updater" >&2
        write_package_json cli-only
        npm install --no-audit --no-fund
        write_package_json with-updater
        write_updater_stub
    fi
fi

# The CLI reads the updater's version to choose SHA-256 + "V3" checksums; without it
# `bundle encrypt` silently emits legacy V2 checksums. A stub package.json suffices.
if [ ! -f node_modules/@capgo/capacitor-updater/package.json ]; then
    write_updater_stub
fi

# Always reset the config: CLI 8.68.1 `bundle encrypt` writes a publicKey into it.
cat > capacitor.config.json <<'JSON'
{
  "appId": "com.example.capgovector",
  "appName": "CapgoVector",
  "webDir": "dist"
}
JSON

installed="$(node -p "require('./node_modules/@capgo/cli/package.json').version")"
if [ "$installed" != "$CLI_VERSION" ]; then
    echo "error: node_modules/@capgo/cli is version $installed, expected $CLI_VERSION; delete $(pwd)/node_modules and re-run" >&2
    exit 1
fi
echo "capgo oracle ready in $(pwd) (@capgo/cli $installed)"
echo "run: LANDFALL_CAPGO_ORACLE=$(pwd) cargo test -p landfall-crypto --test capgo_oracle"
