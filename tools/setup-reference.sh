#!/usr/bin/env bash
# Installs the reference environment: a current PyTorch from PyPI in a
# virtual environment outside the repository. Tests use it for semantics that
# Debian's LibTorch 1.13 lacks (CPU fp16 autocast, torch.amp.GradScaler on
# the CPU, float8 dtypes, torchao, FSDP2) and benchmarks use it as the peer a
# user has today. The build never needs it.
#
# Where:  ${ACCEL_REFERENCE_DIR:-$HOME/.cache/accel/reference}
#         (tests and benchmarks look in the same place; see docs/reference.md)
# Idempotent: when the pinned versions import, it only checks and exits.
# The torch wheel is the CUDA build and pulls about 5 GB of nvidia-* wheels.
set -euo pipefail

REQUIREMENTS=(torch==2.15.0 torchao==0.18.0 accelerate==1.15.0 torchvision==0.29.2 numpy)
dir="${ACCEL_REFERENCE_DIR:-${HOME:?}/.cache/accel/reference}"
python="$dir/bin/python"

check() {
  "$python" - <<'EOF' 2>/dev/null
import importlib.metadata as m
want = {"torch": "2.15.0", "torchao": "0.18.0", "accelerate": "1.15.0",
        "torchvision": "0.29.2"}
for name, version in want.items():
    if m.version(name).split("+")[0] != version:
        raise SystemExit(1)
import torch, torchao, accelerate, torchvision, numpy  # noqa: F401  (they must import)
EOF
}

if [ -x "$python" ] && check; then
  echo "setup-reference: torch 2.15.0, torchao 0.18.0, accelerate 1.15.0, torchvision 0.29.2 present in $dir"
  exit 0
fi

# A Python 3.10+ with the venv module: the one on PATH, else Debian's (which
# needs python3-venv).
base=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    base="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$base" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup-reference: installing python3-venv"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
  base=/usr/bin/python3
fi

echo "setup-reference: creating $dir with $base ($("$base" --version))"
mkdir -p "$(dirname "$dir")"
# Build next to the final place and rename, so an interrupted install never
# leaves a half-filled environment where tests look.
tmp="$dir.partial"
rm -rf "$tmp"
"$base" -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --upgrade pip
"$tmp/bin/python" -m pip install --quiet --progress-bar off "${REQUIREMENTS[@]}"
# bin/python finds its environment through pyvenv.cfg beside it, so the
# moved environment works (its pip script's shebang does not: use -m pip).
rm -rf "$dir"
mv "$tmp" "$dir"
if ! check; then
  echo "setup-reference: $dir was installed but does not import the pinned versions" >&2
  exit 1
fi
echo "setup-reference: done ($dir)"
