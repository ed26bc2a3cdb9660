#!/usr/bin/env bash
# Builds the library and one example, then runs it: bash tools/run_example.sh [NAME] [BUILD_DIR]
# (the flagship, digits_adagrad, by default: an MLP trained on the UCI digits with Adagrad and a
# schedule through compile/fit; it checks 95% held-out accuracy and a checkpoint round trip).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name=${1:-digits_adagrad}
dir=${2:-build}
if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir"
fi
ninja -C "$dir" -j "${JOBS:-$(nproc)}" "examples/$name"
exec "$dir/examples/$name"
