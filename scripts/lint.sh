#!/usr/bin/env bash
# Static checks, run before the tests (.ci/run calls it after scripts/setup.sh has installed
# clang-format-14 and clang-tidy-14). Runs every check, prints one summary line per check with its
# time, and exits non-zero if any failed; a check whose tool or input is missing is skipped.
#   format  clang-format-14 --dry-run --Werror over every C++/CUDA source git knows (.clang-format)
#   tidy    clang-tidy-14 (.clang-tidy) over the *.cpp changed since BASE (the first
#           LINT_TIDY_MAX, default 4: about a minute each), compiled as build/compile_commands.json
#           says (CMake writes it when it configures build/); fails on errors, lists warnings
#   layers  scripts/check_layers.py: each #include "folder/..." names a library the file links
#   dups    duplicates --change --base BASE: the change copies no lines (where `duplicates`
#           exists; pairs alike only in shape are listed, not failed)
# Usage: scripts/lint.sh [--fix] [--no-format]
#   --fix        clang-format -i the files that differ, then check
#   --no-format  leave the format check out
# BASE is LINT_BASE if set, else origin/main (its merge base with HEAD) if it exists, else HEAD~1;
# when that is HEAD itself (CI on main), HEAD~1: the last commit is the change.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

fix=0
format=1
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    --no-format) format=0 ;;
    *) echo "usage: scripts/lint.sh [--fix] [--no-format]" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary=()
