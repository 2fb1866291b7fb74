#!/usr/bin/env bash
# One-time, idempotent set-up of a fresh Debian 12 machine for r1: the Debian packages the build
# and scripts/lint.sh (clang-format-14, clang-tidy-14) need, and .venv with pinned torch (its
# LibTorch is r1's C++ dependency) plus the Python reference packages used by tests/reference and
# tests/bench. Safe to re-run; does nothing twice (a second run takes ~7 s: hashing the models).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

apt_packages=(build-essential cmake ninja-build pkg-config git python3 python3-venv python3-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libpcre2-dev libutf8proc-dev libginac-dev libseccomp-dev bubblewrap libgmp-dev clang-14 libclang-rt-14-dev
  clang-format-14 clang-tidy-14 libboost-dev libssl-dev zlib1g-dev libyaml-cpp-dev chromium-headless-shell)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py=${R1_PYTHON:-python3}
stamp=.venv/.r1-requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv from requirements.txt (torch is large: a few minutes the first time)"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
# The two real GGUF models the `model` tests and benchmarks use (~590 MB in ~/.cache/r1/models).
scripts/fetch_models.sh
echo "setup: ok ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
