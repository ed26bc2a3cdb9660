#!/usr/bin/env bash
# Builds tapeflow and runs every doctest suite registered in tests/**/meson.build.
#   bash tools/test.sh [BUILD_DIR [meson setup options...]]     (BUILD_DIR defaults to build)
# e.g. CXX=clang++-19 bash tools/test.sh build-clang -Dbench=false
# Exits non-zero when the build or any test fails; TAPEFLOW_TALLY=FILE also records the case
# counts there for .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dir=${1:-build}
shift || true
jobs=${JOBS:-$(nproc)}
# Tests compare floats, and meson runs test programs in parallel: one BLAS thread each.
export OPENBLAS_NUM_THREADS=1

if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir" "$@"
elif [[ $# -gt 0 ]]; then
  meson setup --reconfigure "$dir" "$@"
fi
ninja -C "$dir" -j "$jobs"

rc=0
meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" || rc=$?
python3 tools/ci_summary.py run "$dir" "$dir/meson-logs/testlog.json" ${TAPEFLOW_TALLY:+"$TAPEFLOW_TALLY"}
exit $rc
