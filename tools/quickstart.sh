#!/usr/bin/env bash
# The README's first command: from a fresh clone to a trained, evaluated FTP-Pose, an annotated
# video and the pruned-vs-unpruned speed table, on CPU (~10 min on 2 cores after the first install).
#
#   bash tools/quickstart.sh            # everything goes to work_dirs/quickstart/
#   EPOCHS=4 bash tools/quickstart.sh   # shorter training
#
# Reproducible: the config fixes the seed (randomness.seed=0; SEED=N picks another). Smaller runs
# (what tests/test_docs.py does): INSTALL=0 skips the set-up, NUM_TRAIN_VIDEOS, VIDEO_ARGS (more
# options of the video generator), TRAIN_ARGS / TEST_ARGS (more --cfg-options pairs) and
# BENCHMARK_ARGS (more benchmark options) shrink the steps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
CFG=configs/ftp_pose/synthetic/ftp-pose_vit-tiny_1xb16-12e_synthetic-128x96.py
DATA=data/synthetic_posetrack
WORK=${WORK_DIR:-work_dirs/quickstart}
EPOCHS=${EPOCHS:-12}
SEED=${SEED:-0}
NUM_TRAIN_VIDEOS=${NUM_TRAIN_VIDEOS:-24}
read -r -a VIDEO_ARGS <<< "${VIDEO_ARGS:-}"
read -r -a TRAIN_ARGS <<< "${TRAIN_ARGS:-}"
read -r -a TEST_ARGS <<< "${TEST_ARGS:-}"
read -r -a BENCHMARK_ARGS <<< "${BENCHMARK_ARGS:-}"
step() { echo; echo "==== [quickstart $(date +%H:%M:%S)] $*"; }

step "1/6 set-up"
if [ "${INSTALL:-1}" = 1 ]; then bash tools/install.sh; else echo "skipped (INSTALL=0)"; fi

step "2/6 synthetic PoseTrack18-format videos -> $DATA"
"$PY" tools/dataset_converters/make_synthetic_posetrack.py --out-dir "$DATA" --num-train-videos "$NUM_TRAIN_VIDEOS" \
  --overwrite ${VIDEO_ARGS[@]+"${VIDEO_ARGS[@]}"}

step "3/6 train the tiny FTP-Pose ($EPOCHS epochs, CPU) -> $WORK"
"$PY" tools/train.py "$CFG" --work-dir "$WORK" \
  --cfg-options train_cfg.max_epochs="$EPOCHS" param_scheduler.1.end="$EPOCHS" param_scheduler.1.T_max="$EPOCHS" \
  randomness.seed="$SEED" ${TRAIN_ARGS[@]+"${TRAIN_ARGS[@]}"}
CKPT="$WORK/epoch_$EPOCHS.pth"

step "4/6 evaluate (PoseTrack AP, detected boxes) -> $WORK/test"
"$PY" tools/test.py "$CFG" "$CKPT" --work-dir "$WORK/test" --out "$WORK/test/metrics.json" \
  ${TEST_ARGS[@]+--cfg-options "${TEST_ARGS[@]}"}
"$PY" tools/misc/print_posetrack_table.py "$WORK/test/metrics.json"

step "5/6 video demo on a validation video (boxes from the detection-results file) -> $WORK/demo"
VIDEO_DIR=$(ls -d "$DATA"/images/val/*/ | head -n 1)
"$PY" demo/inferencer_demo.py "$VIDEO_DIR" --pose2d "$CFG" --pose2d-weights "$CKPT" \
  --det-results "$DATA/annotations/posetrack18_val_human_detections.json" \
  --vis-out-dir "$WORK/demo" --pred-out-dir "$WORK/demo"

step "6/6 speed: pruned vs unpruned (same process, CPU) -> $WORK/benchmark"
"$PY" tools/analysis_tools/benchmark.py "$CFG" --device cpu --batch-sizes 1 32 --work-dir "$WORK/benchmark" \
  ${BENCHMARK_ARGS[@]+"${BENCHMARK_ARGS[@]}"}

step "done: checkpoint $CKPT, metrics $WORK/test/metrics.json, demo $WORK/demo, benchmark $WORK/benchmark"
