#!/usr/bin/env bash
# Signed and delta bundles (issue 3): `landfall bundle encrypt` vs the real `@capgo/cli bundle
# encrypt` on a 50 MB incompressible bundle zip (same machine, same run, interleaved), plus the
# delta corpus numbers of `cargo test -p landfall-server --test it corpus`.
#
#     bench/crypto.sh                       # writes bench/CRYPTO-RESULTS.md
#
# Environment: RUNS (default 5), SIZE_MB (50), LANDFALL_CAPGO_ORACLE (an oracle dir made by
# scripts/setup-capgo-oracle.sh; default target/capgo-oracle, installed if missing),
# CARGO_TARGET_DIR, OUT (the markdown file to write), BENCH_DIR (scratch dir, default a temp dir).
# Needs: cargo, node + npm (for the oracle), python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RUNS="${RUNS:-5}"
SIZE_MB="${SIZE_MB:-50}"
OUT="${OUT:-$root/bench/CRYPTO-RESULTS.md}"
target="${CARGO_TARGET_DIR:-$root/target}"
oracle="${LANDFALL_CAPGO_ORACLE:-$root/target/capgo-oracle}"
work="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/landfall-crypto-bench.XXXXXX")}"
mkdir -p "$work"
log="$work/bench.log"
: >"$log"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { echo "error: $*" >&2; exit 1; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%d\n", (a[NR/2]+a[NR/2+1])/2}'; }
# Peak RSS in MiB of a command (GNU time), or "n/a".
peak_rss() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>>"$log" && awk '{printf "%.0f", $1/1024}' "$work/rss"
    else
        "$@" >/dev/null 2>>"$log"; echo "n/a"
    fi
}

step "cargo build --release -p landfall"
cargo build --release -p landfall
landfall="$target/release/landfall"

step "Capgo CLI oracle in $oracle"
bash scripts/setup-capgo-oracle.sh "$oracle" >&2
capgo_js="$oracle/node_modules/@capgo/cli/dist/index.js"
capgo_version="$(node -p "require('$oracle/node_modules/@capgo/cli/package.json').version")"

step "a ${SIZE_MB} MB incompressible bundle zip in $work"
mkdir -p "$work/dist/assets" "$work/keys"
echo '<!doctype html><html><body><script src="assets/app.js"></script></body></html>' >"$work/dist/index.html"
echo 'window.CapacitorUpdater && CapacitorUpdater.notifyAppReady()' >"$work/dist/assets/app.js"
head -c "${SIZE_MB}M" /dev/urandom >"$work/dist/assets/random.bin"
(cd "$work/dist" && rm -f ../big.zip && zip -q -0 -r ../big.zip .)
zip_bytes="$(stat -c %s "$work/big.zip")"
sha="$(sha256sum "$work/big.zip" | cut -d' ' -f1)"
(cd "$work/keys" && "$landfall" key create --force >/dev/null)
key="$work/keys/.capgo_key_v2"
pub="$work/keys/.capgo_key_v2.pub"

# A throw-away Capgo project (the CLI needs package.json, capacitor.config.json with the
# publicKey, and @capgo/capacitor-updater in node_modules to emit V3 checksums).
project="$work/project"
mkdir -p "$project"
cp "$oracle/package.json" "$project/package.json"
ln -sfn "$oracle/node_modules" "$project/node_modules"
python3 - "$pub" "$project/capacitor.config.json" <<'PY'
import json, sys
pem = open(sys.argv[1]).read()
json.dump({"appId": "com.example.bench", "appName": "Bench", "webDir": "dist",
           "plugins": {"CapacitorUpdater": {"publicKey": pem}}}, open(sys.argv[2], "w"), indent=2)
PY
ln -sfn "$work/big.zip" "$project/big.zip"
export CAPGO_DISABLE_TELEMETRY=1 CI=true

run_landfall() { (cd "$work" && "$landfall" bundle encrypt big.zip --key "$key" --json >"$work/landfall.json" </dev/null); }
# The CLI's fixed cost: Node start-up and loading its 5 MB bundle, nothing encrypted.
run_capgo_startup() { (cd "$project" && node "$capgo_js" --version >/dev/null </dev/null 2>>"$log"); }
run_capgo() { (cd "$project" && node "$capgo_js" bundle encrypt big.zip "$sha" --key "$key" --json >"$work/capgo.json" </dev/null 2>>"$log"); }

