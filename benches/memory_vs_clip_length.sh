#!/usr/bin/env bash
# Memory against clip length: the demo street run for 1 minute and for 10
# minutes, back to back, without the footage cache (every frame rendered and
# analysed), printing each run's peak resident memory. Target: the 10-minute
# clip peaks no higher than the 1-minute clip, ± 10 %.
#
#   bash benches/memory_vs_clip_length.sh [MINUTES_LONG [RUN OPTIONS...]]
#
# Run options go to both runs (for instance `--detector-input 320x192`).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/camtwin/target}"
bin="$CARGO_TARGET_DIR/debug/camtwin"
[[ -x "$bin" ]] || cargo build --locked --bin camtwin
long_min="${1:-10}"
shift || true
extra=("$@")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
peak() {
    local seconds="$1" name="$2"
    # The same street and demand per minute: pedestrians and cars scale with the length.
    sed -e "s/^duration_s = .*/duration_s = $seconds.0/" \
        -e "s/^count = 100 .*/count = $((100 * seconds / 60))/" \
        -e "s/^count = 8$/count = $((8 * seconds / 60))/" scenarios/demo.toml > "$work/$name.toml"
    /usr/bin/time -f '%M' -o "$work/$name.rss" "$bin" run "$work/$name.toml" --out "$work/$name" --no-cache "${extra[@]}" \
        > /dev/null 2> "$work/$name.log"
    echo "$(cat "$work/$name.rss")"
}
short=$(peak 60 short)
long=$(peak $((long_min * 60)) long)
awk -v s="$short" -v l="$long" -v m="$long_min" 'BEGIN {
    printf "peak resident memory: 1-minute clip %.0f MiB, %d-minute clip %.0f MiB (%+.1f %%)\n", s / 1024, m, l / 1024, (l / s - 1) * 100
}'
