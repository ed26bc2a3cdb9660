#!/usr/bin/env bash
# Installs what tapeflow needs to build and test on Debian 12 (bookworm), as root or via sudo.
#   bash tools/install_deps.sh        build + test dependencies (g++)
#   bash tools/install_deps.sh --ci   also clang++-19 with its sanitizer runtime, and cmake
# libopenblas-dev is named on purpose: a fresh machine has the slow reference BLAS, which would
# otherwise satisfy xtensor-blas.
set -euo pipefail

packages=(meson ninja-build pkg-config g++ python3
          libxtensor-dev libxtensor-blas-dev libopenblas-dev libfmt-dev nlohmann-json3-dev
          doctest-dev)
if [[ "${1:-}" == "--ci" ]]; then
  packages+=(clang-19 libclang-rt-19-dev cmake clang-tools-19 python3-nbformat)
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=300
"${sudo[@]}" apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${packages[@]}"