step "warm-up (not counted)"
run_landfall
run_capgo

step "$RUNS interleaved runs each"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/t_landfall"
: >"$work/t_capgo"
: >"$work/t_startup"
for i in $(seq 1 "$RUNS"); do
    t0="$(ms_now)"; run_landfall; t1="$(ms_now)"
    run_capgo; t2="$(ms_now)"
    run_capgo_startup; t3="$(ms_now)"
    echo $((t1 - t0)) >>"$work/t_landfall"
    echo $((t2 - t1)) >>"$work/t_capgo"
    echo $((t3 - t2)) >>"$work/t_startup"
    echo "run $i: landfall $((t1 - t0)) ms, capgo $((t2 - t1)) ms, capgo --version $((t3 - t2)) ms" >&2
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
lf_med="$(median <"$work/t_landfall")"
cg_med="$(median <"$work/t_capgo")"
lf_all="$(paste -sd' ' "$work/t_landfall")"
cg_all="$(paste -sd' ' "$work/t_capgo")"
ratio="$(awk -v a="$cg_med" -v b="$lf_med" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')"
lf_mbs="$(awk -v s="$zip_bytes" -v t="$lf_med" 'BEGIN {printf "%.0f", s / 1048576 / (t / 1000)}')"
cg_mbs="$(awk -v s="$zip_bytes" -v t="$cg_med" 'BEGIN {printf "%.0f", s / 1048576 / (t / 1000)}')"
verdict="$(awk -v a="$lf_med" -v b="$cg_med" 'BEGIN {print (a <= b) ? "met" : "NOT met"}')"

st_med="$(median <"$work/t_startup")"
cg_work=$((cg_med - st_med))
ratio_work="$(awk -v a="$cg_work" -v b="$lf_med" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')"

step "cross-checks: each tool decrypts the other's output"
iv() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
cross_ours="$(cd "$work" && "$landfall" bundle decrypt "$project/big.zip_encrypted.zip" "$(iv "$work/capgo.json" ivSessionKey)" \
    --key "$pub" --checksum "$(iv "$work/capgo.json" checksum)" </dev/null | tail -1)"
cmp -s "$work/big.zip" "$project/big.zip_encrypted.zip_decrypted.zip" || fail "landfall's decryption of capgo's output differs"
cp "$work/big.zip_encrypted.zip" "$project/ours.zip"
cross_theirs="$(cd "$project" && node "$capgo_js" bundle decrypt ours.zip "$(iv "$work/landfall.json" ivSessionKey)" \
    --checksum "$(iv "$work/landfall.json" checksum)" --key "$pub" </dev/null 2>&1 | grep -o 'Checksum matches' | head -1 || true)"
cmp -s "$work/big.zip" "$project/ours.zip_decrypted.zip" || fail "capgo's decryption of landfall's output differs"
[ "$cross_ours" = "Checksum matches" ] || fail "landfall bundle decrypt did not match capgo's checksum"
[ "$cross_theirs" = "Checksum matches" ] || fail "capgo bundle decrypt did not match landfall's checksum"
rm -f "$project/big.zip_encrypted.zip_decrypted.zip" "$project/ours.zip" "$project/ours.zip_decrypted.zip"

step "peak memory (one run each)"
lf_rss="$(cd "$work" && peak_rss "$landfall" bundle encrypt big.zip --key "$key" --json)"
cg_rss="$(cd "$project" && peak_rss node "$capgo_js" bundle encrypt big.zip "$sha" --key "$key" --json)"

step "delta corpus: cargo test -p landfall-server --test it corpus -- --nocapture"
cargo test -p landfall-server --test it corpus -- --nocapture --test-threads=1 2>&1 | tee -a "$log" | grep -o 'corpus [^ ]*: delta download.*' >"$work/corpus" || true
[ -s "$work/corpus" ] || { echo "error: no corpus lines (see $log)" >&2; exit 1; }
corpus_rows="$(python3 - "$work/corpus" <<'PY'
import re, sys
pat = re.compile(r"corpus (\S+): delta download (\d+) B \(CLI rule (\d+) B\), full zip B (\d+) B, "
                 r"files (\d+) reused (\d+), server storage for A\+B (\d+) B")
ok = True
for line in open(sys.argv[1]):
    m = pat.search(line)
    if not m:
        continue
    pair, dl, rule, full, files, reused, stored = m.group(1), *map(int, m.groups()[1:])
    good = dl <= rule and dl < full
    ok &= good
    print(f"| {pair} | {dl:,} | {rule:,} | {full:,} | {dl / full:.1%} | {files} / {reused} | {stored:,} | "
          f"{'met' if good else 'NOT met'} |")
