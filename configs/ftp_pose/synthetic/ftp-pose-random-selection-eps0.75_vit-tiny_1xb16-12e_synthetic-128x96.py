# Random-selection control at epsilon 0.75 (the ratio where the choice of
# tokens matters most).
_base_ = ['./ftp-pose-full-key-frame_vit-tiny_1xb16-12e_synthetic-128x96.py']

model = dict(backbone=dict(pruner=dict(prune_ratio=0.75, selector='random')))
