#!/usr/bin/env bash
# Benchmarks recorded in docs/PERFORMANCE.md: stage throughput (render fps,
# detector ms/frame) and the demo's wall time after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/camtwin/target}"
cargo build --locked --workspace --all-targets
cargo test --locked --bench throughput -- "${BENCH_FRAMES:-200}"
cargo test --locked --bench tracking -- "${BENCH_TRACK_FRAMES:-20000}"
bash benches/detector_vs_onnxruntime.sh
cargo test --locked --bench pipeline_overhead -- "${BENCH_PIPELINE_FRAMES:-100}"
cargo test --locked --bench face_size -- "${BENCH_FACE_ROUNDS:-20}"
cargo test --locked --bench sensors_overhead -- "${BENCH_SENSOR_ROUNDS:-5}"
bin="$CARGO_TARGET_DIR/debug/camtwin"
start=$(date +%s.%N)
"$bin" run scenarios/demo.toml --out "${TMPDIR:-/tmp}/camtwin-bench-demo" > /dev/null
end=$(date +%s.%N)
printf 'demo wall time after build: %.1f s\n' "$(echo "$end - $start" | bc)"
/usr/bin/time -v "$bin" run scenarios/demo.toml --out "${TMPDIR:-/tmp}/camtwin-bench-demo" 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed" || true
bash benches/experiment_speed.sh "$bin"
