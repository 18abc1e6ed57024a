#!/usr/bin/env bash
# Prepare what the console's browser tests need (crates/landfall/tests/it/browser.rs):
#   * playwright-core, exactly as pinned by crates/landfall/tests/browser/package-lock.json,
#     installed with `npm ci` into DIR (skipped when DIR already holds that lock file's install);
#   * Debian's chromium at /usr/bin/chromium, with fonts-noto-cjk for Chinese text
#     (apt-get, only when chromium is missing; Playwright's own browser download is not used).
#
# Usage: scripts/setup-browser-deps.sh DIR
#        LANDFALL_BROWSER_DEPS=DIR cargo nextest run -p landfall --test it browser
set -euo pipefail

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

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/crates/landfall/tests/browser"
DIR="$1"
mkdir -p "$DIR"

if [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium and fonts-noto-cjk (apt-get)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

# The install in DIR is current when its lock file is the committed one.
if ! cmp -s "$src/package-lock.json" "$DIR/package-lock.json" || [ ! -d "$DIR/node_modules/playwright-core" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$DIR/"
    echo "installing playwright-core (npm ci) in $DIR" >&2
    (cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts)
fi

installed="$(node -p "require('$DIR/node_modules/playwright-core/package.json').version")"
echo "browser test dependencies ready in $DIR (playwright-core $installed, $(/usr/bin/chromium --version 2>/dev/null | head -1))"
