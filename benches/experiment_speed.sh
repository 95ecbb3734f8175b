#!/usr/bin/env bash
# Experiment speed, side by side in one run (docs/PERFORMANCE.md):
#   1. parallel efficiency from 1 to 2 cores: a 16-job sweep (the privacy demo
#      street shortened to 20 s, four configurations, four seeds) from an empty
#      cache, pinned to one core with --jobs 1, then to two cores with --jobs 2;
#      efficiency = T1 / (2 x T2);
#   2. a second sweep over the same footage with new post-detection settings
#      (k and epsilon): it replays cached frames and detections;
#      speed-up = T2 / T3.
#
#   bash benches/experiment_speed.sh [CAMTWIN_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-${CARGO_TARGET_DIR:-$HOME/.cache/camtwin/target}/debug/camtwin}")
models=$(realpath assets/models)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/^duration_s = 60.0/duration_s = 20.0/' scenarios/demo-privacy.toml > "$work/street.toml"
cat >> "$work/street.toml" <<'TOML'

[[privacy]]
name = "native-k3"
k = 3

[[privacy]]
name = "320x240-eps1"
resolution = [320, 240]
epsilon = 1.0

[[privacy]]
name = "5fps-k5"
fps = 5.0
k = 5

[[privacy]]
name = "truth-blur-k3-eps1"
face_blur = "truth"
k = 3
epsilon = 1.0
TOML
experiment() { # name, configs
    cat > "$work/$1.toml" <<TOML
[experiment]
name = "$1"
seeds = 4
[[purposes]]
name = "footfall"
use = "statistics"
measure = "count"
line = "north-sidewalk"
max_error = 0.25
[[scenarios]]
path = "street.toml"
configs = [$2]
TOML
}
experiment first '"native-10fps", "320x240", "5fps", "truth-blur"'
experiment second '"native-k3", "320x240-eps1", "5fps-k5", "truth-blur-k3-eps1"'
timed() { # label, cores, jobs, experiment, cache
    local start end
    start=$(date +%s.%N)
    if ! CAMTWIN_CACHE="$work/$5" taskset -c "$2" "$bin" experiment "$work/$4.toml" --out "$work/out-$1" \
        --jobs "$3" --models "$models" >"$work/$1.log" 2>&1; then
        echo "$1 failed:" >&2
        tail -20 "$work/$1.log" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}
t1=$(timed one-core 0 1 first cache-1)
echo "16 jobs, 1 core, --jobs 1, empty cache: $t1 s"
t2=$(timed two-cores 0,1 2 first cache-2)
echo "16 jobs, 2 cores, --jobs 2, empty cache: $t2 s"
cmp -s "$work/out-one-core/first/means.csv" "$work/out-two-cores/first/means.csv" && echo "means.csv identical"
echo "parallel efficiency 1 -> 2 cores: $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f %%", 100 * a / (2 * b) }')"
t3=$(timed second-sweep 0,1 2 second cache-2)
echo "16 jobs, same footage, new k and epsilon, 2 cores: $t3 s"
echo "second sweep speed-up: $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.1fx", a / b }')"
