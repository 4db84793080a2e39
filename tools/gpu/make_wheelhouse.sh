#!/usr/bin/env bash
# An offline wheelhouse for a GPU machine that has Python, torch, torchvision and the usual
# scientific packages (NumPy, SciPy, OpenCV, Matplotlib, ...) but no OpenMMLab and no network.
#
#   bash tools/gpu/make_wheelhouse.sh [OUT_DIR]        # default .whl (git-ignored), Python 3.12
#   PYTHON_VERSION=3.11 TORCH_VERSION=2.14.1 bash tools/gpu/make_wheelhouse.sh /tmp/wh311
#
# Then, on that machine, from a copy of this repository: bash tools/gpu/gpu_check.sh [OUT_DIR].
# What it holds (~12 MB): mmcv 2.1.0 with its CPU ops compiled here for that machine's torch
# (TORCH_VERSION; mmpose imports mmcv.ops, the model runs none of them), mmengine, mmdet, mmpose,
# mmpretrain, this package, and their dependencies that such a machine lacks, all for
# PYTHON_VERSION. xtcocotools has no wheel for NumPy 2, so it is compiled here too, against
# NumPy 2 (which also runs under NumPy 1.x). Both builds need a local pythonX.Y (pyenv has one on
# this project's machines).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/.whl}" && cd "${1:-$ROOT/.whl}" && pwd)
PYV=${PYTHON_VERSION:-3.12}
PY=${PYTHON:-python3}
TORCH=${TORCH_VERSION:-2.11.0}  # the GPU machine's torch: mmcv's compiled ops are built for it
TARGET_PY=${TARGET_PYTHON:-}
if [ -z "$TARGET_PY" ]; then  # the first pythonX.Y that runs (a pyenv shim may not)
  for candidate in "$HOME"/.pyenv/versions/"$PYV".*/bin/python "$(command -v "python$PYV" || true)"; do
    [ -n "$candidate" ] && "$candidate" -c '' 2>/dev/null && { TARGET_PY=$candidate; break; }
  done
fi
[ -n "$TARGET_PY" ] || { echo "no python$PYV here to compile mmcv and xtcocotools (set TARGET_PYTHON)" >&2; exit 1; }
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
PIN=(mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2 mmpretrain==1.2.0 addict==2.4.0 termcolor==3.3.0
     yapf==0.43.0 platformdirs==4.14.9 json_tricks==3.17.3 munkres==3.0.0 pycocotools==2.0.11
     shapely==2.2.0 terminaltables==3.1.10 mat4py==0.6.0 modelindex==0.0.2 model-index==0.1.11
     ordered-set==4.1.0 importlib-metadata==8.7.0)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { echo "[wheelhouse] $*"; }

log "downloading ${#PIN[@]} wheels for CPython $PYV -> $OUT"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any -d "$OUT" "${PIN[@]}"

# the compiled wheels are cached per target Python and torch: a second run takes seconds
CACHE=${MGPOSE_CACHE:-$HOME/.cache/mgpose_mm/wheels}/cp${PYV/./}-torch-$TORCH
mkdir -p "$CACHE"
if ! ls "$CACHE"/mmcv-2.1.0-*.whl "$CACHE"/xtcocotools-1.14.3-*.whl >/dev/null 2>&1; then
  log "build environment: $TARGET_PY with torch $TORCH (one-off; PyPI's torch wheel is large)"
  "$TARGET_PY" -m venv "$work/build"
  "$work/build/bin/pip" install -q "torch==$TORCH" "numpy>=2" cython ninja "setuptools<70" wheel
  log "building mmcv 2.1.0 with CPU ops for torch $TORCH (~8 min on 2 cores)"
  PYTHON="$work/build/bin/python" bash "$ROOT/tools/build_mmcv.sh" "$CACHE"
  log "building xtcocotools 1.14.3 against NumPy 2"
  "$work/build/bin/pip" wheel -q --no-deps --no-build-isolation --no-binary xtcocotools -w "$CACHE" \
    xtcocotools==1.14.3
fi
cp "$CACHE"/mmcv-2.1.0-*.whl "$CACHE"/xtcocotools-1.14.3-*.whl "$OUT"/

log "building mgpose_mm"
# from a copy of the working tree: a wheel build replaces the checkout's mgpose_mm/.mim links
mkdir "$work/src"
(cd "$ROOT" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$work/src"
(cd "$work/src" && "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT" .)
log "done: $(ls "$OUT" | wc -l) wheels, $(du -sh "$OUT" | cut -f1)"
