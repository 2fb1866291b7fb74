#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and builds r1 into build/ (binaries in build/bin/). Extra arguments
# go to CMake's configure step, e.g. scripts/build.sh -DR1_CUDA=ON.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
if [ ! -f build/build.ninja ] || [ $# -gt 0 ]; then
  cmake -S . -B build -G Ninja "$@" >/dev/null
fi
cmake --build build -j "$(nproc)"
