#!/usr/bin/env bash
# Experiment jobs on all cores: the same experiment (the privacy demo street,
# three configurations, two seeds: six jobs in two footage groups) from an
# empty cache with --jobs 1 and with --jobs N (N = cores), side by side in one
# run. Prints both wall times and the speed-up; docs/PERFORMANCE.md keeps
# the figures.
#
#   bash benches/experiment_parallel.sh [CAMTWIN_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/camtwin/target}/debug/camtwin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp scenarios/demo-privacy.toml "$work/"
cat > "$work/bench.toml" <<TOML
[experiment]
name = "bench"
seeds = 2
[[purposes]]
name = "footfall"
use = "statistics"
measure = "count"
line = "north-sidewalk"
max_error = 0.25
[[scenarios]]
path = "demo-privacy.toml"
configs = ["native-10fps", "320x240", "5fps"]
TOML
cores=$(nproc)
declare -A wall
for jobs in 1 "$cores"; do
    start=$(date +%s.%N)
    CAMTWIN_CACHE="$work/cache-$jobs" "$bin" experiment "$work/bench.toml" --out "$work/out-$jobs" --jobs "$jobs" >/dev/null 2>&1
    end=$(date +%s.%N)
    wall[$jobs]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    echo "--jobs $jobs: ${wall[$jobs]} s for 6 jobs"
done
cmp "$work/out-1/bench/means.csv" "$work/out-$cores/bench/means.csv" && echo "identical means.csv"
echo "speed-up with $cores jobs: $(awk -v a="${wall[1]}" -v b="${wall[$cores]}" 'BEGIN { printf "%.2f", a / b }')x"
