#!/usr/bin/env bash
# Sets up, builds and runs r1's whole test suite (every label but `cuda` unless a GPU build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh
exclude=(-LE cuda)
grep -q "R1_CUDA_ACTIVE:INTERNAL=ON" build/CMakeCache.txt 2>/dev/null && exclude=()
ctest --test-dir build --output-on-failure -j 2 "${exclude[@]}" "$@"
