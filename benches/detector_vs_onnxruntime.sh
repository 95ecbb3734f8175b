#!/usr/bin/env bash
# Side-by-side detector latency: tract (the product's runtime, in the
# product's build profile) against onnxruntime from PyPI, on the same ONNX
# file, the same input sizes, the same thread count and the same input,
# alternating the two three times so that machine noise hits both alike.
# Figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/camtwin/target}"
RUNS="${RUNS:-30}"
THREADS="${THREADS:-2}"
SIZES="${SIZES:-416x416 416x320}"
VENV="$HOME/.cache/camtwin/bench-venv"
ORT_VERSION="1.31.1"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "onnxruntime==$ORT_VERSION" "numpy==1.26.4"
fi
cargo build --locked --bench detector --quiet 2>/dev/null || cargo test --locked --bench detector --no-run --quiet
for round in 1 2 3; do
    echo "round $round"
    # shellcheck disable=SC2086
    cargo test --locked --quiet --bench detector -- "$RUNS" "$THREADS" $SIZES
    "$VENV/bin/python" - "$RUNS" "$THREADS" $SIZES <<'PY'
import sys, time
import numpy as np
import onnxruntime as ort
runs, threads = int(sys.argv[1]), int(sys.argv[2])
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession("assets/models/yolov4-tiny.onnx", opts, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
for size in sys.argv[3:]:
    w, h = (int(v) for v in size.split("x"))
    x = (np.arange(3 * w * h) % 255).astype(np.float32).reshape(1, 3, h, w) / 255.0
    times = []
    for i in range(runs + 3):
        t = time.perf_counter()
        sess.run(None, {name: x})
        if i >= 3:
            times.append((time.perf_counter() - t) * 1000)
    print(f"onnxruntime {w}x{h}: {sum(times)/len(times):.1f} ms (min {min(times):.1f}), {threads} threads, {runs} runs")
PY
done
