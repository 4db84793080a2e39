# Sweep point of the tiny default: 50 % of the supporting-frame
# tokens removed (and merged) right after the patch embedding.
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(prune_ratio=0.5)))
