#!/usr/bin/env bash
# Sets up, builds and runs r1's test suite: every label but `cuda` (unless a GPU build) and `long`
# (learning runs of minutes that CI leaves to committed results). `scripts/test.sh --long` runs
# those too; `scripts/test.sh --quick` only the inner loop (the unit tests that are not `heavy`:
# under a minute on 2 cores, docs/testing.md); other arguments go to ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
long=0
quick=0
case "${1:-}" in
  --long) long=1; shift ;;
  --quick) quick=1; shift ;;
esac
scripts/build.sh
skip=(cuda long)
grep -q "R1_CUDA_ACTIVE:INTERNAL=ON" build/CMakeCache.txt 2>/dev/null && skip=("${skip[@]/cuda}")
[ $long -eq 1 ] && skip=("${skip[@]/long}")
select=()
[ $quick -eq 1 ] && select=(-L unit) && skip=(cuda long slow heavy)
pattern=$(printf '%s\n' "${skip[@]}" | grep -v '^$' | paste -sd'|' || true)
[ -n "$pattern" ] && select+=(-LE "^($pattern)\$")
ctest --test-dir build --output-on-failure -j 2 "${select[@]}" "$@"
