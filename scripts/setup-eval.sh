#!/usr/bin/env bash
# Installs, idempotently, the reference evaluation tools that the tests load
# camtwin's exported data sets in: py-motmetrics (MOTChallenge gt.txt) and
# pycocotools (COCO JSON), from PyPI, pinned, in a private venv at
# ~/.cache/camtwin/eval-venv (override with CAMTWIN_EVAL_VENV).
set -euo pipefail
VENV="${CAMTWIN_EVAL_VENV:-$HOME/.cache/camtwin/eval-venv}"
PINS=("motmetrics==1.4.0" "pycocotools==2.0.11" "numpy==1.26.4" "pandas==3.0.6" "scipy==1.17.1")
stamp="$VENV/.camtwin-pins"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "${PINS[*]}" ]] \
    && "$VENV/bin/python" -c "import motmetrics, pycocotools.coco" 2>/dev/null; then
    echo "[setup-eval] evaluation venv present: $VENV"
    exit 0
fi
echo "[setup-eval] creating $VENV with ${PINS[*]}"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
"$VENV/bin/python" -c "import motmetrics, pycocotools.coco"
echo "${PINS[*]}" > "$stamp"
