#!/usr/bin/env bash
# Installs the Debian packages camtwin needs, idempotently:
#   mesa-vulkan-drivers + libvulkan1  the lavapipe software Vulkan device Bevy renders on
#   fonts-dejavu-core                 the font for plot labels
#   python3-venv                      for the model-conversion and evaluation venvs
#   ffmpeg                            decodes video files for `camtwin analyse --video`
#   chromium                          headless browser the report test loads report.html in
#   slurm-wlm + munge                 a one-node Slurm for the sharded-experiment test (docs/cluster.md)
# Skips apt entirely when everything is already installed.
set -euo pipefail
PACKAGES=(mesa-vulkan-drivers libvulkan1 fonts-dejavu-core python3-venv ffmpeg chromium slurm-wlm munge)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "[setup-system] system packages present"
    exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "[setup-system] installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