failed=0
now() { date +%s.%N; }
# record NAME STATUS(ok|FAIL|skip) START DETAIL
record() {
  local t
  t=$(awk -v a="$3" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  summary+=("$(printf 'lint: %-7s %-4s %6s s  %s' "$1" "$2" "$t" "$4")")
  [ "$2" = FAIL ] && failed=1
  return 0
}

# Every C++/CUDA source git knows: tracked, and untracked but not ignored (about to be added).
mapfile -d '' -t known < <(git ls-files -z --cached --others --exclude-standard -- \
  '*.h' '*.cpp' '*.cu' '*.cuh' | sort -zu)
sources=()
for f in "${known[@]}"; do [ -f "$f" ] && sources+=("$f"); done

# The base of the change, for tidy and dups; empty when the history has no such commit.
base=""
if [ -n "${LINT_BASE:-}" ]; then
  base=$(git rev-parse --verify -q "${LINT_BASE}^{commit}") || {
    echo "lint: LINT_BASE=$LINT_BASE is not a commit" >&2; exit 2; }
  base_name=$LINT_BASE
elif git rev-parse --verify -q 'origin/main^{commit}' >/dev/null; then
  base=$(git merge-base origin/main HEAD 2>/dev/null || true)
  base_name="origin/main"
fi
if [ -z "${LINT_BASE:-}" ] && { [ -z "$base" ] || [ "$base" = "$(git rev-parse HEAD)" ]; }; then
  base=$(git rev-parse --verify -q 'HEAD~1^{commit}' || true)
  base_name="HEAD~1"
fi
[ -n "$base" ] && echo "lint: the change is measured from $base_name (${base:0:12})"

# --- format ---------------------------------------------------------------------------------
start=$(now)
if [ $format -eq 0 ]; then
  record format skip "$start" "--no-format"
elif ! command -v clang-format-14 >/dev/null; then
  record format skip "$start" "clang-format-14 is not installed (scripts/setup.sh installs it)"
else
  # format_differs: the files clang-format would change, into $tmp/differ (one per line).
  format_differs() {
    : > "$tmp/differ"
    [ ${#sources[@]} -eq 0 ] && return  # (no file: clang-format would read stdin)
    clang-format-14 --dry-run --Werror "${sources[@]}" 2>&1 |
      sed -nE 's/^(.+):[0-9]+:[0-9]+: (error|warning): .*/\1/p' | sort -u > "$tmp/differ"
  }
  format_differs
  if [ $fix -eq 1 ] && [ -s "$tmp/differ" ]; then
    mapfile -t differ < "$tmp/differ"
    clang-format-14 -i "${differ[@]}"
    echo "lint: clang-format -i rewrote ${#differ[@]} files"
    format_differs
  fi
  n=$(wc -l < "$tmp/differ")
  if [ "$n" -eq 0 ]; then
    record format ok "$start" "${#sources[@]} files formatted as .clang-format says"
  else
    echo "lint: format: these files differ from what clang-format-14 (.clang-format) writes:"
    sed 's/^/  /' "$tmp/differ"
    echo "lint: format: $n files differ; run scripts/lint.sh --fix to rewrite them (clang-format -i)"
    record format FAIL "$start" "$n of ${#sources[@]} files differ (scripts/lint.sh --fix)"
  fi
fi

# --- tidy -----------------------------------------------------------------------------------
start=$(now)
if ! command -v clang-tidy-14 >/dev/null; then
  record tidy skip "$start" "clang-tidy-14 is not installed (scripts/setup.sh installs it)"
elif [ ! -f build/compile_commands.json ]; then
  record tidy skip "$start" "no build/compile_commands.json: configure first (cmake -S . -B build -G Ninja)"
elif [ -z "$base" ]; then
  record tidy skip "$start" "no base commit to diff against (set LINT_BASE)"
else
  mapfile -t changed < <({ git diff --name-only --diff-filter=d "$base" -- '*.cpp'
    git ls-files --others --exclude-standard -- '*.cpp'; } | sort -u)
  # A copy of the compile database with only the changed files, without CMake's precompiled
  # header: clang cannot read GCC's cmake_pch.hxx.gch (each file then parses its own includes, as
  # with -DR1_TORCH_PCH=OFF). Prints the changed files the database does not compile.
  mapfile -t unbuilt < <(python3 - "$root" "$tmp/db" "${changed[@]}" <<'PY'
import json, os, shlex, sys
root, out, changed = sys.argv[1], sys.argv[2], sys.argv[3:]
want = {os.path.join(root, f): f for f in changed}
entries, seen = [], set()
for e in json.load(open(os.path.join(root, "build", "compile_commands.json"))):
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if path not in want or path in seen:
        continue
    args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    keep, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
        elif a == "-include" and i + 1 < len(args) and args[i + 1].endswith("cmake_pch.hxx"):
            skip = True
        elif a != "-Winvalid-pch":
            keep.append(a)
    entries.append({"directory": e["directory"], "file": path, "arguments": keep})
    seen.add(path)
os.makedirs(out, exist_ok=True)
json.dump(entries, open(os.path.join(out, "compile_commands.json"), "w"))
for path, rel in want.items():
    if path not in seen:
        print(rel)
PY
  )
  for f in "${unbuilt[@]}"; do
    echo "lint: tidy: $f is not in build/compile_commands.json (not built by CMake): left out"
  done
  checked=0 warnings=0 errors=0 left=0
  for f in "${changed[@]}"; do
    printf '%s\n' "${unbuilt[@]}" | grep -qxF -- "$f" && continue
    # About a minute per file that includes LibTorch: CI checks the first LINT_TIDY_MAX.
    if [ "$checked" -ge "${LINT_TIDY_MAX:-4}" ]; then left=$((left + 1)); continue; fi
    # -Wno-unknown-warning-option: the database is GCC's (-Wno-restrict, -Wno-stringop-overflow);
    # -Wno-error: only .clang-tidy's WarningsAsErrors, and real errors, fail the check.
    t0=$(now)
    clang-tidy-14 -p "$tmp/db" -quiet --extra-arg=-Wno-unknown-warning-option \
      --extra-arg=-Wno-error "$f" > "$tmp/tidy.out" 2>&1
    rc=$?
    grep -vE '^[0-9]+ (warnings?|errors?)( and [0-9]+ errors?)? generated\.$' "$tmp/tidy.out"
    checked=$((checked + 1))
    w=$(grep -cE ': warning: .*\[[a-z0-9.,-]+\]$' "$tmp/tidy.out")
    warnings=$((warnings + w))
    echo "lint: tidy: $f: $w warnings, exit $rc ($(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s)"
    [ $rc -ne 0 ] && errors=$((errors + 1))
  done
  detail="$checked changed .cpp since $base_name, $warnings warnings"
  [ $left -gt 0 ] && detail="$detail, $left more not checked (LINT_TIDY_MAX=${LINT_TIDY_MAX:-4})"
  if [ $errors -gt 0 ]; then
    record tidy FAIL "$start" "$detail, $errors files with errors"
  else
    record tidy ok "$start" "$detail"
  fi
fi

# --- layers ---------------------------------------------------------------------------------
start=$(now)
if ! command -v python3 >/dev/null; then
  record layers skip "$start" "python3 is not installed"
elif python3 scripts/check_layers.py 2> "$tmp/layers.err"; then
  record layers ok "$start" "$(tail -n 1 "$tmp/layers.err")"
else
  rc=$?
  cat "$tmp/layers.err"
  record layers FAIL "$start" "$(tail -n 1 "$tmp/layers.err") (exit $rc)"
fi

# --- dups -----------------------------------------------------------------------------------
start=$(now)
if ! command -v duplicates >/dev/null; then
  record dups skip "$start" "duplicates is not on PATH"
elif [ -z "$base" ]; then
  record dups skip "$start" "no base commit to diff against (set LINT_BASE)"
else
  duplicates --change --base "$base" --seconds "${LINT_DUP_SECONDS:-120}" > "$tmp/dups" 2>&1
  first=$(head -n 1 "$tmp/dups")
  # A pair that shares lines to the letter fails; one alike only in shape (other names and
  # values: field lists, declarations) is listed for a look.
  copies=$(grep -E '^D[0-9]+ ' "$tmp/dups" | grep -vc ' shape')
  if [[ "$first" == "no duplicates"* ]] && ! grep -q '^incomplete:' "$tmp/dups"; then
    record dups ok "$start" "$first"
  elif [ "$copies" -eq 0 ] && ! grep -q '^incomplete:' "$tmp/dups"; then
    cat "$tmp/dups"
    record dups ok "$start" "no copied lines; $(grep -cE '^D[0-9]+ ' "$tmp/dups") pairs alike in shape only"
  else
    cat "$tmp/dups"
    record dups FAIL "$start" "$copies pairs share lines to the letter: $first"
  fi
fi

printf '%s\n' "${summary[@]}"
exit $failed
