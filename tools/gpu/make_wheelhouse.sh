#!/usr/bin/env bash
# An offline wheelhouse for a GPU machine that has Python, torch, torchvision and the usual
# scientific packages (NumPy, SciPy, OpenCV, Matplotlib, ...) but no OpenMMLab and no network.
#
#   bash tools/gpu/make_wheelhouse.sh [OUT_DIR]        # default .whl (git-ignored), Python 3.12
#   PYTHON_VERSION=3.11 bash tools/gpu/make_wheelhouse.sh /tmp/wh311
#
# Then, on that machine, from a copy of this repository: bash tools/gpu/gpu_check.sh [OUT_DIR].
# What it holds (~10 MB): mmcv 2.1.0 built here without compiled ops (as mmcv-lite) (the model, training and the
# benchmark need none; mmdet's detectors do), mmengine, mmdet, mmpose, mmpretrain, this package,
# and their pure-Python or binary dependencies that such a machine lacks, all for PYTHON_VERSION.
# xtcocotools has no wheel for NumPy 2, so it is compiled here with a local pythonX.Y (pyenv has
# one on this project's machines) against NumPy 2, which also runs under NumPy 1.x.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/.whl}" && cd "${1:-$ROOT/.whl}" && pwd)
PYV=${PYTHON_VERSION:-3.12}
PY=${PYTHON:-python3}
TARGET_PY=${TARGET_PYTHON:-}
if [ -z "$TARGET_PY" ]; then  # the first pythonX.Y that runs (a pyenv shim may not)
  for candidate in "$HOME"/.pyenv/versions/"$PYV".*/bin/python "$(command -v "python$PYV" || true)"; do
    [ -n "$candidate" ] && "$candidate" -c '' 2>/dev/null && { TARGET_PY=$candidate; break; }
  done
fi
[ -n "$TARGET_PY" ] || { echo "no python$PYV here to compile xtcocotools (set TARGET_PYTHON)" >&2; exit 1; }
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
PIN=(mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2 mmpretrain==1.2.0 addict==2.4.0 termcolor==3.3.0
     yapf==0.43.0 platformdirs==4.14.9 json_tricks==3.17.3 munkres==3.0.0 pycocotools==2.0.11
     shapely==2.2.0 terminaltables==3.1.10 mat4py==0.6.0 modelindex==0.0.2 model-index==0.1.11
     ordered-set==4.1.0 importlib-metadata==10.2.0)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { echo "[wheelhouse] $*"; }

log "downloading ${#PIN[@]} wheels for CPython $PYV -> $OUT"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any -d "$OUT" "${PIN[@]}"

log "building mmcv 2.1.0 without compiled ops"
"$PY" -m pip download -q --no-deps --no-binary :all: -d "$work" mmcv==2.1.0
tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
(cd "$work"/mmcv-2.1.0 && MMCV_WITH_OPS=0 "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT" .)

log "building xtcocotools 1.14.3 with $TARGET_PY against NumPy 2"
"$TARGET_PY" -m venv "$work/build"
"$work/build/bin/pip" install -q "numpy>=2" cython "setuptools<70" wheel
"$work/build/bin/pip" wheel -q --no-deps --no-build-isolation --no-binary xtcocotools -w "$OUT" xtcocotools==1.14.3

log "building mgpose_mm"
# from a copy of the working tree: a wheel build replaces the checkout's mgpose_mm/.mim links
mkdir "$work/src"
(cd "$ROOT" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$work/src"
(cd "$work/src" && "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT" .)
log "done: $(ls "$OUT" | wc -l) wheels, $(du -sh "$OUT" | cut -f1)"
