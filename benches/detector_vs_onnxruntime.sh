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
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import onnx, onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "onnxruntime==$ORT_VERSION" "numpy==1.26.4" "onnx==1.17.0" "protobuf==5.29.5"
fi
cargo build --locked --bench detector --quiet 2>/dev/null || cargo test --locked --bench detector --no-run --quiet
for round in 1 2 3; do
    echo "round $round"
    # shellcheck disable=SC2086
    cargo test --locked --quiet --bench detector -- "$RUNS" "$THREADS" $SIZES
    "$VENV/bin/python" - "$RUNS" "$THREADS" $SIZES <<'PY'
import sys, time
import numpy as np
import onnx
import onnxruntime as ort
runs, threads = int(sys.argv[1]), int(sys.argv[2])
# The file fixes its input at 416x416; the same graph with the input's
# height and width left free runs at the other sizes (as tract is told
# the input size at load time).
model = onnx.load("assets/models/yolov4-tiny.onnx")
dims = model.graph.input[0].type.tensor_type.shape.dim
dims[2].dim_param, dims[3].dim_param = "height", "width"
for out in model.graph.output:
    for d in out.type.tensor_type.shape.dim[2:]:
        d.dim_param = "grid"
del model.graph.value_info[:]
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
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