PY
)"

step "black-box delta device: cargo test -p landfall --test it delta_update -- --nocapture"
cargo test -p landfall --test it delta_update_device_rebuilds_b_from_a -- --nocapture 2>&1 | tee -a "$log" \
    | grep -o 'delta 1.0.0 -> 1.1.0:.*' >"$work/device" || true
[ -s "$work/device" ] || { echo "error: the delta device test printed nothing (see $log)" >&2; exit 1; }

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
cores="$(nproc)"
mem="$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
kernel="$(uname -sr)"
rustc_v="$(rustc --version)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
flags="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x -e aes -e sha_ni | paste -sd, -)"

cat >"$OUT" <<MD
## Signed and delta bundles (issue 3)

Generated by \`bench/crypto.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (commit $commit).

**Machine:** $cpu, $cores cores (CPU flags: ${flags:-none of aes/sha_ni}), $mem RAM, $kernel;
$rustc_v (release profile); Node $(node --version), @capgo/cli $capgo_version.
Load average (1/5/15 min) before the timed runs: $load_before, after: $load_after (the machine is
shared; both tools ran interleaved so they saw the same load).

### \`bundle encrypt\`: Landfall vs @capgo/cli on a ${SIZE_MB} MB bundle zip

Input: \`big.zip\`, $zip_bytes bytes (index.html, assets/app.js and ${SIZE_MB} MiB from
/dev/urandom, stored with \`zip -0\`, so incompressible). Same key (\`landfall key create\`), both
tools write \`big.zip_encrypted.zip\` and print \`{checksum, filename, ivSessionKey}\`. One warm-up
run each, then $RUNS rounds of (Landfall, Capgo, \`capgo --version\`), wall time with
\`date +%s%N\`:

\`\`\`
landfall bundle encrypt big.zip --key .capgo_key_v2 --json
node node_modules/@capgo/cli/dist/index.js bundle encrypt big.zip <sha256> --key .capgo_key_v2 --json
\`\`\`

| tool | median wall | runs (ms) | throughput | peak RSS |
|---|---|---|---|---|
| \`landfall bundle encrypt\` | **$lf_med ms** | $lf_all | $lf_mbs MiB/s | $lf_rss MiB |
| \`capgo bundle encrypt\` (Node) | **$cg_med ms** | $cg_all | $cg_mbs MiB/s | $cg_rss MiB |

**Ratio:** Capgo / Landfall = **${ratio}×**. Target "Landfall no slower than the Capgo CLI":
**$verdict**. Part of the CLI's time is Node start-up: \`capgo --version\` alone takes $st_med ms
(median of $RUNS); without it the CLI still needs ~$cg_work ms, ${ratio_work}× Landfall's whole run.
Landfall also hashes the zip itself (the CLI is handed the sha256) and streams it in 1 MiB chunks
(one pass: sha256 + AES-128-CBC), so its memory does not grow with the bundle; the CLI reads the
whole zip into memory (see peak RSS).

Cross-checks in the same run: \`landfall bundle decrypt --checksum\` of the CLI's output:
"$cross_ours", bytes identical; \`capgo bundle decrypt --checksum\` of Landfall's output:
"$cross_theirs", bytes identical.

### Delta updates on the real release pairs (\`shared/corpus/\`)

\`cargo test -p landfall-server --test it corpus -- --nocapture\` uploads A then B with
\`delta=true\` and reports what a device on A downloads:

| pair | delta download (B) | CLI rule (B) | full zip B (B) | delta / full | files / reused | server storage A+B (B) | target (≤ CLI rule, < full zip) |
|---|---|---|---|---|---|---|---|
$corpus_rows

Raw lines:

\`\`\`
$(cat "$work/corpus")
\`\`\`

The black-box device test (\`cargo test -p landfall --test it delta_update_device_rebuilds_b_from_a\`:
real \`landfall serve\`, \`landfall bundle upload --key --delta\` of A then B, a device on A rebuilding
B from the encrypted manifest with Range resumes, byte-compared with B) downloads exactly what the
upload reports in \`delta.download_bytes_from_previous\`:

\`\`\`
$(cat "$work/device")
\`\`\`
MD
step "wrote $OUT"
cat "$OUT"
