#!/usr/bin/env bash
# Build the mmcv 2.1.0 wheel with its compiled CPU ops from the PyPI sdist, for the torch of
# PYTHON (tools/install.sh and tools/gpu/make_wheelhouse.sh use it; ~8 min on 2 cores).
#
#   PYTHON=/path/to/python bash tools/build_mmcv.sh OUT_DIR
#
# PYTHON needs torch, ninja, wheel and setuptools < 70 (mmcv's setup.py imports pkg_resources).
set -euo pipefail
PY=${PYTHON:-python3}
OUT=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: -d "$work" mmcv==2.1.0
tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
# torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes c++14/17.
sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$work"/mmcv-2.1.0/setup.py
# Python's own CFLAGS are "-g -O3": debug info makes each file ~2x slower to compile and the
# extension 82 MB. CFLAGS is appended after them, so "-g0 -O2" wins; every op is still built.
(cd "$work"/mmcv-2.1.0 && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
   CFLAGS="${MGPOSE_MMCV_CFLAGS:--g0 -O2}" \
   "$PY" -m pip wheel -q --no-build-isolation --no-deps -w "$OUT" .)
