#!/bin/sh
# Runs every benchmark and prints one markdown table, preceded by the machine facts.
#
#   bench/run_all.sh [build-dir] [--quick]
#
# The build dir defaults to build-bench (configure it with --buildtype=release). MLP runs at 1
# and at 2 OpenBLAS threads; everything else at 1. OPENBLAS_CORETYPE is left as the environment
# sets it, and printed.
set -eu

build=build-bench
quick=
for arg in "$@"; do
  case "$arg" in
    --quick) quick=--quick ;;
    -*) echo "usage: $0 [build-dir] [--quick]" >&2; exit 2 ;;
    *) build=$arg ;;
  esac
done
bench="$build/bench"
for program in tape_overhead mlp; do
  if [ ! -x "$bench/bench_$program" ]; then
    echo "$0: $bench/bench_$program not built (meson setup $build --buildtype=release;" \
         "ninja -C $build)" >&2
    exit 1
  fi
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "machine: $(nproc) cores, $cpu, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git: $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "| program | case | time | unit | vs baseline | allocs | note |"
echo "|---|---|---:|---|---:|---:|---|"
status=0
OPENBLAS_NUM_THREADS=1 "$bench/bench_tape_overhead" --rows-only $quick || status=1
OPENBLAS_NUM_THREADS=1 "$bench/bench_mlp" --rows-only $quick || status=1
OPENBLAS_NUM_THREADS=2 "$bench/bench_mlp" --rows-only $quick || status=1
# Every other bench program (the optimizers', and libtorch's when built with -Dlibtorch=true), at
# 1 OpenBLAS thread; those that take --threads run again at 2.
for program in "$bench"/bench_*; do
  case "$(basename "$program")" in
    bench_tape_overhead | bench_mlp | *.p) continue ;;
  esac
  [ -x "$program" ] || continue
  OPENBLAS_NUM_THREADS=1 "$program" --rows-only $quick || status=1
  case "$(basename "$program")" in
    bench_adagrad_dense | bench_adagrad_sparse | bench_optimizers | bench_torch_adagrad | bench_torch_mlp)
      OPENBLAS_NUM_THREADS=2 "$program" --rows-only --threads 2 $quick || status=1 ;;
  esac
done
exit $status
