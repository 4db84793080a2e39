# Tiny default with key-anchored DPC scores: the key frame's tokens count as
# the densest, so supporting tokens that repeat the key frame are removed
# first (an alternative selector; configs/ftp_pose/README.md, deep pruning).
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(selector='dpc-anchored')))
