#!/usr/bin/env bash
# Installs, idempotently, the reference evaluation tools that the tests load
# camtwin's exported data sets in and check camtwin's metrics against:
# py-motmetrics (MOTA, IDF1), pycocotools (AP50) and TrackEval (HOTA), from
# PyPI, pinned, in a private venv at ~/.cache/camtwin/eval-venv (override
# with CAMTWIN_EVAL_VENV). TrackEval is installed without its declared
# dependencies (OpenCV, matplotlib, numpy 2): its HOTA metric needs only
# numpy and scipy.
set -euo pipefail
VENV="${CAMTWIN_EVAL_VENV:-$HOME/.cache/camtwin/eval-venv}"
PINS=("motmetrics==1.4.0" "pycocotools==2.0.11" "numpy==1.26.4" "pandas==3.0.6" "scipy==1.17.1")
NODEPS=("trackeval==1.3.0")
stamp="$VENV/.camtwin-pins"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "${PINS[*]} ${NODEPS[*]}" ]] \
    && "$VENV/bin/python" -c "import motmetrics, pycocotools.coco, trackeval.metrics" 2>/dev/null; then
    echo "[setup-eval] evaluation venv present: $VENV"
    exit 0
fi
echo "[setup-eval] creating $VENV with ${PINS[*]}"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "${NODEPS[@]}"
"$VENV/bin/python" -c "import motmetrics, pycocotools.coco, trackeval.metrics"
echo "${PINS[*]} ${NODEPS[*]}" > "$stamp"
