#!/usr/bin/env bash
# The GPU check, in one command on a machine with torch + CUDA but no OpenMMLab and no network:
# installs the wheelhouse of tools/gpu/make_wheelhouse.sh offline, then writes gpu_check.md with
#   1. the benchmark of the default PoseTrack ViT-B config (eps 0 and its own pruning, MMPose's
#      ViTPose-B beside it, AMP) at batch 1 and 32, and
#   2. a short AMP training run of the tiny config on synthetic videos (s/iteration, loss, AP).
#
#   bash tools/gpu/gpu_check.sh [WHEELHOUSE] [OUT_DIR]     # defaults: .whl, work_dirs/gpu_check
#   DEVICE=cpu AMP= BATCHES="1 2" CONFIG=<tiny config> bash tools/gpu/gpu_check.sh   # a CPU rehearsal
#
# Run from the repository root. Packages go to $SITE (default /tmp/mgpose_site) on PYTHONPATH,
# installed with --no-deps: what the machine already has (torch, NumPy, OpenCV, ...) is used as is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WH=${1:-.whl}
OUT=${2:-work_dirs/gpu_check}
PY=${PYTHON:-python3}
SITE=${SITE:-/tmp/mgpose_site}
DEVICE=${DEVICE:-cuda}
AMP=${AMP---amp}
BATCHES=${BATCHES:-1 32}
CONFIG=${CONFIG:-configs/ftp_pose/posetrack18/ftp-pose_vit-base_8xb32-20e_posetrack18-256x192.py}
TINY=configs/ftp_pose/synthetic/ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py
EPOCHS=${EPOCHS:-2}
mkdir -p "$OUT"
step() { echo "[gpu_check $(date +%H:%M:%S)] $*"; }

step "installing $(ls "$WH"/*.whl | wc -l) wheels from $WH into $SITE (offline)"
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WH"/*.whl
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# from / so that the installed mgpose_mm is imported, not the checkout's
(cd / && "$PY" - <<'PY') | tee "$OUT/versions.txt"
import torch, mmcv, mmengine, mmpose, mgpose_mm
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
print(f'torch {torch.__version__}, mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, '
      f'mmpose {mmpose.__version__}, mgpose_mm {mgpose_mm.__version__} ({mgpose_mm.__file__}); {gpu}')
PY

step "benchmark: $CONFIG, batches $BATCHES, $DEVICE ${AMP:-fp32}"
# shellcheck disable=SC2086
"$PY" tools/analysis_tools/benchmark.py "$CONFIG" --device "$DEVICE" $AMP --batch-sizes $BATCHES \
  --eps 0 --peers vitpose_b --repeats "${REPEATS:-20}" --warmup "${WARMUP:-5}" --memory inline \
  --work-dir "$OUT/benchmark" 2>&1 | tee "$OUT/benchmark.log"

step "training: $EPOCHS epochs of the tiny config on synthetic videos, then its validation ($DEVICE ${AMP:-fp32})"
# the config's own data folder (data/synthetic_posetrack, git-ignored)
"$PY" tools/dataset_converters/make_synthetic_posetrack.py --out-dir data/synthetic_posetrack \
  --num-train-videos 8 --num-val-videos 2 --overwrite
# shellcheck disable=SC2086
"$PY" tools/train.py "$TINY" --work-dir "$OUT/train" $AMP \
  --cfg-options train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval="$EPOCHS" \
  default_hooks.logger.interval=5 2>&1 | tee "$OUT/train.log"

step "summary -> $OUT/gpu_check.md"
{
  echo "# GPU check ($(date -u +%Y-%m-%d), $(cat "$OUT/versions.txt"))"
  echo
  echo "## Benchmark (median of ${REPEATS:-20} rounds, one process)"
  echo
  cat "$OUT/benchmark/benchmark.md"
  echo
  echo "## Training ($EPOCHS epochs of the tiny config on 8 synthetic videos, then validation)"
  echo
  echo '```'
  grep -E "Epoch\(train\)|Epoch\(val\).*posetrack" "$OUT/train.log" | sed 's/^.* - mmengine - INFO - //'
  echo '```'
} > "$OUT/gpu_check.md"
cat "$OUT/gpu_check.md"
