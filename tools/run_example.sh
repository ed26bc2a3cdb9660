#!/usr/bin/env bash
# Builds the library and one example, then runs it: bash tools/run_example.sh [NAME] [BUILD_DIR]
# (the flagship example by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name=${1:-fit_line}
dir=${2:-build}
if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir"
fi
ninja -C "$dir" -j "${JOBS:-$(nproc)}" "examples/$name"
exec "$dir/examples/$name"
