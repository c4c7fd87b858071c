#!/usr/bin/env bash
# Installs every Debian package accel needs to build and test, non-interactively.
# Idempotent: when everything is already installed it only checks and exits.
set -euo pipefail

PACKAGES=(
  # Build.
  bazel-bootstrap g++ python3
  # IR: MLIR/LLVM 22 (shared libMLIR.so, mlir-tblgen, FileCheck, lit).
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # Tests; fuzzing (tools/fuzz.sh: clang with libFuzzer and the sanitizers).
  libgtest-dev clang-14 libclang-rt-14-dev
  # Import and reference numerics.
  libtorch-dev python3-torch python3-torchvision
  # CPU math (products; convolutions: oneDNN) and multi-process.
  libopenblas-dev libdnnl-dev libopenmpi-dev openmpi-bin
  # Real data (IDX files, gzip-compressed: read with zlib).
  dataset-fashion-mnist zlib1g-dev
  # The lowered program as a file (runtime/io/ProgramFile.fbs).
  flatbuffers-compiler libflatbuffers-dev
  # OpenCL on the CPU (the opencl driver plugin; CLBlast for its products).
  pocl-opencl-icd ocl-icd-opencl-dev opencl-c-headers libclblast-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
