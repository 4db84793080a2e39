#!/usr/bin/env bash
# Idempotent set-up of the OpenMMLab stack + mgpose_mm into the active Python environment.
#
#   bash tools/install.sh            # installs whatever is missing, reuses everything else
#
# Each step is skipped when what it installs already imports. The mmcv 2.1.0 wheel (compiled CPU
# ops, ~10 min on 2 cores) and the xtcocotools wheel are cached in $MGPOSE_CACHE (default
# ~/.cache/mgpose_mm/wheels/torch-<version>), so a second install on the same machine takes seconds.
# CUDA users: install your own torch and mmcv first (e.g. `mim install mmcv==2.1.0`); this script
# keeps any torch that imports and any mmcv 2.1.0 whose ops import.
set -euo pipefail

PY=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
PIP="$PY -m pip --disable-pip-version-check"
CACHE=${MGPOSE_CACHE:-$HOME/.cache/mgpose_mm/wheels}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
t0=$(date +%s)
log() { echo "[install $(( $(date +%s) - t0 ))s] $*"; }
have() { "$PY" -c "$1" >/dev/null 2>&1; }

log "python: $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"

# mmcv's setup.py, mmengine 0.10.7 and openmim import pkg_resources (gone from setuptools >= 81).
# torch 2.14 asks for setuptools >= 77, so every install after torch's is constrained and the pin
# is re-applied at the end.
CONSTRAINTS="-c $ROOT/tools/constraints.txt"
[ -f /etc/xdg/pip/constraints.txt ] && CONSTRAINTS="$CONSTRAINTS -c /etc/xdg/pip/constraints.txt"
pin_setuptools() {
  have "import setuptools, pkg_resources, wheel; assert int(setuptools.__version__.split('.')[0]) < 70" \
    || $PIP install -q $CONSTRAINTS "setuptools<70" wheel
}

if have "import torch, torchvision"; then
  log "torch $($PY -c 'import torch; print(torch.__version__)') already installed"
else
  log "installing torch + torchvision"
  $PIP install -q "torch==${MGPOSE_TORCH:-2.14.1}" "torchvision==${MGPOSE_TORCHVISION:-0.29.1}"
fi

# Later installs must not move torch/torchvision (a resolver backtracking on the setuptools pin
# would otherwise downgrade them), and the mmcv wheel is cached per torch version.
TORCH_PIN=$(mktemp)
trap 'rm -f "$TORCH_PIN"' EXIT
"$PY" -c "import torch, torchvision; print(f'torch=={torch.__version__}'); print(f'torchvision=={torchvision.__version__}')" > "$TORCH_PIN"
# torch < 2.4 was compiled against NumPy 1.x and fails under NumPy 2 ("Failed to initialize NumPy:
# _ARRAY_API not found"). NumPy is held below 2 from here on, so pip picks the opencv-python, onnx
# and onnxruntime releases that still accept NumPy 1.x.
if "$PY" -c "import sys, torch; sys.exit(tuple(map(int, torch.__version__.split('.')[:2])) >= (2, 4))"; then
  log "torch < 2.4: keeping numpy < 2"
  echo 'numpy<2' >> "$TORCH_PIN"
  # torchvision's install, or an earlier set-up, may have brought NumPy 2 already
  have "import numpy; assert int(numpy.__version__.split('.')[0]) < 2" \
    || $PIP install -q $CONSTRAINTS -c "$TORCH_PIN" "numpy<2"
fi
CONSTRAINTS="$CONSTRAINTS -c $TORCH_PIN"
CACHE="$CACHE/torch-$("$PY" -c 'import torch; print(torch.__version__)')"
mkdir -p "$CACHE"
pin_setuptools
# the tested torch range is setup.py's requirement
TORCH_RANGE=$(sed -n "s/.*'\(torch[<>=][^']*\)'.*/\1/p" "$ROOT/setup.py" | head -n 1)
"$PY" - "$TORCH_RANGE" <<'PY' || log "warning: torch $("$PY" -c 'import torch; print(torch.__version__)') is outside the tested range $TORCH_RANGE"
import sys, pkg_resources, torch
sys.exit(torch.__version__.split('+')[0] not in pkg_resources.Requirement.parse(sys.argv[1]))
PY
have "import mmengine; assert mmengine.__version__ == '0.10.7'" || $PIP install -q $CONSTRAINTS mmengine==0.10.7

