#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/CMakeLists.txt, clang-14, separate from the main GCC
# build) into BUILD_DIR/fuzz and runs one of them briefly: $R1_FUZZ_TARGET, grader (default),
# request (r1serve's request bodies), http (r1serve's HTTP framing and bodies) or yaml (recipes and gates files). Exits non-zero on any
# finding (crash, sanitizer report, timeout, leak, out-of-memory) and prints the reproducer's path.
#   run_fuzz.sh [BUILD_DIR]           fuzz from the seed corpus for $R1_FUZZ_SECONDS (default 30)
#   run_fuzz.sh BUILD_DIR FILE...     regression mode: run only the given inputs once each
# The seeds in tests/fuzz/corpus/TARGET are copied to a temporary corpus; the repository is not
# written.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
mkdir -p "$build"
build=$(cd "$build" && pwd)
fuzz_build=$build/fuzz

# Configure once (cmake --build re-runs configure itself when the glob or CMakeLists change).
if [ ! -f "$fuzz_build/CMakeCache.txt" ]; then
  CC=${CC_FUZZ:-clang-14} CXX=${CXX_FUZZ:-clang++-14} \
    cmake -S "$here" -B "$fuzz_build" -G Ninja >/dev/null
fi
cmake --build "$fuzz_build" -j "${R1_FUZZ_JOBS:-2}"
target=${R1_FUZZ_TARGET:-grader}
fuzzer=$fuzz_build/fuzz_$target
[ -x "$fuzzer" ] || { echo "run_fuzz: no target '$target' (grader, request, http, yaml)" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:fast_unwind_on_fatal=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:fast_unwind_on_fatal=0}
limits=(-timeout=10 -rss_limit_mb=2048 -max_len=4096)

if [ $# -gt 0 ]; then  # regression mode
  if "$fuzzer" "${limits[@]}" "$@"; then
    echo "run_fuzz: $# input(s) ok"
    exit 0
  fi
  echo "run_fuzz: FAILED on one of: $*" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/r1_fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$here/corpus/$target"/* "$work/corpus/"
findings=$fuzz_build/findings/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$findings"

status=0
# $R1_FUZZ_RUNS (with $R1_FUZZ_SEED, default 1) makes the run reproducible: the same inputs on any
# machine, as ctest needs; without it, exploratory fuzzing for $R1_FUZZ_SECONDS.
budget=(-max_total_time="${R1_FUZZ_SECONDS:-30}")
[ -n "${R1_FUZZ_RUNS:-}" ] && budget=(-runs="$R1_FUZZ_RUNS" -seed="${R1_FUZZ_SEED:-1}")
# Address-space randomisation off where the kernel allows it (setarch -R): GiNaC orders terms by
# hashes that can depend on addresses, so with it on a seeded run can take another path on
# another machine. The log goes to a file: ctest keeps only part of a long output, and the end
# (the finding) is what matters.
norand=()
setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)
log=$work/fuzz.log
"${norand[@]}" "$fuzzer" "${limits[@]}" "${budget[@]}" -print_final_stats=1 \
  -artifact_prefix="$findings/" "$work/corpus" >"$log" 2>&1 || status=$?
grep -m1 -E "^INFO: Seed" "$log" || true
tail -n 8 "$log"

# slow-unit-* files are informational; everything else libFuzzer writes is a finding.
mapfile -t found < <(find "$findings" -type f ! -name 'slow-unit-*' | sort)
if [ "$status" -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
  echo "run_fuzz: FAILED (fuzzer exit $status)" >&2
  # What libFuzzer and the sanitizers said, without the progress lines.
  grep -v -E "^#[0-9]+" "$log" | tail -n 80 >&2
  for f in "${found[@]}"; do
    echo "run_fuzz: reproducer: $f  (replay: bash $0 $build $f)" >&2
    echo "run_fuzz: its bytes (hex): $(head -c 600 "$f" | od -An -tx1 | tr -d ' \n')" >&2
  done
  exit 1
fi
rmdir "$findings" 2>/dev/null || true
echo "run_fuzz: no findings (${budget[*]})"
