#!/usr/bin/env bash
# Sets up, builds and runs r1's test suite: every label but `cuda` (unless a GPU build) and `long`
# (learning runs of minutes that CI leaves to committed results). `scripts/test.sh --long` runs
# those too; other arguments go to ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
long=0
if [ "${1:-}" = "--long" ]; then
  long=1
  shift
fi
scripts/build.sh
skip=(cuda long)
grep -q "R1_CUDA_ACTIVE:INTERNAL=ON" build/CMakeCache.txt 2>/dev/null && skip=("${skip[@]/cuda}")
[ $long -eq 1 ] && skip=("${skip[@]/long}")
pattern=$(printf '%s\n' "${skip[@]}" | grep -v '^$' | paste -sd'|' || true)
exclude=()
[ -n "$pattern" ] && exclude=(-LE "^($pattern)\$")
ctest --test-dir build --output-on-failure -j 2 "${exclude[@]}" "$@"