build_mmcv() {
  log "building mmcv 2.1.0 with CPU ops from source (one-off, ~8 min on 2 cores)"
  # ninja compiles MAX_JOBS files at once (setuptools alone compiles one at a time).
  have "import ninja" || $PIP install -q $CONSTRAINTS ninja
  PYTHON="$PY" bash "$ROOT/tools/build_mmcv.sh" "$CACHE"
}
if have "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'"; then
  log "mmcv 2.1.0 with ops already installed"
else
  ls "$CACHE"/mmcv-2.1.0-*.whl >/dev/null 2>&1 || build_mmcv
  log "installing cached $(ls "$CACHE"/mmcv-2.1.0-*.whl)"
  $PIP install -q $CONSTRAINTS "$CACHE"/mmcv-2.1.0-*.whl
  have "import mmcv.ops" || { echo "mmcv installed without its compiled ops" >&2; exit 1; }
fi

# xtcocotools' PyPI wheel is built against NumPy 1.x; under NumPy 2 build it from source.
if ! have "import xtcocotools.coco"; then
  if have "import numpy; assert int(numpy.__version__.split('.')[0]) < 2"; then
    XTCOCO_BUILD=""
  else
    XTCOCO_BUILD="--no-binary xtcocotools"
  fi
  ls "$CACHE"/xtcocotools-1.14.3-*.whl >/dev/null 2>&1 \
    || $PIP wheel -q $XTCOCO_BUILD --no-deps -w "$CACHE" xtcocotools==1.14.3
  $PIP install -q $CONSTRAINTS "$CACHE"/xtcocotools-1.14.3-*.whl
fi

have "import mmdet; assert mmdet.__version__ == '3.3.0'" || $PIP install -q $CONSTRAINTS mmdet==3.3.0
have "import mmpretrain; assert mmpretrain.__version__ == '1.2.0'" || $PIP install -q $CONSTRAINTS mmpretrain==1.2.0
if ! have "import mmpose; assert mmpose.__version__ == '1.3.2'"; then
  # chumpy (SMPL only) does not build on modern pip: install mmpose without it.
  $PIP install -q $CONSTRAINTS --no-deps mmpose==1.3.2
  $PIP install -q $CONSTRAINTS json_tricks munkres matplotlib opencv-python pillow scipy
fi

# shapely: the PoseTrack ignore regions (as poseval and the PoseTrack21 kit).
have "import shapely; assert int(shapely.__version__.split('.')[0]) >= 2" \
  || $PIP install -q $CONSTRAINTS "shapely>=2.0"

# The plugin itself, its test and export extras, and the lint tools CI runs before the tests.
# (re)install when another checkout's editable install shadows this one; checked from / because
# `python -c` in this folder would import ./mgpose_mm whatever is installed
(cd / && have "import os, mgpose_mm, pytest, xdist, onnx, onnxruntime, mim, flake8, isort, yapf; \
assert os.path.dirname(os.path.dirname(os.path.realpath(mgpose_mm.__file__))) == os.path.realpath('$ROOT')") \
  || { $PIP install -q $CONSTRAINTS pytest pytest-xdist onnx onnxruntime openmim -r "$ROOT/requirements/lint.txt" \
       && $PIP install -q $CONSTRAINTS --no-deps --no-build-isolation -e "$ROOT"; }
pin_setuptools

$PY - <<'PY'
import pkg_resources, torch, mmcv, mmcv.ops, mmengine, mmdet, mmpose, mmpretrain, mgpose_mm
print(f'[install] ok: torch {torch.__version__}, mmengine {mmengine.__version__}, mmcv {mmcv.__version__} (ops), '
      f'mmdet {mmdet.__version__}, mmpose {mmpose.__version__}, mmpretrain {mmpretrain.__version__}, '
      f'mgpose_mm {mgpose_mm.__version__}')
PY
log "done"
